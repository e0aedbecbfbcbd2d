import CExchangeShim

/// Nanoseconds since midnight (UTC) from the TSC, without a system call: the wall clock is
/// read once at start and the TSC carries it forward. This is the time the gateway stamps
/// on commands and so the time of every OUCH and ITCH message.
///
/// The value keeps growing past 24 hours (it is "since the midnight before start"), so the
/// engine's clock never runs backwards; encoders that need a time of day take it modulo a
/// day.
public struct WallClock: Sendable {
    public static let nanosecondsPerDay: UInt64 = 86_400_000_000_000

    public let baseTicks: UInt64
    public let baseNanoseconds: UInt64
    /// Nanoseconds per tick in 32.32 fixed point.
    public let multiplier: UInt64
    public let ticksPerSecond: UInt64

    public init(ticksPerSecond: UInt64) {
        self.init(ticksPerSecond: ticksPerSecond, ticks: rtes_rdtsc(), realtimeNanoseconds: rtes_realtime_ns())
    }

    /// A clock that reads `realtimeNanoseconds` (since the Unix epoch) at TSC `ticks`.
    public init(ticksPerSecond: UInt64, ticks: UInt64, realtimeNanoseconds: UInt64) {
        self.ticksPerSecond = max(1, ticksPerSecond)
        baseTicks = ticks
        baseNanoseconds = realtimeNanoseconds % Self.nanosecondsPerDay
        multiplier = UInt64((1_000_000_000 as UInt128) << 32 / UInt128(self.ticksPerSecond))
    }

    /// Nanoseconds since the midnight before start at TSC `ticks`.
    @inlinable
    public func nanoseconds(atTicks ticks: UInt64) -> UInt64 {
        let elapsed = ticks &- baseTicks
        let product = elapsed.multipliedFullWidth(by: multiplier)
        return baseNanoseconds &+ (product.high << 32 | product.low >> 32)
    }

    /// Ticks in `nanoseconds` (for deadlines compared against `rtes_rdtsc()`).
    public func ticks(forNanoseconds nanoseconds: UInt64) -> UInt64 {
        UInt64(UInt128(nanoseconds) * UInt128(ticksPerSecond) / 1_000_000_000)
    }
}
