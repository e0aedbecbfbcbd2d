import ExchangeConfig
import ExchangeCore
import ExchangeLeadership
import Foundation

extension Appliance {
    /// A primary with a `leadership` section: campaigns (or takes the seat a promotion hands
    /// over) and waits until it leads, before any client port opens. Returns the term the
    /// gateway journals as its first command (nil without a `leadership` section). Throws when
    /// another host leads, or when no outcome comes within twice the lease TTL plus 10 s (etcd
    /// unreachable: every endpoint and the last error are named).
    func campaignAsPrimary(_ configuration: ExchangeConfiguration, options: Options, ticksPerSecond: UInt64) throws -> LeadershipTerm? {
        let settings = configuration.leadership
        guard settings.configured || options.leadership != nil else { return nil }
        let seat: ApplianceLeadership
        if let given = options.leadership {
            seat = given
        } else {
            seat = try ApplianceLeadership.start(settings, ticksPerSecond: ticksPerSecond, logger: logger)
            note("leadership: campaigning as \(seat.name) for \(settings.leaderKey) at \(settings.endpoints.map(\.description).joined(separator: ", ")), "
                + "lease \(settings.leaseTTLSeconds) s; client ports open once this exchange leads")
        }
        // Kept before waiting, so that a failed start stops it (drain).
        leadership = seat
        let timeout = UInt64(2 * settings.leaseTTLSeconds + 10) * 1_000_000_000
        let state = seat.awaitOutcome(timeoutNanoseconds: timeout, stopRequested: options.stopRequested)
        if let request = options.stopRequested?() { throw StartStopped(request: request) }
        guard state.role == .leader, seat.isLeading else {
            if state.role == .follower, let leader = state.leaderName {
                throw ApplianceError("leadership: \(leader) leads (fencing token \(state.fencingToken)) for \(settings.leaderKey): this exchange "
                    + "does not serve as a second primary; start it as a standby (replication.role standby) of that primary")
            }
            throw ApplianceError("leadership: not won within \(timeout / 1_000_000_000) s (\(state)); etcd at "
                + "\(settings.endpoints.map(\.description).joined(separator: ", ")) unreachable or slow?")
        }
        fencingToken = state.fencingToken
        note("leadership: \(seat.name) leads with fencing token \(state.fencingToken); it is journaled before anything is acknowledged, "
            + "and answers are released only while the lease is confirmed")
        return LeadershipTerm(timestamp: 0, token: state.fencingToken, name: seat.name)
    }

    /// A standby with a `leadership` section: campaigns beside its replica; once it leads,
    /// `promotionDue` is true and the owner calls `promote`.
    func campaignAsStandby(_ configuration: ExchangeConfiguration, ticksPerSecond: UInt64) throws {
        guard configuration.leadership.configured else { return }
        let settings = configuration.leadership
        leadership = try ApplianceLeadership.start(settings, ticksPerSecond: ticksPerSecond, logger: logger)
        note("leadership: standby campaigning as \(leadership!.name) for \(settings.leaderKey) (lease \(settings.leaseTTLSeconds) s): "
            + "it follows while the primary leads, and takes over when the leader key goes")
    }

    /// A standby whose seat has won: time to `promote`.
    public var promotionDue: Bool { replicationStandby != nil && leadership?.isLeading == true }

    /// Promotes a standby whose seat leads: stops the replica (its journal agent first makes
    /// everything received durable), stops this appliance (its instance lock is released),
    /// then starts a primary from the standby's own journal exactly as a restart would —
    /// recovery replays the day into the engine, every session and the feed, so sessions and
    /// the feed continue with the same names and sequences — journals the new term and opens
    /// the client ports. `configuration` is this standby's; the primary is the same with
    /// `replication.role` primary (it serves the replication port for the next standby).
    /// This appliance is stopped afterwards, whatever the outcome; throws when the primary
    /// cannot start (its seat is then stopped too).
    public func promote(_ configuration: ExchangeConfiguration, options: Options) throws -> Appliance {
        guard let seat = leadership, replicationStandby != nil else {
            throw ApplianceError("promote: this appliance is not a standby with a leadership seat")
        }
        let applied = replicationStandby?.appliedSequence ?? 0
        leadership = nil
        _ = drain()
        instanceLock = nil
        let line = "promotion: the standby leads (fencing token \(seat.state.fencingToken)); its replica stopped at sequence \(applied); "
            + "starting as primary from its own journal"
        logger.notice("\(line)")
        var primary = configuration
        primary.replication.role = .primary
        var primaryOptions = options
        primaryOptions.leadership = seat
        primaryOptions.newDay = false
        do {
            return try Appliance.start(primary, options: primaryOptions, logger: logger)
        } catch {
            seat.stop()
            throw error
        }
    }
}
