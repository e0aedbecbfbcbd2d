/// What a candidate knows about the leadership: published under a small lock for pollers
/// off the hot path (the hot path reads `LeadershipGate`).
public struct LeadershipState: Sendable, Equatable, CustomStringConvertible {
    public enum Role: String, Sendable, Equatable {
        /// Not campaigning yet.
        case idle
        /// Trying to win: granting a lease or running the campaign transaction.
        case candidate
        /// Someone else leads (`leaderName`, `fencingToken`), or etcd could not be asked.
        case follower
        /// This candidate leads until `leaseDeadlineTicks`.
        case leader
        /// This candidate led and could not confirm its lease in time, or found its key
        /// deleted or taken: it must not acknowledge. It campaigns again from here.
        case lost
        /// Resigned (the lease revoked) and stopped.
        case resigned
    }

    public var role: Role = .idle
    /// The leadership's fencing token: the leader key's create revision (ours when leading,
    /// the current leader's when following; 0 when unknown).
    public var fencingToken: Int64 = 0
    /// The leader's name or address, when known.
    public var leaderName: String?
    /// When leading: the local deadline of the lease, in the candidate's clock ticks; when
    /// `lost`: the last deadline it had; otherwise 0.
    public var leaseDeadlineTicks: UInt64 = 0
    /// Why the last transition happened, or the last error talking to etcd.
    public var reason: String?

    public init() {}

    public var description: String {
        var text = role.rawValue
        if let leaderName { text += " leader=\(leaderName)" }
        if fencingToken != 0 { text += " token=\(fencingToken)" }
        if let reason { text += " (\(reason))" }
        return text
    }
}
