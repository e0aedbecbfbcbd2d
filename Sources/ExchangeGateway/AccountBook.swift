import ExchangeConfig
import ExchangeCore
import ExchangeWire

/// The accounts that may log in, as the gateway uses them: fixed-width credentials, the
/// default firm and the firms each may name, the session log of each, and which connection (if any) holds each session.
/// Built once at start from the API keys file; account `i` is client ID `i`.
struct AccountBook {
    let count: Int
    let usernames: UnsafeMutablePointer<SoupUsername>
    let passwords: UnsafeMutablePointer<SoupPassword>
    let firms: UnsafeMutablePointer<Firm>
    /// The firms each account may name on an order, `firmsPerAccount` a row: the default
    /// first, then the keys file's `firms`, the rest of the row repeating the default.
    let allowedFirms: UnsafeMutablePointer<Firm>
    let cancelOnDisconnect: UnsafeMutablePointer<Bool>
    /// The connection slot logged in to each session, -1 for none.
    let connections: UnsafeMutablePointer<Int32>
    let logs: UnsafeMutablePointer<SessionLog>
    /// Tokens the account used today.
    let tokensUsed: UnsafeMutablePointer<Int>
    /// A cancel-all for the account is owed to the engine (the ring was full when it was due).
    let cancelAllPending: UnsafeMutablePointer<Bool>
    /// Username → account, open addressing over `lookupMask + 1` slots (-1 empty).
    let lookup: UnsafeMutablePointer<Int32>
    let lookupMask: Int

    init(keys: APIKeys, historyMessages: Int, logMemory: UnsafeMutableRawPointer) {
        count = keys.accounts.count
        usernames = .allocate(capacity: count)
        passwords = .allocate(capacity: count)
        firms = .allocate(capacity: count)
        allowedFirms = .allocate(capacity: count * Self.firmsPerAccount)
        cancelOnDisconnect = .allocate(capacity: count)
        connections = .allocate(capacity: count)
        connections.initialize(repeating: -1, count: count)
        tokensUsed = .allocate(capacity: count)
        tokensUsed.initialize(repeating: 0, count: count)
        cancelAllPending = .allocate(capacity: count)
        cancelAllPending.initialize(repeating: false, count: count)
        logs = .allocate(capacity: count)
        var slots = 16
        while slots < count * 2 { slots <<= 1 }
        lookupMask = slots - 1
        lookup = .allocate(capacity: slots)
        lookup.initialize(repeating: -1, count: slots)
        let logBytes = SessionLog.requiredBytes(messages: historyMessages)
        for (i, account) in keys.accounts.enumerated() {
            // APIKeys validated both: 1–6 letters or digits, 1–10 printable characters.
            (usernames + i).initialize(to: SoupUsername(account.username)!)
            (passwords + i).initialize(to: SoupPassword(account.password.reveal())!)
            (firms + i).initialize(to: account.firm)
            let row = allowedFirms + i * Self.firmsPerAccount
            row.initialize(repeating: account.firm, count: Self.firmsPerAccount)
            for (k, extra) in account.firms.prefix(APIKeys.maximumExtraFirms).enumerated() { row[1 + k] = extra }
            (cancelOnDisconnect + i).initialize(to: account.cancelOnDisconnect)
            (logs + i).initialize(to: SessionLog(messages: historyMessages, memory: logMemory + i * logBytes))
            var slot = Self.hash(usernames[i].rawValue) & lookupMask
            while lookup[slot] >= 0 { slot = (slot + 1) & lookupMask }
            lookup[slot] = Int32(i)
        }
    }

    static func logMemoryBytes(accounts: Int, historyMessages: Int) -> Int {
        accounts * SessionLog.requiredBytes(messages: historyMessages)
    }

    func deallocate() {
        usernames.deallocate()
        passwords.deallocate()
        firms.deallocate()
        allowedFirms.deallocate()
        cancelOnDisconnect.deallocate()
        connections.deallocate()
        cancelAllPending.deallocate()
        tokensUsed.deallocate()
        logs.deallocate()
        lookup.deallocate()
    }

    /// The account a Login Request names, if its password matches. The password comparison
    /// takes the same time whether or not the username exists (a dummy is compared then).
    func authenticate(_ username: SoupUsername, _ password: SoupPassword) -> Int? {
        var slot = Self.hash(username.rawValue) & lookupMask
        var found = -1
        while true {
            let candidate = Int(lookup[slot])
            if candidate < 0 { break }
            if usernames[candidate].rawValue == username.rawValue {
                found = candidate
                break
            }
            slot = (slot + 1) & lookupMask
        }
        let expected = found >= 0 ? passwords[found] : SoupPassword(high: ~password.high, low: ~password.low)
        let matches = expected.constantTimeEquals(password)
        return found >= 0 && matches ? found : nil
    }

    static let firmsPerAccount = 1 + APIKeys.maximumExtraFirms

    /// Whether `account` may name `firm` on an order (no allocation: one row of compares).
    @inline(__always)
    func mayUse(_ firm: Firm, account: Int) -> Bool {
        let row = allowedFirms + account * Self.firmsPerAccount
        var allowed = false
        for k in 0..<Self.firmsPerAccount { allowed = allowed || row[k] == firm }
        return allowed
    }

    @inline(__always)
    static func hash(_ value: UInt64) -> Int {
        var z = value &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 29
        return Int(truncatingIfNeeded: z)
    }
}
