#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Reading the API keys file named by RTES_API_KEYS_FILE: who may write it, and whether its
// plain-text passwords may be used.
extension APIKeys {
    /// Reads and validates the file at `path`.
    ///
    /// - The file is refused when its group or others may write it (anyone who can write it
    ///   can add an account), and read with a warning when others may read it.
    /// - Plain `password` entries are read only when `allowPlainPasswords` (the
    ///   configuration's `auth.allow_unhashed_accounts`, true in the development profile) is
    ///   true, each with a warning; otherwise each is an error naming the fix, `rtes-keys hash`.
    ///
    /// Returns the keys and the warnings; throws every problem at once.
    public static func load(path: String, allowPlainPasswords: Bool) throws(ConfigurationError)
        -> (keys: APIKeys, warnings: [ConfigurationIssue]) {
        var warnings: [ConfigurationIssue] = []
        if let mode = fileMode(path) {
            if mode & 0o022 != 0 {
                throw ConfigurationError(issues: [ConfigurationIssue(
                    path: "", location: nil,
                    message: "the API keys file \(quoted(path)) may be written by \(mode & 0o002 != 0 ? "anyone" : "its group") (mode \(octal(mode))), so anyone who can write it can add an account; run chmod go-w on it")])
            }
            if mode & 0o004 != 0 {
                warnings.append(ConfigurationIssue(
                    path: "", location: nil,
                    message: "the API keys file \(quoted(path)) may be read by anyone (mode \(octal(mode))); run chmod o-r on it"))
            }
        }
        let keys: APIKeys
        switch ConfigurationLoader.readFile(path, describedAs: "API keys file") {
        case .success(let bytes): keys = try parse(bytes: bytes, source: path)
        case .failure(let issue): throw ConfigurationError(issues: [issue])
        }
        var refused: [ConfigurationIssue] = []
        /// A plain-text password: a warning where development allows it, else refused.
        func plainText(_ field: String, _ who: String) {
            let issue = ConfigurationIssue(
                path: field, location: nil,
                message: "\(quoted(path)): " + (allowPlainPasswords
                    ? "\(who)'s password is in plain text (allowed because auth.allow_unhashed_accounts is true; use a hashed \"secret\" from `rtes-keys hash` outside development)"
                    : "\(who)'s password is in plain text, which only development allows (auth.allow_unhashed_accounts); replace it with \"secret\": the output of `rtes-keys hash`"))
            if allowPlainPasswords { warnings.append(issue) } else { refused.append(issue) }
        }
        for (index, account) in keys.accounts.enumerated() where account.credential.isPlain {
            plainText("accounts[\(index)].password", account.username)
        }
        for (index, person) in keys.operators.enumerated() where person.credential.isPlain {
            plainText("operators[\(index)].password", "operator \(person.username)")
        }
        guard refused.isEmpty else { throw ConfigurationError(issues: refused) }
        return (keys, warnings)
    }

    /// The permission bits of `path`, nil when it cannot be looked at (reading it then says why).
    static func fileMode(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o777
    }

    private static func octal(_ mode: UInt32) -> String {
        "0" + String(mode, radix: 8)
    }
}
