/// How the journal agent writes segments (the `durability` configuration chooses it).
///
/// - `auto`: O_DIRECT when the journal's filesystem takes it (an aligned write and an
///   fdatasync to a probe file succeed), else buffered writes + fdatasync. A filesystem
///   without direct I/O refuses it at open with EINVAL (ramfs; tmpfs before Linux 6.6 —
///   since 6.6 tmpfs accepts O_DIRECT, and the probe says so).
/// - `direct`: O_DIRECT or refuse to start (a clear error naming the filesystem).
/// - `buffered`: page-cache writes, each batch followed by fdatasync.
public enum JournalIOMode: String, Sendable, CaseIterable {
    case auto
    case direct
    case buffered
}
