import CExchangeShim

/// Time from the CPU's time-stamp counter, calibrated once against CLOCK_MONOTONIC.
public struct TSCClock: Sendable {
    public let ticksPerSecond: UInt64
    public let nanosecondsPerTick: Double

    public init(calibrationMilliseconds: UInt64 = 200) {
        var ticks = rtes_tsc_ticks_per_second(calibrationMilliseconds * 1_000_000)
        if ticks == 0 { ticks = 1_000_000_000 }  // no TSC: fall back to nanoseconds
        ticksPerSecond = ticks
        nanosecondsPerTick = 1e9 / Double(ticks)
    }

    @inline(__always) public func now() -> UInt64 { rtes_rdtscp() }

    @inline(__always) public func nanoseconds(_ ticks: UInt64) -> UInt64 { UInt64(Double(ticks) * nanosecondsPerTick) }

    public func seconds(_ ticks: UInt64) -> Double { Double(ticks) / Double(ticksPerSecond) }

    public func ticks(nanoseconds: Double) -> Double { nanoseconds / nanosecondsPerTick }
}
