import ExchangeConfig

/// Failed logins per account and per source address, and what they cost the next attempt:
/// after the n-th failure in a row the account and the address are in backoff for
/// `backoff · 2^(n-1)` (at most `maxBackoff`) — attempts then are refused without a
/// password check — and after `maxFailures` they are locked out for `lockout`. Failures
/// older than `lockout` are forgotten; a success clears the account's and the address's.
///
/// Pure: time is a parameter (nanoseconds), nothing is read from a clock. The tables are
/// fixed at start: one entry per account, `trackedAddresses` entries for addresses — when
/// they are all taken, the address whose last failure is oldest makes room, so a spray of
/// addresses cannot grow memory.
public struct LoginThrottle {
    public struct Policy: Sendable, Equatable {
        public var maxFailures: Int
        public var backoff: UInt64
        public var maxBackoff: UInt64
        public var lockout: UInt64
        public var trackedAddresses: Int

        public init(maxFailures: Int, backoff: UInt64, maxBackoff: UInt64, lockout: UInt64, trackedAddresses: Int) {
            self.maxFailures = maxFailures
            self.backoff = backoff
            self.maxBackoff = maxBackoff
            self.lockout = lockout
            self.trackedAddresses = trackedAddresses
        }

        /// From the configuration's `auth` section.
        public init(_ settings: AuthSettings) {
            self.init(maxFailures: settings.maxFailedLogins, backoff: UInt64(settings.backoffMilliseconds) * 1_000_000,
                      maxBackoff: UInt64(settings.maxBackoffMilliseconds) * 1_000_000,
                      lockout: UInt64(settings.lockoutMilliseconds) * 1_000_000, trackedAddresses: settings.trackedAddresses)
        }
    }

    /// One account's or address's failures in a row.
    public struct Record: Sendable, Equatable {
        public var failures = 0
        public var lastFailureAt: UInt64 = 0
        /// Attempts before this are refused unchecked (backoff).
        public var blockedUntil: UInt64 = 0
        /// Attempts before this are refused unchecked (lockout); 0 when not locked out.
        public var lockedUntil: UInt64 = 0
    }

    /// What to do with an attempt.
    public enum Decision: Sendable, Equatable {
        case check
        case throttled(until: UInt64)
        case lockedOut(until: UInt64)
    }

    public let policy: Policy
    var accounts: [Record]
    /// Address → index in `addressRecords`.
    var addressIndex: [UInt32: Int] = [:]
    var addressRecords: [(address: UInt32, record: Record)] = []
    public private(set) var lockouts: UInt64 = 0
    public private(set) var evictions: UInt64 = 0

    public init(policy: Policy, accounts: Int) {
        self.policy = policy
        self.accounts = Array(repeating: Record(), count: accounts)
        addressIndex.reserveCapacity(policy.trackedAddresses)
        addressRecords.reserveCapacity(policy.trackedAddresses)
    }

    public var trackedAddresses: Int { addressRecords.count }

    public func record(account: Int) -> Record { accounts[account] }

    public func record(address: UInt32) -> Record? { addressIndex[address].map { addressRecords[$0].record } }

    /// Whether an attempt of `account` (nil: unknown username) from `address` is checked.
    public mutating func decide(account: Int?, address: UInt32, now: UInt64) -> Decision {
        var decision = Decision.check
        if let account { decision = Self.worse(decision, Self.decide(&accounts[account], now: now, policy: policy)) }
        if let index = addressIndex[address] {
            decision = Self.worse(decision, Self.decide(&addressRecords[index].record, now: now, policy: policy))
        }
        return decision
    }

    /// A failed check: counts it for the account (when known) and the address. Returns the
    /// larger failure count and until when the next attempt is refused unchecked.
    @discardableResult
    public mutating func recordFailure(account: Int?, address: UInt32, now: UInt64) -> (failures: Int, blockedUntil: UInt64) {
        var failures = 0
        var until: UInt64 = 0
        if let account {
            let (f, u, locked) = Self.fail(&accounts[account], now: now, policy: policy)
            if locked { lockouts &+= 1 }
            failures = max(failures, f)
            until = max(until, u)
        }
        let index = addressSlot(address, now: now)
        let (f, u, locked) = Self.fail(&addressRecords[index].record, now: now, policy: policy)
        if locked { lockouts &+= 1 }
        return (max(failures, f), max(until, u))
    }

    /// A successful check: the account's and the address's failures are cleared.
    public mutating func recordSuccess(account: Int, address: UInt32) {
        accounts[account] = Record()
        if let index = addressIndex[address] { addressRecords[index].record = Record() }
    }

    // MARK: Inside

    private static func decide(_ record: inout Record, now: UInt64, policy: Policy) -> Decision {
        if record.lockedUntil != 0 {
            if now < record.lockedUntil { return .lockedOut(until: record.lockedUntil) }
            record = Record()  // the lockout is over: a clean slate
            return .check
        }
        if record.failures > 0 && now &- record.lastFailureAt >= policy.lockout {
            record = Record()  // quiet for long enough: forgotten
            return .check
        }
        if now < record.blockedUntil { return .throttled(until: record.blockedUntil) }
        return .check
    }

    private static func worse(_ a: Decision, _ b: Decision) -> Decision {
        switch (a, b) {
        case (.lockedOut(let x), .lockedOut(let y)): .lockedOut(until: max(x, y))
        case (.lockedOut, _): a
        case (_, .lockedOut): b
        case (.throttled(let x), .throttled(let y)): .throttled(until: max(x, y))
        case (.throttled, _): a
        case (_, .throttled): b
        default: .check
        }
    }

    /// Counts a failure; true when it starts a lockout.
    private static func fail(_ record: inout Record, now: UInt64, policy: Policy) -> (Int, UInt64, Bool) {
        var locked = false
        if record.failures > 0 && now &- record.lastFailureAt >= policy.lockout { record = Record() }
        record.failures += 1
        record.lastFailureAt = now
        if record.failures >= policy.maxFailures {
            locked = record.lockedUntil == 0
            record.lockedUntil = now &+ policy.lockout
            record.blockedUntil = record.lockedUntil
        } else {
            let shift = UInt64(min(record.failures - 1, 40))
            let delay = policy.backoff > (policy.maxBackoff >> shift) ? policy.maxBackoff : min(policy.maxBackoff, policy.backoff << shift)
            record.blockedUntil = now &+ delay
        }
        return (record.failures, record.blockedUntil, locked)
    }

    /// The address's entry, making one (evicting the oldest when the table is full).
    private mutating func addressSlot(_ address: UInt32, now: UInt64) -> Int {
        if let index = addressIndex[address] { return index }
        if addressRecords.count < policy.trackedAddresses {
            addressRecords.append((address, Record()))
            addressIndex[address] = addressRecords.count - 1
            return addressRecords.count - 1
        }
        var oldest = 0
        for i in 1..<addressRecords.count where addressRecords[i].record.lastFailureAt < addressRecords[oldest].record.lastFailureAt {
            oldest = i
        }
        addressIndex[addressRecords[oldest].address] = nil
        addressRecords[oldest] = (address, Record())
        addressIndex[address] = oldest
        evictions &+= 1
        return oldest
    }
}
