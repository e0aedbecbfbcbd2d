import Glibc

/// A point in the host's monotonic time (`ContinuousClock`) a bounded wait gives up at. Loops
/// that wait for the kernel or another thread take one instead of reading the wall clock
/// (`Date()` can jump); the test then asserts on what the wait found.
public struct Deadline: Sendable {
    public let instant: ContinuousClock.Instant

    public init(after timeout: Duration) { instant = ContinuousClock.now.advanced(by: timeout) }
    public init(seconds: Double) { self.init(after: .milliseconds(Int64((seconds * 1_000).rounded(.up)))) }

    public var hasPassed: Bool { ContinuousClock.now >= instant }

    /// What is left, never negative.
    public var remaining: Duration { max(.zero, instant - ContinuousClock.now) }

    /// What is left in seconds, never negative.
    public var remainingSeconds: Double {
        let (seconds, attoseconds) = remaining.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// What is left in whole milliseconds (rounded up), at most `cap`: a `poll(2)` timeout.
    public func remainingMilliseconds(cap: Int32 = 1_000) -> Int32 {
        Int32(min(Double(cap), (remainingSeconds * 1_000).rounded(.up)))
    }
}

/// Waits for something another thread or process does: polls `condition` until it holds or
/// `timeout` passes, and returns whether it held. The wait decides nothing: the caller asserts
/// on the returned value (or on the state the condition looked at), so a slow host makes the
/// test slower, never wrong, and a condition that never comes fails the test after `timeout`.
///
/// Between polls it yields the CPU for `pollInterval` (a short nap: a 2-core machine shares
/// its cores with the thread being waited for).
@discardableResult
public func waitUntil(
    timeout: Duration = .seconds(10), pollInterval: Duration = .milliseconds(1), _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Deadline(after: timeout)
    while true {
        if try condition() { return true }
        if deadline.hasPassed { return false }
        let (seconds, attoseconds) = pollInterval.components
        var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        _ = nanosleep(&pause, nil)
    }
}
