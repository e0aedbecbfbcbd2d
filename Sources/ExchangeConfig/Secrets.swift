/// Secrets come only from the environment, never from the configuration file.
public struct Secrets: Sendable, CustomStringConvertible {
    /// `RTES_HMAC_KEY`: key that authenticates client sessions.
    public var hmacKey: Secret?
    /// `RTES_API_KEYS_FILE`: path of the file listing API keys.
    public var apiKeysFile: Secret?
    /// `RTES_TLS_CERT`: the server's TLS certificate (path or PEM).
    public var tlsCert: Secret?
    /// `RTES_TLS_KEY`: the server's TLS private key (path or PEM).
    public var tlsKey: Secret?
    /// `RTES_CA_CERT`: the CA certificate clients are verified against (path or PEM).
    public var caCert: Secret?

    public init(hmacKey: Secret? = nil, apiKeysFile: Secret? = nil, tlsCert: Secret? = nil, tlsKey: Secret? = nil, caCert: Secret? = nil) {
        self.hmacKey = hmacKey
        self.apiKeysFile = apiKeysFile
        self.tlsCert = tlsCert
        self.tlsKey = tlsKey
        self.caCert = caCert
    }

    /// The environment variables that carry secrets, the file keys they are refused as,
    /// and what they hold.
    static let variables: [(name: String, fileKey: String, meaning: String)] = [
        ("RTES_HMAC_KEY", "hmac_key", "key that authenticates client sessions"),
        ("RTES_API_KEYS_FILE", "api_keys_file", "path of the file listing API keys"),
        ("RTES_TLS_CERT", "tls_cert", "the server's TLS certificate (path or PEM)"),
        ("RTES_TLS_KEY", "tls_key", "the server's TLS private key (path or PEM)"),
        ("RTES_CA_CERT", "ca_cert", "CA certificate that client certificates are verified against (path or PEM)"),
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
        let secrets = Secrets(
            hmacKey: secret("RTES_HMAC_KEY"), apiKeysFile: secret("RTES_API_KEYS_FILE"),
            tlsCert: secret("RTES_TLS_CERT"), tlsKey: secret("RTES_TLS_KEY"), caCert: secret("RTES_CA_CERT"))
        return (secrets, warnings)
    }

    /// Which secrets are set, never their values.
    public var description: String {
        let fields = [("hmacKey", hmacKey), ("apiKeysFile", apiKeysFile), ("tlsCert", tlsCert), ("tlsKey", tlsKey), ("caCert", caCert)]
        return "Secrets(" + fields.map { "\($0.0): \($0.1 == nil ? "not set" : "set")" }.joined(separator: ", ") + ")"
    }
}
