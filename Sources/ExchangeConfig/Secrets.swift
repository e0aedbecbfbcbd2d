/// Secrets come only from the environment, never from the configuration file. Today the
/// exchange reads one: where the API keys file is. (Add a variable here only together with
/// the code that reads it: `--help` and the documentation list exactly these.)
public struct Secrets: Sendable, CustomStringConvertible {
    /// `RTES_API_KEYS_FILE`: path of the file listing the accounts that may log in.
    public var apiKeysFile: Secret?

    public init(apiKeysFile: Secret? = nil) {
        self.apiKeysFile = apiKeysFile
    }

    /// The variable that names the API keys file.
    public static let apiKeysFileVariable = "RTES_API_KEYS_FILE"

    /// The environment variables that carry secrets, the file keys they are refused as,
    /// and what they hold.
    static let variables: [(name: String, fileKey: String, meaning: String)] = [
        (apiKeysFileVariable, "api_keys_file", "path of the file listing the accounts that may log in (the API keys file)"),
    ]

    /// Reads every secret variable; an empty one is treated as unset, with a warning.
    static func from(environment: [String: String]) -> (secrets: Secrets, warnings: [ConfigurationIssue]) {
        var warnings: [ConfigurationIssue] = []
        func secret(_ name: String) -> Secret? {
            guard let value = environment[name] else { return nil }
            if value.isEmpty {
                warnings.append(ConfigurationIssue(path: "", location: .environment(name), message: "is set but empty; treated as not set"))
                return nil
            }
            return Secret(value)
        }
        return (Secrets(apiKeysFile: secret(apiKeysFileVariable)), warnings)
    }

    /// Which secrets are set, never their values.
    public var description: String {
        "Secrets(apiKeysFile: \(apiKeysFile == nil ? "not set" : "set"))"
    }
}
