import ExchangeAccess
import Testing

/// Backoff, lockout, expiry and the bounded address table, with time as a parameter.
@Suite struct LoginThrottleTests {
    static let ms: UInt64 = 1_000_000
    static let policy = LoginThrottle.Policy(maxFailures: 4, backoff: 100 * ms, maxBackoff: 250 * ms, lockout: 10_000 * ms,
                                             trackedAddresses: 16)
    let address: UInt32 = 0x7F00_0001

    @Test func eachFailureDoublesTheBackoffUpToTheMaximum() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 2)
        var now: UInt64 = 1_000 * Self.ms
        #expect(throttle.decide(account: 0, address: address, now: now) == .check)
        let first = throttle.recordFailure(account: 0, address: address, now: now)
        #expect(first.failures == 1 && first.blockedUntil == now + 100 * Self.ms)
        #expect(throttle.decide(account: 0, address: address, now: now + 99 * Self.ms) == .throttled(until: now + 100 * Self.ms))
        now += 100 * Self.ms
        #expect(throttle.decide(account: 0, address: address, now: now) == .check)
        #expect(throttle.recordFailure(account: 0, address: address, now: now).blockedUntil == now + 200 * Self.ms)
        now += 200 * Self.ms
        #expect(throttle.recordFailure(account: 0, address: address, now: now).blockedUntil == now + 250 * Self.ms)  // capped
    }

    @Test func theAddressIsThrottledForOtherAccountsAndAnotherAddressIsNot() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 2)
        let now: UInt64 = 5 * Self.ms
        throttle.recordFailure(account: 0, address: address, now: now)
        #expect(throttle.decide(account: 1, address: address, now: now + Self.ms) == .throttled(until: now + 100 * Self.ms))
        #expect(throttle.decide(account: 1, address: address &+ 1, now: now + Self.ms) == .check)
        #expect(throttle.decide(account: 0, address: address &+ 1, now: now + Self.ms) == .throttled(until: now + 100 * Self.ms))
    }

    @Test func maxFailuresLockOutUntilTheLockoutEndsThenTheSlateIsClean() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 1)
        var now: UInt64 = Self.ms
        for _ in 0..<4 {
            now += 300 * Self.ms
            #expect(throttle.decide(account: 0, address: address, now: now) == .check)
            throttle.recordFailure(account: 0, address: address, now: now)
        }
        #expect(throttle.lockouts == 2)  // the account and the address
        let end = now + 10_000 * Self.ms
        #expect(throttle.decide(account: 0, address: address &+ 9, now: now + 5_000 * Self.ms) == .lockedOut(until: end))
        #expect(throttle.decide(account: 0, address: address, now: end - 1) == .lockedOut(until: end))
        #expect(throttle.decide(account: 0, address: address, now: end) == .check)
        #expect(throttle.record(account: 0).failures == 0)
    }

    @Test func failuresOlderThanTheLockoutAreForgotten() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 1)
        throttle.recordFailure(account: 0, address: address, now: Self.ms)
        throttle.recordFailure(account: 0, address: address, now: 200 * Self.ms)
        let later: UInt64 = 200 * Self.ms + 10_000 * Self.ms
        #expect(throttle.recordFailure(account: 0, address: address, now: later).failures == 1)
    }

    @Test func aSuccessClearsTheAccountAndTheAddress() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 1)
        throttle.recordFailure(account: 0, address: address, now: Self.ms)
        throttle.recordSuccess(account: 0, address: address)
        #expect(throttle.decide(account: 0, address: address, now: 2 * Self.ms) == .check)
        #expect(throttle.record(account: 0).failures == 0)
    }

    @Test func aSprayOfAddressesKeepsTheTableBoundedEvictingTheOldest() {
        var throttle = LoginThrottle(policy: Self.policy, accounts: 0)
        for i in 0..<1_000 {
            throttle.recordFailure(account: nil, address: UInt32(0x0A00_0000 + i), now: UInt64(i + 1) * Self.ms)
        }
        #expect(throttle.trackedAddresses == 16)
        #expect(throttle.evictions == 1_000 - 16)
        #expect(throttle.record(address: 0x0A00_0000) == nil)  // the oldest went
        #expect(throttle.record(address: UInt32(0x0A00_0000 + 999))?.failures == 1)
    }
}
