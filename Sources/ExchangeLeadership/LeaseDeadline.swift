/// The local deadline of a lease, in a monotonic clock's ticks: the latest instant at which
/// this host may still believe etcd keeps its lease.
///
/// etcd renews a lease to its full TTL when the keepalive *arrives*; this host only knows
/// when it *sent* it. So a confirmation counts from the send: deadline = sent + TTL, never
/// from the answer, and the deadline is never later than etcd's own expiry (up to the two
/// hosts' clock-rate difference, which is parts per million of the TTL). Pure: time is a
/// parameter, so tests drive it with `ManualClock` and wait for nothing.
public struct LeaseDeadline: Sendable, Equatable {
    /// The tick at which the lease must be presumed expired; 0: never confirmed.
    public private(set) var expiresAtTicks: UInt64 = 0
    /// When the last confirmed request was sent.
    public private(set) var confirmedSentAtTicks: UInt64 = 0
    /// The TTL etcd confirmed last, in ticks.
    public private(set) var ttlTicks: UInt64 = 0

    public init() {}

    /// etcd confirmed the lease with `ttlSeconds` left in answer to a request sent at
    /// `sentAtTicks`. The deadline only moves forward: a late answer to an older request
    /// cannot pull it back, nor push it past what that request proves.
    public mutating func confirm(sentAtTicks: UInt64, ttlSeconds: Int64, ticksPerSecond: UInt64) {
        guard ttlSeconds > 0 else { return }
        let ttl = UInt64(ttlSeconds) &* ticksPerSecond
        let candidate = sentAtTicks &+ ttl
        if candidate > expiresAtTicks {
            expiresAtTicks = candidate
            confirmedSentAtTicks = sentAtTicks
            ttlTicks = ttl
        }
    }

    /// Whether the lease may still be held at `ticks`.
    public func isLive(atTicks ticks: UInt64) -> Bool { ticks < expiresAtTicks }

    /// Ticks left until the deadline (0 once it has passed).
    public func remainingTicks(atTicks ticks: UInt64) -> UInt64 {
        expiresAtTicks > ticks ? expiresAtTicks &- ticks : 0
    }

    /// When the next keepalive is due: a third of the TTL after the last confirmed send.
    public var nextKeepAliveAtTicks: UInt64 { confirmedSentAtTicks &+ ttlTicks / 3 }
}
