import CClock

/// The production clock: the TSC where the host has a usable one (one instruction per
/// read, no system call), CLOCK_MONOTONIC otherwise. The wall clock (CLOCK_REALTIME) is
/// read once at start and the counter carries it forward, so `nanoseconds(atTicks:)`
/// never runs backwards even when the host's wall clock is stepped.
public struct TSCClock: Clock {
    public enum Source: String, Sendable, CaseIterable {
        /// The time-stamp counter, calibrated against CLOCK_MONOTONIC at start.
        case tsc
        /// CLOCK_MONOTONIC in nanoseconds (vDSO).
        case monotonic
    }

    public let source: Source
    public let ticksPerSecond: UInt64
    public let baseTicks: UInt64
    /// Nanoseconds since the midnight before start at `baseTicks`.
    public let baseNanoseconds: UInt64
    /// Nanoseconds per tick in 32.32 fixed point.
    @usableFromInline let multiplier: UInt64

    /// Calibrates the TSC against CLOCK_MONOTONIC over `calibrationNanoseconds` (100 ms by
    /// default); falls back to CLOCK_MONOTONIC where there is no usable TSC or `source`
    /// asks for it.
    public static func calibrated(_ source: Source = .tsc, calibrationNanoseconds: UInt64 = 100_000_000) -> TSCClock {
        if source == .tsc {
            let rate = rtes_tsc_ticks_per_second(calibrationNanoseconds)
            if rate > 0 { return TSCClock(source: .tsc, ticksPerSecond: rate) }
        }
        return TSCClock(source: .monotonic, ticksPerSecond: Clocks.nanosecondsPerSecond)
    }

    /// A TSC clock at a known rate (`ticksPerSecond` from an earlier calibration), anchored
    /// to CLOCK_REALTIME now.
    public init(ticksPerSecond: UInt64) {
        self.init(source: .tsc, ticksPerSecond: ticksPerSecond)
    }

    init(source: Source, ticksPerSecond: UInt64) {
        let ticks = source == .tsc ? rtes_rdtsc() : rtes_monotonic_ns()
        self.init(source: source, ticksPerSecond: ticksPerSecond, ticks: ticks, realtimeNanoseconds: rtes_realtime_ns())
    }

    /// A clock that reads `realtimeNanoseconds` (since the Unix epoch) at counter `ticks`.
    public init(source: Source = .tsc, ticksPerSecond: UInt64, ticks: UInt64, realtimeNanoseconds: UInt64) {
        self.source = source
        self.ticksPerSecond = max(1, ticksPerSecond)
        baseTicks = ticks
        baseNanoseconds = realtimeNanoseconds % Clocks.nanosecondsPerDay
        multiplier = UInt64((1_000_000_000 as UInt128) << 32 / UInt128(self.ticksPerSecond))
    }

    @inlinable
    public func ticks() -> UInt64 {
        source == .tsc ? rtes_rdtsc() : rtes_monotonic_ns()
    }

    @inlinable
    public func nanoseconds(atTicks ticks: UInt64) -> UInt64 {
        let elapsed = ticks &- baseTicks
        let product = elapsed.multipliedFullWidth(by: multiplier)
        return baseNanoseconds &+ (product.high << 32 | product.low >> 32)
    }
}
