/// Binds client certificates to accounts under mutual TLS: a verified certificate's subject
/// commonName names the one account it may log in as. By default the CN is the account's
/// username (the development certificates are made that way); `bindings` maps other CNs.
/// A certificate whose CN maps to no known account logs in as nobody.
public struct ClientCertificateAccounts: Sendable {
    private let accountByCommonName: [String: String]

    /// `usernames`: the accounts of the keys file; `bindings`: CN → username for
    /// certificates whose CN is not the username itself.
    public init(usernames: some Sequence<String>, bindings: [String: String] = [:]) {
        var map: [String: String] = [:]
        for name in usernames { map[name] = name }
        let known = Set(map.keys)
        for (commonName, username) in bindings where known.contains(username) { map[commonName] = username }
        accountByCommonName = map
    }

    /// The account a certificate with this CN may log in as, or nil.
    public func account(forCommonName commonName: String) -> String? { accountByCommonName[commonName] }

    /// Whether a connection whose certificate has `commonName` may log in as `username`.
    /// Usernames are compared as SoupBinTCP sends them: trailing spaces removed.
    public func permits(commonName: String?, username: String) -> Bool {
        guard let commonName, let account = accountByCommonName[commonName] else { return false }
        var trimmed = Substring(username)
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return account == trimmed
    }
}
