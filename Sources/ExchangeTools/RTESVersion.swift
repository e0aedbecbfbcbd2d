/// The one version string every RTES executable prints for `--version`: set here by hand
/// when a release is cut, nowhere else (no build-time lookup, no network). The minor number
/// follows the issue the tree was last released at.
public enum RTESVersion {
    public static let current = "0.10.0-dev"
}
