/// `performance.idle_strategy`: what an agent's thread does when `doWork()` found nothing
/// to do (Aeron/Agrona's idle strategies). The one kind type: ExchangeConfig parses it and
/// ExchangeRuntime's `IdleStrategy` (the state machine of one thread's idling) runs it; it
/// lives here, in a target that depends on nothing, so that neither imports the other.
public enum IdleStrategyKind: String, Sendable, CaseIterable {
    /// Spin with a CPU pause hint: lowest latency, one core at 100 %.
    case busySpin = "busy_spin"
    /// Spin for a while, then yield the CPU to other threads.
    case spinYield = "spin_yield"
    /// Spin, then yield, then park for exponentially longer sleeps (up to 1 ms): for shared
    /// machines, CI and laptops.
    case backoff
}
