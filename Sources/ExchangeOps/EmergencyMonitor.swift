import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeRuntime
import Foundation
import Logging
import Synchronization

/// The emergency triggers at work (docs/OPERATIONS.md, "Emergency triggers"): once a turn of
/// the supervisor thread (`ServiceMonitor`, off every hot path) it turns the counters and the
/// process's resident memory into `EmergencyTriggers.Readings`, lets the evaluator decide, and
/// takes each firing's action:
///
/// - alert: a critical log line and the metrics, nothing else;
/// - stop_new_orders: the exchange kill switch through the operators' queue, as an admin's
///   `/admin/kill?exchange=true` is: journaled after an `OperatorNote` whose who is
///   `emergency:<condition>` and whose why is the firing's record;
/// - cancel_all_and_halt: the kill switch, then a market-wide halt (published on ITCH and OUCH);
/// - shutdown: the kill switch and the halt, then `shutdown` (the process's SIGTERM drain).
///
/// `/metrics` shows `rtes_emergency_trigger_fired_total{condition}` and
/// `rtes_emergency_trigger_active{condition}`; `/health` has an `emergency` check, degraded
/// while a trigger has fired and its condition has not cleared.
public final class EmergencyMonitor: Sendable {
    /// Counter totals of one turn, for the rates over the last second.
    struct Sample: Sendable {
        var at: Double
        /// Enter Order and Replace messages rejected (every reason, the gateway's included).
        var rejects: UInt64
        /// Enter Order and Replace messages received (the engine's, plus those the gateway
        /// answered at once because the ring to the engine was full).
        var orders: UInt64
        /// Client protocol errors plus journal write errors.
        var errors: UInt64
    }

    public let settings: EmergencySettings
    let actions: AdminActions
    let shutdown: (@Sendable (String) -> Void)?
    let logger: Logger
    private let state: Mutex<(triggers: EmergencyTriggers, samples: [Sample], shutdownRequested: Bool)>

    /// `actions`: takes the kill switch and the halt (any `AdminActions` on the exchange's
    /// operator queue; its operators are not consulted). `shutdown`: the clean drain, given the
    /// reason (nil: a shutdown action takes the kill switch and the halt, and logs that it
    /// cannot stop the process).
    public init(settings: EmergencySettings, actions: AdminActions, shutdown: (@Sendable (String) -> Void)?, logger: Logger) {
        self.settings = settings
        self.actions = actions
        self.shutdown = shutdown
        self.logger = logger
        state = Mutex((EmergencyTriggers(settings), [], false))
    }

    /// Resident memory of this process in MiB (/proc/self/statm's second field × the page
    /// size); nil when it cannot be read.
    public static func residentMegabytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// One turn at `now` (monotonic seconds) on the supervisor thread; `memoryMB` nil: read
    /// /proc/self/statm (only when the memory trigger is on). Returns what fired.
    @discardableResult
    public func turn(_ snapshot: CountersSnapshot, memoryMB: Double? = nil, now: Double) -> [EmergencyTriggers.Firing] {
        guard settings.anyOn else { return [] }
        let memory = settings.memoryMB > 0 ? (memoryMB ?? Self.residentMegabytes()) : nil
        let firings = state.withLock { s in
            let readings = Self.readings(snapshot, memoryMB: memory, now: now, samples: &s.samples)
            return s.triggers.evaluate(readings, now: now)
        }
        for firing in firings { take(firing) }
        return firings
    }

    /// A turn's readings: the gauges as they are, the rates over the last second (against the
    /// newest sample at least a second old, else the oldest one kept); `samples` keeps what
    /// the next turns need.
    static func readings(_ s: CountersSnapshot, memoryMB: Double?, now: Double, samples: inout [Sample]) -> EmergencyTriggers.Readings {
        let journal = s.block("journal")
        let journalErrors = ["errors_no_space", "errors_io", "errors_short_write", "errors_other"].reduce(UInt64(0)) { $0 &+ (journal?[$1] ?? 0) }
        let busy = s.gateway["backpressure_rejects"] ?? 0
        let sample = Sample(at: now, rejects: (s.engine["rejects"] ?? 0) &+ busy, orders: (s.engine["orders_received"] ?? 0) &+ busy,
                            errors: (s.gateway["protocol_errors"] ?? 0) &+ journalErrors)
        var readings = EmergencyTriggers.Readings(memoryMB: memoryMB)
        let base = samples.last { now - $0.at >= 1 } ?? samples.first
        if let base, now > base.at {
            let orders = sample.orders &- base.orders, rejects = sample.rejects &- base.rejects
            readings.rejectRatio = orders == 0 ? (rejects == 0 ? 0 : 1) : min(1, Double(rejects) / Double(orders))
            readings.errorsPerSecond = Double(sample.errors &- base.errors) / (now - base.at)
        }
        samples.append(sample)
        // Keep the newest sample at least a second old and everything after it.
        if let keep = samples.lastIndex(where: { now - $0.at >= 1 }), keep > 0 { samples.removeFirst(keep) }
        if let journal { readings.journalLagRecords = Double(journal["lag"] ?? 0) }
        if let replication = s.block("replication"), replication["role"] != ReplicationCounters.standbyRole {
            readings.replicationLagRecords = Double(replication["lag_records"] ?? 0)
        }
        return readings
    }

    /// The firing's record at critical, then its action.
    func take(_ firing: EmergencyTriggers.Firing) {
        let record = "emergency trigger \(firing.condition.rawValue) fired: \(firing.reason) "
            + "(value \(EmergencyTriggers.Firing.format(firing.value)), threshold \(EmergencyTriggers.Firing.format(firing.threshold)), "
            + "held \(Int(firing.heldSeconds.rounded())) s)"
        logger.critical("\(record)")
        switch firing.action {
        case .alert: return
        case .stopNewOrders: _ = stopTrading(halt: false, who: "emergency:\(firing.condition.rawValue)", reason: firing.reason)
        case .cancelAllAndHalt: _ = stopTrading(halt: true, who: "emergency:\(firing.condition.rawValue)", reason: firing.reason)
        case .shutdown:
            _ = stopTrading(halt: true, who: "emergency:\(firing.condition.rawValue)", reason: firing.reason)
            requestShutdown("emergency trigger \(firing.reason)")
        }
    }

    /// The kill switch (every resting order cancelled, new ones refused) and, with `halt`, a
    /// market-wide halt, each queued for the engine after a note of `who` and `reason`; the
    /// commands queued, or why not.
    func stopTrading(halt: Bool, who: String, reason: String) -> Result<[String], AdminActions.Refused> {
        // An operator of the admin role in name only: it authenticates nothing, it names who the
        // journal says took the action.
        let person = APIKeys.Operator(username: who, credential: .plain(Secret("")), role: .admin)
        var commands: [String] = []
        var requests = [AdminActions.Request(.killExchange, .exchange, reason: reason)]
        if halt { requests.append(AdminActions.Request(.halt, .symbol(.everySymbol), reason: reason)) }
        for request in requests {
            switch actions.take(request, by: person) {
            case .success: commands.append(request.action == .halt ? "trading_phase halt *" : "kill_exchange")
            case .failure(let refused):
                logger.critical("emergency: \(who) could not take \(request.action): \(refused.message)")
                return .failure(refused)
            }
        }
        return .success(commands)
    }

    /// Asks for the clean drain once (later asks are ignored); false when there is no way to
    /// stop the process here.
    @discardableResult
    func requestShutdown(_ reason: String) -> Bool {
        guard let shutdown else {
            logger.critical("emergency: shutdown asked for (\(reason)), but this exchange has no shutdown path; trading is stopped and halted")
            return false
        }
        let first = state.withLock { s in
            defer { s.shutdownRequested = true }
            return !s.shutdownRequested
        }
        if first {
            logger.critical("emergency shutdown: \(reason): draining")
            shutdown(reason)
        }
        return true
    }

    /// Operator actions (the kill switch and halt an emergency queued among them) the gateway
    /// has not yet taken.
    public var pendingActions: Int { actions.queue?.depth ?? 0 }

    /// Whether a shutdown was asked for.
    public var shutdownRequested: Bool { state.withLock { $0.shutdownRequested } }

    /// The evaluator as it stands (tests, /health).
    public var triggers: EmergencyTriggers { state.withLock { $0.triggers } }

    /// The manual emergency shutdown (`POST /emergency/shutdown`, role admin): the kill
    /// switch, the market-wide halt, then the drain. The commands queued, or why not.
    func manualShutdown(by person: APIKeys.Operator, reason: String) -> Result<[String], AdminActions.Refused> {
        let note = String(("emergency shutdown: " + reason).prefix(OperatorNote.maximumReasonBytes))
        let taken = stopTrading(halt: true, who: person.username, reason: note)
        guard case .success = taken else { return taken }
        guard requestShutdown("by \(person.username): \(reason)") else {
            return .failure(AdminActions.Refused(refusal: .unavailable, message: "trading is stopped and halted, but this exchange cannot drain itself (no shutdown path)"))
        }
        return taken
    }

    /// `/health`'s `emergency` check: degraded while a trigger has fired and not cleared.
    func healthCheck() -> HealthEvaluator.Check? {
        let (triggers, draining) = state.withLock { ($0.triggers, $0.shutdownRequested) }
        let active = EmergencyTriggers.Condition.allCases.compactMap { c -> String? in
            if case .fired(let f) = triggers.state(c) { return f.reason }
            return nil
        }
        if draining { return HealthEvaluator.Check(status: .degraded, detail: "emergency shutdown: draining" + (active.isEmpty ? "" : "; fired: " + active.joined(separator: "; "))) }
        guard settings.anyOn else { return nil }
        if active.isEmpty {
            return HealthEvaluator.Check(status: .healthy, detail: "armed: " + triggers.armed.keys.map(\.rawValue).sorted().joined(separator: ", "))
        }
        return HealthEvaluator.Check(status: .degraded, detail: "fired: " + active.joined(separator: "; "))
    }

    func metrics(_ out: inout PrometheusText) {
        let triggers = state.withLock { $0.triggers }
        let all = EmergencyTriggers.Condition.allCases
        out.metric("rtes_emergency_trigger_fired_total", "counter", "Emergency triggers fired, by condition (docs/OPERATIONS.md).",
                   all.map { (#"{condition="\#($0.rawValue)"}"#, String(triggers.firedTotal[$0] ?? 0)) })
        out.metric("rtes_emergency_trigger_active", "gauge", "1 while an emergency trigger has fired and its condition has not cleared.",
                   all.map { (#"{condition="\#($0.rawValue)"}"#, triggers.isActive($0) ? "1" : "0") })
    }
}
