/// Time as agents, clients and tools see it: one abstraction, injected as a generic
/// parameter (so the production clock costs what an `rdtsc` costs, with no dynamic
/// dispatch), and replaced in tests by `ManualClock`, which moves only when the test says.
///
/// A clock has two faces, read through one counter:
/// - `ticks()`: a cheap monotonic counter (TSC ticks on `TSCClock`) for latency stamps,
///   deadlines and rates on hot paths;
/// - `nanoseconds(atTicks:)`: the same instant as nanoseconds since the midnight (UTC)
///   before the clock started — monotonic (it keeps growing past 24 hours and never runs
///   backwards), the time stamped on commands and so on every OUCH and ITCH message.
///   Encoders that need a time of day take it modulo `Clocks.nanosecondsPerDay`.
public protocol Clock: Sendable {
    /// The counter: monotonic, cheap to read.
    func ticks() -> UInt64
    /// Counter ticks per second.
    var ticksPerSecond: UInt64 { get }
    /// Nanoseconds since the midnight before start at counter value `ticks`.
    func nanoseconds(atTicks ticks: UInt64) -> UInt64
}

/// Constants and conversions every clock shares.
public enum Clocks {
    public static let nanosecondsPerDay: UInt64 = 86_400_000_000_000
    public static let nanosecondsPerSecond: UInt64 = 1_000_000_000
}

extension Clock {
    /// Nanoseconds since the midnight before start, now.
    @inlinable
    public func now() -> UInt64 { nanoseconds(atTicks: ticks()) }

    /// Nanoseconds since the last midnight (UTC), now: what protocols stamp.
    @inlinable
    public func timeOfDay() -> UInt64 { now() % Clocks.nanosecondsPerDay }

    /// Counter ticks in `nanoseconds` (for deadlines compared against `ticks()`).
    @inlinable
    public func ticks(forNanoseconds nanoseconds: UInt64) -> UInt64 {
        UInt64(UInt128(nanoseconds) * UInt128(ticksPerSecond) / UInt128(Clocks.nanosecondsPerSecond))
    }

    /// Nanoseconds in `ticks` counter ticks.
    @inlinable
    public func nanoseconds(inTicks ticks: UInt64) -> UInt64 {
        UInt64(UInt128(ticks) * UInt128(Clocks.nanosecondsPerSecond) / UInt128(ticksPerSecond))
    }

    /// Nanoseconds from `start` to `end` (counter values); 0 when `end` is not after
    /// `start` (two cores' TSCs can disagree by a few ticks).
    @inlinable
    public func elapsedNanoseconds(from start: UInt64, to end: UInt64) -> UInt64 {
        end > start ? nanoseconds(inTicks: end &- start) : 0
    }
}
