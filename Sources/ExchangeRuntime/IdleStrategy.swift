import CExchangeShim
import ExchangeRuntimePolicy
import Glibc

/// The state machine of one thread's idling, running a configured `IdleStrategyKind`.
/// `idle(work)` is called after every `doWork()`; any work resets it.
public struct IdleStrategy: Sendable {
    public let kind: IdleStrategyKind
    /// The timer slack a thread that parks runs with (AgentRunner sets it for `backoff`), so
    /// that a park ends within 1 µs of its deadline rather than the default 50 µs.
    public static let parkTimerSlackNanoseconds: UInt = 1_000
    let maxSpins: Int
    let maxYields: Int
    let minParkNanoseconds: Int
    let maxParkNanoseconds: Int
    private var spins = 0
    private var yields = 0
    private var parkNanoseconds: Int

    public init(_ kind: IdleStrategyKind, maxSpins: Int = 100, maxYields: Int = 50,
                minParkNanoseconds: Int = 1_000, maxParkNanoseconds: Int = 1_000_000) {
        self.kind = kind
        self.maxSpins = maxSpins
        self.maxYields = maxYields
        self.minParkNanoseconds = minParkNanoseconds
        self.maxParkNanoseconds = maxParkNanoseconds
        parkNanoseconds = minParkNanoseconds
    }

    /// The step the next idle call takes (exposed for tests).
    public enum Step: Equatable, Sendable {
        case none, spin, yield, park(nanoseconds: Int)
    }

    /// Decides and performs the idle step for a `doWork()` that did `work`.
    @inline(__always)
    public mutating func idle(_ work: Int) {
        switch nextStep(work) {
        case .none: return
        case .spin: rtes_cpu_pause()
        case .yield: sched_yield()
        case .park(let ns):
            var request = timespec(tv_sec: ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000)
            nanosleep(&request, nil)
        }
    }

    /// The step without performing it.
    public mutating func nextStep(_ work: Int) -> Step {
        if work > 0 {
            spins = 0
            yields = 0
            parkNanoseconds = minParkNanoseconds
            return .none
        }
        switch kind {
        case .busySpin:
            return .spin
        case .spinYield:
            if spins < maxSpins { spins += 1; return .spin }
            return .yield
        case .backoff:
            if spins < maxSpins { spins += 1; return .spin }
            if yields < maxYields { yields += 1; return .yield }
            let ns = parkNanoseconds
            parkNanoseconds = min(parkNanoseconds * 2, maxParkNanoseconds)
            return .park(nanoseconds: ns)
        }
    }
}
