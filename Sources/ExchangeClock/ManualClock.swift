import Synchronization

/// A clock that moves only when told: tests advance it past a heartbeat interval, a login
/// timeout or a rate-limit window instead of sleeping, so the outcome never depends on
/// how fast the host is. Shared by reference between the test and the agent it drives;
/// reads are one relaxed atomic load. Its counter is in nanoseconds.
public final class ManualClock: Clock {
    @usableFromInline let current: Atomic<UInt64>

    /// Starts at `nanoseconds` since midnight (09:30 by default, a trading morning).
    public init(nanoseconds: UInt64 = 34_200 * Clocks.nanosecondsPerSecond) {
        current = Atomic(nanoseconds)
    }

    public var ticksPerSecond: UInt64 { Clocks.nanosecondsPerSecond }

    @inlinable
    public func ticks() -> UInt64 { current.load(ordering: .acquiring) }

    @inlinable
    public func nanoseconds(atTicks ticks: UInt64) -> UInt64 { ticks }

    /// Moves the clock forward.
    public func advance(nanoseconds: UInt64) {
        current.wrappingAdd(nanoseconds, ordering: .releasing)
    }

    public func advance(milliseconds: UInt64) { advance(nanoseconds: milliseconds * 1_000_000) }

    public func advance(seconds: UInt64) { advance(nanoseconds: seconds * Clocks.nanosecondsPerSecond) }
}
