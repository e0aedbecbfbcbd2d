import CExchangeShim

/// The load generator's clock: the TSC where it is usable (one instruction per read),
/// CLOCK_MONOTONIC otherwise. Ticks become nanoseconds only when results are recorded.
public struct LoadClock: Sendable {
    public enum Source: String, Sendable, CaseIterable {
        case tsc
        case monotonic
    }

    public let source: Source
    public let ticksPerSecond: UInt64
    let nanosecondsPerTick: Double

    /// Measures the TSC against CLOCK_MONOTONIC over 100 ms (when `source` is .tsc); falls
    /// back to CLOCK_MONOTONIC where there is no usable TSC.
    public static func calibrated(_ source: Source = .tsc) -> LoadClock {
        if source == .tsc {
            let rate = rtes_tsc_ticks_per_second(100_000_000)
            if rate > 0 { return LoadClock(source: .tsc, ticksPerSecond: rate) }
        }
        return LoadClock(source: .monotonic, ticksPerSecond: 1_000_000_000)
    }

    init(source: Source, ticksPerSecond: UInt64) {
        self.source = source
        self.ticksPerSecond = ticksPerSecond
        nanosecondsPerTick = 1e9 / Double(ticksPerSecond)
    }

    @inline(__always)
    public func now() -> UInt64 {
        source == .tsc ? rtes_rdtsc() : rtes_monotonic_ns()
    }

    @inline(__always)
    public func nanoseconds(_ ticks: UInt64) -> UInt64 {
        UInt64(Double(ticks) * nanosecondsPerTick)
    }

    public func ticks(nanoseconds: UInt64) -> UInt64 {
        UInt64(Double(nanoseconds) / nanosecondsPerTick)
    }

    /// The latency from `start` to `end` in nanoseconds; 0 if the clock went backwards
    /// (two cores' TSCs can disagree by a few ticks).
    @inline(__always)
    func elapsed(from start: UInt64, to end: UInt64) -> UInt64 {
        end > start ? nanoseconds(end &- start) : 0
    }

    static func realtimeNanoseconds() -> UInt64 { rtes_realtime_ns() }
}
