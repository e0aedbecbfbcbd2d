import CExchangeShim
import Dispatch
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeLeadership
import Foundation
import Logging
import Synchronization

/// The appliance's seat in the election for the leader key (docs/FAILOVER.md), when the
/// configuration has a `leadership` section: a `LeaderCandidate` campaigning on a thread of its
/// own (`CampaignThread`), on the TSC, so that the gateway's one-load check of the gate
/// (`LeadershipGate.mayAcknowledge(atTicks:)`) compares its own clock reading with the lease
/// deadline in the same ticks.
///
/// A primary waits for the outcome before it opens a client port (`awaitOutcome`); a standby
/// campaigns beside its replica and is promoted once it leads (`Appliance.promote`). A seat
/// that led and lost (its lease not confirmed in time, its key deleted or taken) stops
/// campaigning: its gate stays closed, so this process acknowledges nothing more until it is
/// restarted — it never reopens under a term it has not journaled.
public final class ApplianceLeadership: @unchecked Sendable {
    public let candidate: LeaderCandidate<TSCClock>
    /// The name written to the leader key and into the leadership record.
    public let name: String
    let box: Box
    let logger: Logger

    final class Box: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        let campaign = Mutex<Campaign?>(nil)
        let stopped = Atomic<Bool>(false)
    }

    /// The gate the gateway reads.
    public var gate: LeadershipGate { candidate.gate }
    /// The state as of now (`LeaderCandidate.state`).
    public var state: LeadershipState { candidate.state }
    /// Whether this seat leads now (its gate open at the TSC's reading).
    public var isLeading: Bool { candidate.mayAcknowledge() }

    /// Starts campaigning. Throws when the name does not fit a leadership record.
    public static func start(_ settings: LeadershipSettings, ticksPerSecond: UInt64, logger: Logger) throws -> ApplianceLeadership {
        let name = settings.candidateName.isEmpty ? ProcessInfo.processInfo.hostName : settings.candidateName
        guard name.utf8.count <= LeadershipTerm.maximumNameBytes, LeadershipSettings.isValidCandidateName(name) else {
            throw ApplianceError("leadership.candidate_name \"\(name)\"\(settings.candidateName.isEmpty ? " (the host name)" : ""): the exchange "
                + "journals the leader's name, at most \(LeadershipTerm.maximumNameBytes) bytes of printable ASCII without spaces; set a shorter one")
        }
        let clock = TSCClock(ticksPerSecond: ticksPerSecond, ticks: rtes_rdtsc(), realtimeNanoseconds: rtes_realtime_ns())
        let box = Box()
        let candidate = LeaderCandidate(
            client: EtcdClient(endpoints: settings.endpoints), key: settings.leaderKey, name: name,
            ttlSeconds: Int64(settings.leaseTTLSeconds), clock: clock
        ) { state in
            switch state.role {
            case .lost:
                logger.error("leadership: \(state): acknowledgements stopped; this exchange does not campaign again (restart it, as a standby)")
                // Cancelled from its own transition: the candidate's loop ends before it campaigns again.
                box.campaign.withLock { $0 }?.cancel()
            default:
                logger.notice("leadership: \(state)")
            }
            box.wake.signal()
        }
        let seat = ApplianceLeadership(candidate: candidate, name: name, box: box, logger: logger)
        let campaign = candidate.campaign()
        box.campaign.withLock { $0 = campaign }
        return seat
    }

    init(candidate: LeaderCandidate<TSCClock>, name: String, box: Box, logger: Logger) {
        self.candidate = candidate
        self.name = name
        self.box = box
        self.logger = logger
    }

    /// Waits (polling every 50 ms, off every hot path) until the seat leads, another host is
    /// known to lead, `timeoutNanoseconds` pass or a stop is requested; returns the state then.
    /// A key held under this seat's own name is an earlier run's (killed before it resigned):
    /// the wait goes on until its lease expires and the seat wins.
    public func awaitOutcome(timeoutNanoseconds: UInt64, stopRequested: (() -> String?)? = nil) -> LeadershipState {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ timeoutNanoseconds
        while true {
            let state = candidate.state
            if state.role == .leader && isLeading { return state }
            if state.role == .follower, let leader = state.leaderName, leader != name { return state }
            if state.role == .resigned || state.role == .lost { return state }
            if DispatchTime.now().uptimeNanoseconds >= deadline { return state }
            if stopRequested?() != nil { return state }
            _ = box.wake.wait(timeout: .now() + .milliseconds(50))
        }
    }

    /// Stops campaigning: a leader closes its gate, then revokes its lease (the key goes at
    /// once). Blocks until done; later calls return at once.
    public func stop() {
        guard !box.stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        box.campaign.withLock { $0 }?.stopAndWait()
    }
}
