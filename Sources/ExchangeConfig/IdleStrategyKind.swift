/// `performance.idle_strategy`: what an agent's thread does when `doWork()` found nothing
/// to do (Aeron/Agrona's idle strategies). The one kind type: the configuration parses it
/// and the runtime's `IdleStrategy` (the state machine of one thread's idling) runs it.
public enum IdleStrategyKind: String, Sendable, CaseIterable {
    /// Spin with a CPU pause hint: lowest latency, one core at 100 %.
    case busySpin = "busy_spin"
    /// Spin for a while, then yield the CPU to other threads.
    case spinYield = "spin_yield"
    /// Spin, then yield, then park for exponentially longer sleeps (up to 1 ms): for shared
    /// machines, CI and laptops.
    case backoff
}
