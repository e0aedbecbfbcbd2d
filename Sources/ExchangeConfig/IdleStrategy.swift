/// `performance.idle_strategy`: what an agent's thread does when it has no work.
public enum IdleStrategy: String, Sendable, CaseIterable {
    /// Spin without yielding: lowest latency, one full core per thread.
    case busySpin = "busy_spin"
    /// Spin, yielding the CPU between polls.
    case spinYield = "spin_yield"
    /// Spin, then yield, then sleep for growing intervals: gentle on shared machines.
    case backoff
}
