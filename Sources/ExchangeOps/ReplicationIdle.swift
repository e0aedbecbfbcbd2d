import CExchangeShim
import ExchangeRuntime
import Glibc

/// How a replication thread waits after a turn that moved nothing (docs/FAILOVER.md,
/// "How the replication threads wait"). Not a hot path, but in `sync` every answer to a
/// client waits for a chain of these threads, so each wait is short:
///
/// - For `yieldNanoseconds` after the last turn that moved something, it yields the CPU
///   (`sched_yield`) and turns again: a record that became durable, an acknowledgement that
///   arrived, is seen within a yield, not a park. Set by `replication.yield_us` (sync only;
///   0 turns it off).
/// - After that it blocks in `ppoll` on the link's socket for at most `pollNanoseconds`: the
///   peer's next frame wakes it at once; what only memory tells (the journal's durable
///   position) is seen at the timeout. With no socket it sleeps as long.
///
/// The thread runs with a timer slack of 1 µs (set once by `prepareThread()`), so a
/// `ppoll` of 50 µs ends near 50 µs, not up to 50 µs later.
struct ReplicationIdle {
    let pollNanoseconds: UInt64
    let yieldNanoseconds: UInt64
    private var lastProgress: UInt64 = 0

    init(pollMicroseconds: UInt32, yieldMicroseconds: UInt32) {
        pollNanoseconds = UInt64(pollMicroseconds) * 1_000
        yieldNanoseconds = UInt64(yieldMicroseconds) * 1_000
    }

    /// Sets the calling thread's timer slack for short waits (see above).
    static func prepareThread() {
        _ = rtes_set_current_thread_timer_slack(IdleStrategy.parkTimerSlackNanoseconds)
    }

    /// What the next idle wait does (exposed for tests).
    enum Step: Equatable {
        case none, yield, wait(nanoseconds: UInt64)
    }

    /// The step after a turn at `now` (uptime ns) that `progressed` or not.
    mutating func nextStep(progressed: Bool, now: UInt64) -> Step {
        if progressed {
            lastProgress = now
            return .none
        }
        if yieldNanoseconds > 0 && now &- lastProgress < yieldNanoseconds { return .yield }
        return .wait(nanoseconds: pollNanoseconds)
    }

    /// Takes that step, blocking on `descriptor` (when there is one) until it is readable.
    mutating func idle(progressed: Bool, now: UInt64, descriptor: Int32?) {
        switch nextStep(progressed: progressed, now: now) {
        case .none:
            return
        case .yield:
            sched_yield()
        case .wait(let nanoseconds):
            if let descriptor {
                _ = rtes_wait_readable(descriptor, nanoseconds)
            } else {
                var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
                nanosleep(&request, nil)
            }
        }
    }
}
