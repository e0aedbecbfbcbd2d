import ExchangeCore

/// What the gateway needs to continue a trading day at a journal sequence without replaying
/// what came before: each account's session next sequence number, the tokens each account
/// used today (and how many), and whether the day's end has been routed. Replay of the
/// journal (`GatewayAgent+Replay.swift`) rebuilds exactly this and the session logs' bytes;
/// a day snapshot keeps this and leaves the logs empty (`SessionLog.restart(at:)`): messages
/// before it are the journal's to serve.
///
/// The `gateway` section of a day snapshot (docs/DURABILITY.md, "Day snapshots"), all
/// integers little-endian:
/// ```
/// 0   4  version 2 (1: before FIX sessions were journaled; read with 0 FIX sessions)
/// 4   4  accounts n
/// 8   1  end of day routed (0 or 1), then 3 zero
/// 12  4  FIX sessions bound before the snapshot (version 2)
/// 16  16×n  per account: u64 next sequence, u64 tokens used
/// …   8  tokens t
/// …   24×t  per token, sorted: u32 account, u32 zero, u64 token high, u64 token low
/// ```
public struct GatewayDayState: Equatable, Sendable {
    public struct UsedToken: Hashable, Comparable, Sendable {
        public var account: UInt32
        public var high: UInt64
        public var low: UInt64

        public init(account: UInt32, token: OrderToken) {
            self.account = account
            high = token.high
            low = token.low
        }

        public var token: OrderToken { OrderToken(high: high, low: low) }

        public static func < (a: Self, b: Self) -> Bool { (a.account, a.high, a.low) < (b.account, b.high, b.low) }
    }

    public static let version: UInt32 = 2

    public var nextSequences: [UInt64]
    public var tokensUsed: [UInt64]
    /// Sorted.
    public var tokens: [UsedToken]
    public var endOfDayRouted: Bool
    /// FIX sessions bound today before the snapshot (`FIXSessionFact.bind`; drop copies count
    /// as one). Their state is the snapshot's `fix` section (FIXPort+DayState.swift): recovery
    /// with any restores it, or replays the day from its start when the snapshot has none.
    public var fixSessions: UInt32 = 0

    public init(accounts: Int) {
        nextSequences = Array(repeating: 1, count: accounts)
        tokensUsed = Array(repeating: 0, count: accounts)
        tokens = []
        endOfDayRouted = false
    }

    public init(nextSequences: [UInt64], tokensUsed: [UInt64], tokens: [UsedToken], endOfDayRouted: Bool) {
        self.nextSequences = nextSequences
        self.tokensUsed = tokensUsed
        self.tokens = tokens.sorted()
        self.endOfDayRouted = endOfDayRouted
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24 + 16 * nextSequences.count + 24 * tokens.count)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(Self.version)
        u32(UInt32(nextSequences.count))
        u64((endOfDayRouted ? 1 : 0) | UInt64(fixSessions) << 32)
        for i in 0..<nextSequences.count {
            u64(nextSequences[i])
            u64(tokensUsed[i])
        }
        u64(UInt64(tokens.count))
        for token in tokens {
            u32(token.account)
            u32(0)
            u64(token.high)
            u64(token.low)
        }
        return out
    }

    /// Decodes a `gateway` section; the error says what does not fit.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<GatewayDayState, DayStateError> {
        var at = 0
        func need(_ n: Int) -> Bool { at + n <= bytes.count }
        func u32() -> UInt32 { defer { at += 4 }; return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64() -> UInt64 { defer { at += 8 }; return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard need(16) else { return .failure(DayStateError("gateway section: \(bytes.count) bytes, shorter than its header")) }
        let version = u32()
        guard version == 1 || version == Self.version else { return .failure(DayStateError("gateway section: version \(version), expected \(Self.version)")) }
        let accounts = Int(u32())
        let word = u64()
        let flag = word & 0xFFFF_FFFF
        guard flag <= 1, version == 2 || word >> 32 == 0 else { return .failure(DayStateError("gateway section: end-of-day flag \(flag)")) }
        guard need(16 * accounts + 8) else { return .failure(DayStateError("gateway section: cut short in its \(accounts) accounts")) }
        var state = GatewayDayState(accounts: accounts)
        state.endOfDayRouted = flag == 1
        state.fixSessions = UInt32(truncatingIfNeeded: word >> 32)
        for i in 0..<accounts {
            state.nextSequences[i] = u64()
            state.tokensUsed[i] = u64()
            guard state.nextSequences[i] >= 1 else { return .failure(DayStateError("gateway section: account \(i)'s next sequence is 0")) }
        }
        let count = u64()
        guard count <= UInt64(bytes.count), need(24 * Int(count)) else {
            return .failure(DayStateError("gateway section: \(count) tokens do not fit in \(bytes.count) bytes"))
        }
        guard at + 24 * Int(count) == bytes.count else { return .failure(DayStateError("gateway section: bytes after its last token")) }
        state.tokens.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            let account = u32()
            _ = u32()
            let high = u64()
            let low = u64()
            guard Int(account) < accounts else { return .failure(DayStateError("gateway section: a token of account \(account), of \(accounts)")) }
            state.tokens.append(UsedToken(account: account, token: OrderToken(high: high, low: low)))
        }
        return .success(state)
    }
}

/// A day-state section that does not decode, or does not fit the exchange it is restored into.
public struct DayStateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TokenHistory {
    /// Every (account, token) held, in no order (a snapshot sorts them). Allocates.
    func usedTokens() -> [GatewayDayState.UsedToken] {
        var out: [GatewayDayState.UsedToken] = []
        out.reserveCapacity(count)
        func add(_ key: Key) {
            out.append(GatewayDayState.UsedToken(account: UInt32(key.low & 0xFFFF),
                                                 token: OrderToken(high: key.high, low: key.low & ~0xFFFF)))
        }
        if holdsZeroKey { add(Key(high: 0, low: 0)) }
        for i in 0...mask where !(slots[i].high == 0 && slots[i].low == 0) { add(slots[i]) }
        return out
    }
}

extension GatewayAgent {
    /// The day state this gateway holds now (allocates: for snapshots and checks).
    public func dayState() -> GatewayDayState {
        var state = GatewayDayState(
            nextSequences: (0..<accounts.count).map { accounts.logs[$0].nextSequence },
            tokensUsed: (0..<accounts.count).map { UInt64(accounts.tokensUsed[$0]) },
            tokens: tokens.usedTokens(), endOfDayRouted: endOfDayRouted)
        if journalsSessions { state.fixSessions = UInt32(fix.sessionsBound) }
        // Drop copies count as one, as the snapshot agent's replica counts them (DayReplica).
        if journalsSessions && fix.dropCount > 0 { state.fixSessions = max(state.fixSessions, 1) }
        return state
    }

    /// Puts a snapshot's day state into a gateway that has seen nothing yet (before any
    /// replay and before `onStart`): each session continues at its next sequence with an empty
    /// in-memory history, and the day's tokens stay used. Refuses a state of another number
    /// of accounts (the API keys file changed: the sessions would not match) and one with
    /// more tokens than the history holds; nothing is changed then.
    public mutating func restoreDayState(_ state: GatewayDayState) throws(DayStateError) {
        guard state.nextSequences.count == accounts.count else {
            throw DayStateError("the snapshot has \(state.nextSequences.count) accounts, the API keys file \(accounts.count)")
        }
        guard state.tokens.count <= tokens.capacity else {
            throw DayStateError("the snapshot has \(state.tokens.count) tokens, the token history holds \(tokens.capacity)")
        }
        for account in 0..<accounts.count {
            guard accounts.logs[account].nextSequence == 1 && accounts.logs[account].writeOffset == 0 else {
                throw DayStateError("account \(account)'s session has messages already")
            }
        }
        for account in 0..<accounts.count {
            accounts.logs[account].restart(at: state.nextSequences[account])
            accounts.tokensUsed[account] = Int(state.tokensUsed[account])
        }
        for used in state.tokens { _ = tokens.insert(used.token, account: Int(used.account)) }
        endOfDayRouted = state.endOfDayRouted
    }
}
