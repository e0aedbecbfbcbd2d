import CExchangeShim

/// Real-time scheduling for the calling thread. Optional: a SCHED_FIFO spinner that
/// never sleeps is throttled by sched_rt_runtime_us (50 ms a second by default) and can
/// starve kernel threads on its CPU; use it on isolated CPUs only.
public enum Scheduling {
    /// Runs the calling thread under SCHED_FIFO at `priority` (see `fifoPriorities`).
    /// EPERM without CAP_SYS_NICE or a sufficient RLIMIT_RTPRIO; EINVAL out of range.
    public static func useFIFO(priority: Int32) throws(SystemError) {
        let result = rtes_set_current_thread_fifo(priority)
        if result < 0 {
            throw SystemError(call: "pthread_setschedparam(SCHED_FIFO)", result: result,
                              detail: "priority \(priority)")
        }
    }

    /// The calling thread's policy and priority.
    public static func current() throws(SystemError) -> (policy: SchedulingPolicy, priority: Int32) {
        var priority: Int32 = 0
        let policy = try SystemError.check(rtes_current_thread_policy(&priority), "pthread_getschedparam")
        return (SchedulingPolicy(shimPolicy: policy), priority)
    }

    /// SCHED_FIFO priorities (1...99 on Linux).
    public static func fifoPriorities() throws(SystemError) -> ClosedRange<Int32> {
        let low = try SystemError.check(rtes_fifo_priority_min(), "sched_get_priority_min")
        let high = try SystemError.check(rtes_fifo_priority_max(), "sched_get_priority_max")
        return low...high
    }
}
