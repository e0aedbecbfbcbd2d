import CClientShim

/// The calling thread's timer slack: how late the kernel may end its timed waits (50 µs by
/// default). The load generator's waits end just before the next request is due; a slack
/// of 1 µs keeps them from ending after it.
enum TimerSlack {
    /// Sets the calling thread's timer slack to 1 µs (prctl PR_SET_TIMERSLACK). Returns the
    /// old value, or nil when it could not be changed (nothing else depends on it).
    static func reduce() -> Int? {
        let old = rtes_current_thread_timer_slack()
        guard old > 0, rtes_set_current_thread_timer_slack(1_000) == 0 else { return nil }
        return old
    }

    static func set(_ nanoseconds: Int) {
        _ = rtes_set_current_thread_timer_slack(UInt(nanoseconds))
    }
}
