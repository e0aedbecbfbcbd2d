/// How an account of the API keys file proves who it is: a scrypt hash of its password
/// (`"secret"`, the form every file outside development uses) or, in development only, the
/// password itself (`"password"`). Printing one never shows a password or a hash.
public enum Credential: Sendable, Equatable, CustomStringConvertible {
    /// `"secret": "$scrypt$ln=…,r=…,p=…$SALT$HASH"` (see `ScryptHash`).
    case scrypt(ScryptHash)
    /// `"password": "…"` in plain text: read only where `auth.allow_unhashed_accounts` is true.
    case plain(Secret)

    public var isPlain: Bool {
        if case .plain = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .scrypt(let hash): "\(hash)"
        case .plain: "plain password <redacted>"
        }
    }

    public static func == (a: Credential, b: Credential) -> Bool {
        switch (a, b) {
        case (.scrypt(let x), .scrypt(let y)): x == y
        case (.plain(let x), .plain(let y)): x.reveal() == y.reveal()
        default: false
        }
    }
}
