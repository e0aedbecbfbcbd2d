import ExchangeConfig
import ExchangeCore
import ExchangeWire

/// The accounts that may log in, as the gateway uses them: the default firm and the firms
/// each may name, the session log of each, and which connection (if any) holds each session.
/// Built once at start from the API keys file; account `i` is client ID `i`. Passwords are
/// not here: the authenticator (ExchangeAccess) checks them off the gateway's thread and
/// answers with the account.
struct AccountBook {
    let count: Int
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
    /// Session events owed to the engine (journaling modes; the ring was full when they
    /// happened), one bit per `SessionEventKind` (login 1, logout 2, disconnect 4): sent
    /// lowest bit first, before the cancel-all. A login is refused while anything is owed,
    /// so there is never more than one of each.
    let sessionEventsOwed: UnsafeMutablePointer<UInt8>

    /// The heap `init` allocates for `accounts` accounts (the session logs' memory is the
    /// region's).
    static func heapBytes(accounts: Int) -> Int {
        accounts * (MemoryLayout<Firm>.stride * (1 + firmsPerAccount) + MemoryLayout<Bool>.stride * 2 + MemoryLayout<Int32>.stride
                        + MemoryLayout<SessionLog>.stride + MemoryLayout<Int>.stride + MemoryLayout<UInt8>.stride)
    }

    init(keys: APIKeys, historyMessages: Int, logMemory: UnsafeMutableRawPointer) {
        count = keys.accounts.count
        firms = .allocate(capacity: count)
        allowedFirms = .allocate(capacity: count * Self.firmsPerAccount)
        cancelOnDisconnect = .allocate(capacity: count)
        connections = .allocate(capacity: count)
        connections.initialize(repeating: -1, count: count)
        tokensUsed = .allocate(capacity: count)
        tokensUsed.initialize(repeating: 0, count: count)
        cancelAllPending = .allocate(capacity: count)
        cancelAllPending.initialize(repeating: false, count: count)
        sessionEventsOwed = .allocate(capacity: count)
        sessionEventsOwed.initialize(repeating: 0, count: count)
        logs = .allocate(capacity: count)
        let logBytes = SessionLog.requiredBytes(messages: historyMessages)
        for (i, account) in keys.accounts.enumerated() {
            (firms + i).initialize(to: account.firm)
            let row = allowedFirms + i * Self.firmsPerAccount
            row.initialize(repeating: account.firm, count: Self.firmsPerAccount)
            for (k, extra) in account.firms.prefix(APIKeys.maximumExtraFirms).enumerated() { row[1 + k] = extra }
            (cancelOnDisconnect + i).initialize(to: account.cancelOnDisconnect)
            (logs + i).initialize(to: SessionLog(messages: historyMessages, memory: logMemory + i * logBytes))
        }
    }

    static func logMemoryBytes(accounts: Int, historyMessages: Int) -> Int {
        accounts * SessionLog.requiredBytes(messages: historyMessages)
    }

    func deallocate() {
        firms.deallocate()
        allowedFirms.deallocate()
        cancelOnDisconnect.deallocate()
        connections.deallocate()
        cancelAllPending.deallocate()
        sessionEventsOwed.deallocate()
        tokensUsed.deallocate()
        logs.deallocate()
    }

    static let firmsPerAccount = 1 + APIKeys.maximumExtraFirms

    /// Whether `account` still owes the engine a session event or a cancel-all.
    @inline(__always)
    func owes(_ account: Int) -> Bool { cancelAllPending[account] || sessionEventsOwed[account] != 0 }

    /// Whether `account` may name `firm` on an order (no allocation: one row of compares).
    @inline(__always)
    func mayUse(_ firm: Firm, account: Int) -> Bool {
        let row = allowedFirms + account * Self.firmsPerAccount
        var allowed = false
        for k in 0..<Self.firmsPerAccount { allowed = allowed || row[k] == firm }
        return allowed
    }
}
