import Glibc

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
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try condition() { return true }
        if clock.now >= deadline { return false }
        let (seconds, attoseconds) = pollInterval.components
        var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        _ = nanosleep(&pause, nil)
    }
}
