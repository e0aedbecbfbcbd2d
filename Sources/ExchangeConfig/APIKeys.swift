import ExchangeCore
import ExchangeRisk

/// The trading accounts allowed to log in to the order gateway, read from the file named by
/// `RTES_API_KEYS_FILE` (never from the configuration file):
///
/// ```json
/// { "accounts": [
///     { "username": "ALICE", "secret": "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0$…", "firm": "ALCE" },
///     { "username": "BOB", "password": "hunter22", "firm": "BOBS", "firms": ["BOB2"],
///       "max_order_size": 5000, "max_notional": 250000, "max_orders_per_second": 100,
///       "cancel_on_disconnect": true, "drop_copy": true } ] }
/// ```
///
/// `username` is the SoupBinTCP Login Request's 6-character field (matched exactly, after the
/// wire's trailing spaces are removed). Each account has exactly one of `secret`, a scrypt
/// hash of the Login Request's 10-character password (`ScryptHash`; `rtes-keys hash` makes
/// one), and `password`, the password in plain text — development only: `load(path:
/// allowPlainPasswords:)` refuses it unless `auth.allow_unhashed_accounts` is true.
/// `firm` is put on orders whose Firm field is blank; an order may name it or one of the
/// optional `firms` (at most `maximumExtraFirms`), and any other Firm is rejected. The optional limits replace the
/// configuration's `risk` limits for that account (each may only be tighter or looser as the
/// operator sees fit); `cancel_on_disconnect` cancels the account's resting orders when its
/// connection ends for any reason, Logout included. `drop_copy` (default false) entitles the
/// account to log on to the FIX drop-copy port (`fix.drop_copy_port`) and receive an
/// ExecutionReport for every order event of every account of its `firm` (docs/FIX.md, "Drop
/// copy"). An account's client ID is its position in the file.
///
/// Problems are reported all at once, each with its path; passwords and hashes never appear
/// in them, not even when the file is not valid JSON (`APIKeys+Redaction.swift`).
public struct APIKeys: Sendable, Equatable {
    public struct Account: Sendable, Equatable, CustomStringConvertible {
        public var username: String
        /// The scrypt hash or (development) plain password: printing an account never shows it.
        public var credential: Credential
        public var firm: Firm
        public var maxOrderSize: Shares?
        public var maxNotional: Notional?
        public var maxOrdersPerSecond: UInt32?
        public var cancelOnDisconnect: Bool
        /// Firms the account may name on an order besides `firm` (always allowed).
        public var firms: [Firm]
        /// May log on to the drop-copy port and receive its firm's ExecutionReports.
        public var dropCopy = false

        public init(username: String, credential: Credential, firm: Firm, maxOrderSize: Shares? = nil, maxNotional: Notional? = nil,
                    maxOrdersPerSecond: UInt32? = nil, cancelOnDisconnect: Bool = false, firms: [Firm] = []) {
            self.username = username
            self.credential = credential
            self.firm = firm
            self.maxOrderSize = maxOrderSize
            self.maxNotional = maxNotional
            self.maxOrdersPerSecond = maxOrdersPerSecond
            self.cancelOnDisconnect = cancelOnDisconnect
            self.firms = firms
        }

        /// Whether an order of this account may name `firm`.
        public func mayUse(_ firm: Firm) -> Bool { firm == self.firm || firms.contains(firm) }

        /// The account's risk limits: its own where it has them, the configuration's otherwise.
        public func limits(defaults: RiskLimits) -> RiskLimits {
            RiskLimits(
                maxOrderShares: maxOrderSize ?? defaults.maxOrderShares,
                maxOpenNotional: maxNotional ?? defaults.maxOpenNotional,
                maxOrdersPerSecond: maxOrdersPerSecond ?? defaults.maxOrdersPerSecond,
                priceCollarsEnabled: defaults.priceCollarsEnabled)
        }

        public var description: String { "\(username) (firm \(firm))" }

        public static func == (a: Account, b: Account) -> Bool {
            a.username == b.username && a.credential == b.credential && a.firm == b.firm
                && a.maxOrderSize == b.maxOrderSize && a.maxNotional == b.maxNotional
                && a.maxOrdersPerSecond == b.maxOrdersPerSecond && a.cancelOnDisconnect == b.cancelOnDisconnect
                && a.firms == b.firms && a.dropCopy == b.dropCopy
        }
    }

    /// Someone who may act on the admin plane (`operators` in the keys file): a username, a
    /// credential like an account's, and a role.
    public struct Operator: Sendable, Equatable, CustomStringConvertible {
        public enum Role: String, Sendable, CaseIterable {
            /// May read what anyone may read (the plane's GET paths need no credential).
            case readOnly = "read_only"
            /// May also halt and resume symbols and the market.
            case `operator`
            /// Every action.
            case admin

            public var mayHalt: Bool { self != .readOnly }
        }

        public var username: String
        public var credential: Credential
        public var role: Role

        public init(username: String, credential: Credential, role: Role) {
            self.username = username
            self.credential = credential
            self.role = role
        }

        public var description: String { "\(username) (\(role.rawValue))" }
    }

    /// In file order: account `i` trades as client ID `i`.
    public var accounts: [Account]
    /// Who may act on the admin plane; none: it takes no actions.
    public var operators: [Operator] = []

    public init(accounts: [Account], operators: [Operator] = []) {
        self.accounts = accounts
        self.operators = operators
    }

    public static let maximumOperators = 256

    public static let maximumAccounts = 65_536
    /// The most firms an account may list in `firms`.
    public static let maximumExtraFirms = 8

    /// Validates API keys JSON; `source` names it in issues.
    public static func parse(json: String, source: String) throws(ConfigurationError) -> APIKeys {
        try parse(bytes: Array(json.utf8), source: source)
    }

    /// Validates API keys bytes; a problem's message never holds a secret of the file.
    static func parse(bytes: [UInt8], source: String) throws(ConfigurationError) -> APIKeys {
        do {
            return try parseUnredacted(bytes: bytes, source: source)
        } catch {
            throw error.redacting(secretsIn: bytes)
        }
    }

    private static func parseUnredacted(bytes: [UInt8], source: String) throws(ConfigurationError) -> APIKeys {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes, source: .file(source))
        } catch {
            throw ConfigurationError(issues: [ConfigurationIssue(path: "", location: error.location, message: "not valid JSON: \(error.message)")])
        }
        var reader = Reader()
        reader.issues = DocumentAudit.issues(in: root, secrets: false)  // duplicate keys, at any depth
        let accounts = reader.accounts(in: root)
        let operators = reader.operators(in: root)
        guard reader.issues.isEmpty, let accounts, let operators else { throw ConfigurationError(issues: reader.issues) }
        return APIKeys(accounts: accounts, operators: operators)
    }

    /// The validation, collecting every issue.
    private struct Reader {
        var issues: [ConfigurationIssue] = []
        static let example = #"{"accounts": [{"username": "ALICE", "secret": "$scrypt$ln=15,r=8,p=1$SALT$HASH", "firm": "ALCE"}]}"#
        static let keys = ["username", "secret", "password", "firm", "max_order_size", "max_notional", "max_orders_per_second", "cancel_on_disconnect", "firms", "drop_copy"]

        mutating func issue(_ path: String, _ location: SourceLocation?, _ message: String) {
            issues.append(ConfigurationIssue(path: path, location: location, message: message))
        }

        mutating func accounts(in root: JSONValue) -> [Account]? {
            guard let object = root.object else {
                issue("", root.location, "the API keys file must be a JSON object such as \(Self.example); found \(root.summary)")
                return nil
            }
            for member in object.members where member.key != "accounts" && member.key != "operators" {
                issue(member.key, member.keyLocation, "unknown key; the API keys file holds \"accounts\" and, optionally, \"operators\"")
            }
            guard let list = object["accounts"] else {
                issue("accounts", root.location, "is required: list the trading accounts, e.g. \(Self.example)")
                return nil
            }
            guard case .array(let elements) = list.kind, !elements.isEmpty else {
                issue("accounts", list.location, "must be a non-empty array of accounts such as \(Self.example); found \(list.summary)")
                return nil
            }
            if elements.count > APIKeys.maximumAccounts {
                issue("accounts", list.location, "lists \(elements.count) accounts; at most \(APIKeys.maximumAccounts) are allowed")
                return nil
            }
            var result: [Account] = []
            var firstByName: [String: Int] = [:]
            var duplicated = false
            for (index, element) in elements.enumerated() {
                let path = "accounts[\(index)]"
                let account = self.account(element, path: path)
                guard let nameValue = element.object?["username"], case .string(let name) = nameValue.kind else { continue }
                if let first = firstByName[name] {
                    issue(path + ".username", nameValue.location,
                          "\(quoted(name)) is already the username of accounts[\(first)]; usernames must be unique")
                    duplicated = true
                    continue
                }
                firstByName[name] = index
                if let account { result.append(account) }
            }
            if duplicated { return nil }
            return result.count == elements.count ? result : nil
        }

        static let operatorKeys = ["username", "secret", "password", "role"]

        /// The optional `operators` list; nil after an issue.
        mutating func operators(in root: JSONValue) -> [Operator]? {
            guard let list = root.object?["operators"] else { return [] }
            let example = #"{"username": "ops1", "secret": "$scrypt$…", "role": "operator"}"#
            guard case .array(let elements) = list.kind else {
                issue("operators", list.location, "must be an array of operators such as [\(example)]; found \(list.summary.redactingStrings)")
                return nil
            }
            if elements.count > APIKeys.maximumOperators {
                issue("operators", list.location, "lists \(elements.count) operators; at most \(APIKeys.maximumOperators) are allowed")
                return nil
            }
            var result: [Operator] = []
            var firstByName: [String: Int] = [:]
            for (index, element) in elements.enumerated() {
                let path = "operators[\(index)]"
                guard let object = element.object else {
                    issue(path, element.location, "must be an object such as \(example); found \(element.summary.redactingStrings)")
                    continue
                }
                for member in object.members where !Self.operatorKeys.contains(member.key) {
                    issue(path + "." + member.key, member.keyLocation, "unknown key; an operator has \(Self.operatorKeys.joined(separator: ", "))")
                }
                let username = string(object, "username", path: path, required: true,
                                      allowed: "1 to 32 letters, digits, '_', '-' or '.'") { name in
                    (1...32).contains(name.utf8.count)
                        && name.utf8.allSatisfy { isLetterOrDigit($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
                }
                let credential = self.credential(object, path: path)
                let roles = Operator.Role.allCases.map(\.rawValue)
                let roleText = string(object, "role", path: path, required: true,
                                      allowed: "one of " + roles.map { quoted($0) }.joined(separator: ", ")) { roles.contains($0) }
                if let username, let nameValue = object["username"] {
                    if let first = firstByName[username] {
                        issue(path + ".username", nameValue.location, "\(quoted(username)) is already the username of operators[\(first)]; usernames must be unique")
                        continue
                    }
                    firstByName[username] = index
                }
                guard let username, let credential, let roleText, let role = Operator.Role(rawValue: roleText) else { continue }
                result.append(Operator(username: username, credential: credential, role: role))
            }
            return result.count == elements.count ? result : nil
        }

        mutating func account(_ element: JSONValue, path: String) -> Account? {
            guard let object = element.object else {
                issue(path, element.location, "must be an object such as \(#"{"username": "ALICE", "secret": "$scrypt$…", "firm": "ALCE"}"#); found \(element.summary.redactingStrings)")
                return nil
            }
            for member in object.members where !Self.keys.contains(member.key) {
                issue(path + "." + member.key, member.keyLocation, "unknown key; an account has \(Self.keys.joined(separator: ", "))")
            }
            let username = string(object, "username", path: path, required: true,
                                  allowed: "1 to 6 letters or digits (the SoupBinTCP Username field)") { name in
                (1...6).contains(name.utf8.count) && name.utf8.allSatisfy(isLetterOrDigit)
            }
            let credential = self.credential(object, path: path)
            let firmText = string(object, "firm", path: path, required: true,
                                  allowed: "1 to 4 upper-case letters or digits (the OUCH Firm field)", isValid: isFirm)
            let firms = extraFirms(object, path: path, defaultFirm: firmText)
            let maxOrderSize = whole(object, "max_order_size", path: path, 1...UInt64(UInt32.max))
            let maxNotional = dollars(object, "max_notional", path: path)
            let maxRate = whole(object, "max_orders_per_second", path: path, 1...UInt64(UInt32.max))
            var cancelOnDisconnect = false
            if let value = object["cancel_on_disconnect"] {
                if case .bool(let flag) = value.kind { cancelOnDisconnect = flag } else {
                    issue(path + ".cancel_on_disconnect", value.location, "must be true or false; found \(value.summary)")
                }
            }
            var dropCopy = false
            if let value = object["drop_copy"] {
                if case .bool(let flag) = value.kind { dropCopy = flag } else {
                    issue(path + ".drop_copy", value.location, "must be true or false (may log on to the FIX drop copy); found \(value.summary)")
                }
            }
            guard let username, let credential, let firmText, let firm = Firm(firmText), let firms else { return nil }
            var account = Account(username: username, credential: credential, firm: firm, maxOrderSize: maxOrderSize.map { Shares($0) },
                                  maxNotional: maxNotional, maxOrdersPerSecond: maxRate.map { UInt32($0) },
                                  cancelOnDisconnect: cancelOnDisconnect, firms: firms)
            account.dropCopy = dropCopy
            return account
        }

        /// The optional `firms` list: distinct firms other than the default, at most
        /// `maximumExtraFirms`. Nil after an issue.
        mutating func extraFirms(_ object: JSONObject, path: String, defaultFirm: String?) -> [Firm]? {
            guard let value = object["firms"] else { return [] }
            let field = path + ".firms"
            let allowed = "an array of at most \(APIKeys.maximumExtraFirms) firms (1 to 4 upper-case letters or digits each) " +
                "the account may name on orders besides its \"firm\""
            guard case .array(let elements) = value.kind else {
                issue(field, value.location, "must be \(allowed); found \(value.summary)")
                return nil
            }
            guard elements.count <= APIKeys.maximumExtraFirms else {
                issue(field, value.location, "lists \(elements.count) firms; at most \(APIKeys.maximumExtraFirms) are allowed")
                return nil
            }
            var firms: [Firm] = []
            var firstIndex: [String: Int] = [:]
            var valid = true
            for (index, element) in elements.enumerated() {
                let elementPath = "\(field)[\(index)]"
                guard case .string(let text) = element.kind, isFirm(text), let firm = Firm(text) else {
                    issue(elementPath, element.location, "must be 1 to 4 upper-case letters or digits (the OUCH Firm field); found \(element.summary)")
                    valid = false
                    continue
                }
                if text == defaultFirm {
                    issue(elementPath, element.location, "\(quoted(text)) is the account's \"firm\", which is always allowed; list only other firms")
                    valid = false
                } else if let first = firstIndex[text] {
                    issue(elementPath, element.location, "\(quoted(text)) is already \(field)[\(first)]; list each firm once")
                    valid = false
                }
                if firstIndex[text] == nil { firstIndex[text] = index }
                firms.append(firm)
            }
            return valid ? firms : nil
        }

        mutating func string(_ object: JSONObject, _ key: String, path: String, required: Bool, allowed: String,
                             isValid: (String) -> Bool) -> String? {
            guard let value = object[key] else {
                if required { issue(path + "." + key, nil, "is required and missing: \(allowed)") }
                return nil
            }
            guard case .string(let text) = value.kind, isValid(text) else {
                issue(path + "." + key, value.location, "must be \(allowed); found \(value.summary)")
                return nil
            }
            return text
        }

        /// `secret` (a scrypt hash) or `password` (plain text), exactly one of them.
        mutating func credential(_ object: JSONObject, path: String) -> Credential? {
            switch (object["secret"], object["password"]) {
            case (nil, nil):
                issue(path + ".secret", nil, "is required and missing: a scrypt hash \(ScryptHash.form)")
                return nil
            case (.some, .some):
                issue(path + ".password", object["password"]?.location, "an account has either secret (a scrypt hash) or password (plain text, development only), not both")
                return nil
            case (let value?, nil):
                return scryptHash(value, field: path + ".secret").map { .scrypt($0) }
            case (nil, .some):
                return secretString(object, path: path).map { .plain($0) }
            }
        }

        /// A `secret`: checked like any field, but its value is never quoted back.
        mutating func scryptHash(_ value: JSONValue, field: String) -> ScryptHash? {
            guard case .string(let text) = value.kind else {
                issue(field, value.location, "must be a string \(ScryptHash.form); found \(value.kindName) (value not shown)")
                return nil
            }
            do {
                return try ScryptHash.parse(text)
            } catch {
                issue(field, value.location, "\(error) (value not shown)")
                return nil
            }
        }

        /// The password: checked like any field, but its value is never quoted back.
        mutating func secretString(_ object: JSONObject, path: String) -> Secret? {
            let field = path + ".password"
            let allowed = "1 to 10 printable ASCII characters without spaces (the SoupBinTCP Password field)"
            guard let value = object["password"] else {
                issue(field, nil, "is required and missing: \(allowed)")
                return nil
            }
            guard case .string(let text) = value.kind else {
                issue(field, value.location, "must be a string of \(allowed); found \(value.kindName) (value not shown)")
                return nil
            }
            guard (1...10).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                issue(field, value.location, "must be \(allowed); found \(text.unicodeScalars.count) characters (value not shown)")
                return nil
            }
            return Secret(text)
        }

        mutating func whole(_ object: JSONObject, _ key: String, path: String, _ range: ClosedRange<UInt64>) -> UInt64? {
            guard let value = object[key] else { return nil }
            guard case .number(let literal) = value.kind, let number = ExactDecimal(literal: literal),
                  case .success(let whole) = number.scaled(by: 0), range.contains(whole) else {
                issue(path + "." + key, value.location, "must be a whole number from \(range.lowerBound) to \(range.upperBound); found \(value.summary)")
                return nil
            }
            return whole
        }

        mutating func dollars(_ object: JSONObject, _ key: String, path: String) -> Notional? {
            guard let value = object[key] else { return nil }
            guard case .number(let literal) = value.kind, let number = ExactDecimal(literal: literal),
                  case .success(let units) = number.scaled(by: 4), units > 0 else {
                issue(path + "." + key, value.location, "must be a dollar amount greater than 0 with at most 4 decimals; found \(value.summary)")
                return nil
            }
            return Notional(units)
        }
    }
}

/// 1 to 4 upper-case letters or digits: an OUCH Firm.
private func isFirm(_ text: String) -> Bool {
    (1...4).contains(text.utf8.count) && text.utf8.allSatisfy { isLetterOrDigit($0) && !($0 >= 0x61 && $0 <= 0x7A) }
}

extension JSONValue {
    /// What kind of value this is, never the value.
    var kindName: String {
        switch kind {
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        case .string: "a string"
        }
    }
}

extension String {
    /// A value summary with any quoted string replaced by "a string" (for values of the
    /// API keys file that could be a misplaced secret).
    var redactingStrings: String { hasPrefix("string ") ? "a string (value not shown)" : self }
}

private func isLetterOrDigit(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
}
