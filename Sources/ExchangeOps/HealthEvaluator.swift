import ExchangeRuntime

/// Turns successive counter snapshots into `/health`, `/ready` and `/live` answers.
/// Unhealthy: the process is not running or an agent stopped making progress (its
/// heartbeat did not move for `stallSeconds`). Degraded: a ring filled up since the last
/// look, the order pool is at least 90 % used, or orders were refused for a system reason
/// (`systemReasons`: a full ring, an account's share of the token history used up, the
/// order pool exhausted) within the last `refusalHoldSeconds` — and while that lasts the
/// exchange is not ready either — or the journal is stalled (a disk fault it is retrying), or
/// the gateway refuses new orders because it stalled past `durability.stall_budget_ms` (not
/// ready while it does), or replication is not keeping up (`replicationCheck`).
public struct HealthEvaluator: Sendable {
    public enum Status: String, Sendable { case healthy, degraded, unhealthy }

    public struct Check: Sendable {
        public var status: Status
        public var detail: String
    }

    public struct Report: Sendable {
        public var status: Status
        public var checks: [(name: String, check: Check)]
        /// Why orders are being refused for system reasons, while they are.
        public var refusingOrders: String?
    }

    /// Reject reasons (`rtes_orders_rejected_total{reason}`) that are the exchange's doing,
    /// not the client's, with what an operator does about each.
    public static let systemReasons: [(reason: String, fix: String)] = [
        ("system_busy", "the ring to the engine was full: the engine is not keeping up"),
        ("token_history_full", "an account used its share of gateway.token_history (gateway.max_tokens_per_account)"),
        ("order_pool_exhausted", "performance.order_pool_size orders rest already"),
        ("journal_stalled", "the journal made nothing durable for longer than durability.stall_budget_ms: see the journal check"),
    ]

    let stallSeconds: Double
    let refusalHoldSeconds: Double
    private var lastHeartbeat: [CountersLayout.AgentSlot: (beat: UInt64, since: Double)] = [:]
    private var lastFull: [CountersLayout.RingSlot: UInt64] = [:]
    private var lastRefused: [String: UInt64] = [:]
    private var refusal: (at: Double, detail: String)?

    /// `refusalHoldSeconds`: how long after the last order refused for a system reason the
    /// exchange stays degraded and not ready.
    public init(stallSeconds: Double = 5, refusalHoldSeconds: Double = 10) {
        self.stallSeconds = stallSeconds
        self.refusalHoldSeconds = refusalHoldSeconds
    }

    /// `now` is a monotonic time in seconds.
    public mutating func evaluate(_ s: CountersSnapshot, now: Double) -> Report {
        var checks: [(String, Check)] = []
        switch s.state {
        case .running: checks.append(("process", Check(status: .healthy, detail: "running")))
        case .starting: checks.append(("process", Check(status: .degraded, detail: "starting")))
        case .draining: checks.append(("process", Check(status: .degraded, detail: "draining")))
        case .stopped: checks.append(("process", Check(status: .unhealthy, detail: "stopped")))
        }
        for agent in s.agents {
            let previous = lastHeartbeat[agent.slot]
            if previous == nil || previous!.beat != agent.heartbeat {
                lastHeartbeat[agent.slot] = (agent.heartbeat, now)
            }
            let still = now - (lastHeartbeat[agent.slot]?.since ?? now)
            let check: Check
            if agent.startFailed {
                check = Check(status: .unhealthy, detail: "did not start")
            } else if !agent.running {
                check = Check(status: .unhealthy, detail: "not running")
            } else if still > stallSeconds {
                check = Check(status: .unhealthy, detail: "no progress for \(Int(still)) s")
            } else {
                check = Check(status: .healthy, detail: "running" + (agent.cpu.map { " on CPU \($0)" } ?? ""))
            }
            checks.append(("agent_\(agent.slot.metricName)", check))
        }
        for ring in s.rings {
            let grew = ring.full > (lastFull[ring.slot] ?? ring.full)
            lastFull[ring.slot] = ring.full
            checks.append(("ring_\(ring.slot.metricName)", grew
                ? Check(status: .degraded, detail: "filled up since the last check (\(ring.full) times in all)")
                : Check(status: .healthy, detail: "depth \(ring.depth) of \(ring.capacity)")))
        }
        if s.poolCapacity > 0 {
            let used = s.engine["resting_orders"] ?? 0
            let share = Double(used) / Double(s.poolCapacity)
            checks.append(("order_pool", share >= 0.9
                ? Check(status: share >= 1 ? .unhealthy : .degraded, detail: "\(used) of \(s.poolCapacity) used")
                : Check(status: .healthy, detail: "\(used) of \(s.poolCapacity) used")))
        }
        if let journal = s.block("journal") {
            // In sync nothing is answered while the journal cannot make records durable; in
            // async the loss window grows. Either way the operator must know now.
            let stalled = (journal["stalled"] ?? 0) != 0
            let errors = ["errors_no_space", "errors_io", "errors_short_write", "errors_other"]
                .compactMap { name in (journal[name] ?? 0) > 0 ? "\(name) \(journal[name]!)" : nil }
            checks.append(("journal", stalled
                ? Check(status: .degraded, detail: "stalled: records are not becoming durable (\(errors.joined(separator: ", "))); "
                    + "\(journal["lag"] ?? 0) records waiting, durable through \(journal["durable_sequence"] ?? 0)")
                : Check(status: .healthy, detail: "durable through \(journal["durable_sequence"] ?? 0)"
                    + (errors.isEmpty ? "" : "; recovered from \(errors.joined(separator: ", "))"))))
        }
        var refusing = refusedOrders(s, now: now)
        if (s.gateway["refusing_new_orders"] ?? 0) != 0 {
            // Now, not only within the hold after the last refusal: no order needs to arrive
            // for the exchange to say it would refuse one.
            let now = "refusing new orders: the journal has made nothing durable for longer than durability.stall_budget_ms "
                + "(\(s.gateway["stall_refusals"] ?? 0) refused so far; cancels are taken)"
            refusing = refusing.map { now + "; " + $0 } ?? now
        }
        checks.append(("orders", refusing.map { Check(status: .degraded, detail: $0) }
            ?? Check(status: .healthy, detail: "no order refused for a system reason in the last \(Int(refusalHoldSeconds)) s")))
        let replication = s.block("replication")
        if let replication { checks.append(("replication", Self.replicationCheck(replication))) }
        let standby = replication?["role"] == ReplicationCounters.standbyRole
        if s.state == .running && standby {
            checks.append(("gateway", Check(status: .healthy, detail: "standby: the client ports are not opened")))
        } else if s.state == .running {
            let listening = (s.gateway["listening"] ?? 0) != 0
            checks.append(("gateway", listening
                ? Check(status: .healthy, detail: "accepting; \(s.gateway["active_connections"] ?? 0) connections, \(s.gateway["active_sessions"] ?? 0) sessions")
                : Check(status: .unhealthy, detail: "not accepting connections")))
        }
        let worst: Status = checks.contains { $0.1.status == .unhealthy } ? .unhealthy
            : checks.contains { $0.1.status == .degraded } ? .degraded : .healthy
        return Report(status: worst, checks: checks, refusingOrders: refusing)
    }

    /// How far the standby lags behind before `/health` says degraded.
    public static let replicationLagBudgetMicroseconds: UInt64 = 1_000_000

    /// The replication link (block `replication`): degraded while a sync primary has no
    /// standby (its output is held), while the standby lags by more than
    /// `replicationLagBudgetMicroseconds`, or while a standby is not connected to its primary.
    static func replicationCheck(_ r: CountersSnapshot.BlockState) -> Check {
        let lag = "\(r["lag_records"] ?? 0) records, \(r["lag_us"] ?? 0) µs behind"
        if r["role"] == ReplicationCounters.standbyRole {
            guard (r["connected"] ?? 0) != 0 else {
                return Check(status: .degraded, detail: "standby: not connected to the primary (applied through \(r["applied_sequence"] ?? 0))")
            }
            return Check(status: .healthy, detail: "standby: following the primary, applied through \(r["applied_sequence"] ?? 0), "
                + "durable through \(r["acknowledged_durable"] ?? 0); the primary is at \(r["primary_sequence"] ?? 0)")
        }
        let sync = r["mode"] == 2
        if (r["connected"] ?? 0) == 0 {
            return Check(status: .degraded, detail: sync
                ? "sync: no standby connected: output after sequence \(r["released_sequence"] ?? 0) is held until one acknowledges it (\(lag))"
                : "async: no standby connected (\(lag))")
        }
        if (r["lag_us"] ?? 0) > Self.replicationLagBudgetMicroseconds {
            return Check(status: .degraded, detail: "the standby lags: \(lag)")
        }
        return Check(status: .healthy, detail: "standby connected; \(lag)" + (sync ? "; output released through \(r["released_sequence"] ?? 0)" : ""))
    }

    /// What refused orders for a system reason since the last look, or within
    /// `refusalHoldSeconds` of it; nil when nothing did.
    private mutating func refusedOrders(_ s: CountersSnapshot, now: Double) -> String? {
        let counts = Dictionary(s.rejectsByReason.map { ($0.reason, $0.count) }, uniquingKeysWith: +)
        var grew: [String] = []
        for (reason, fix) in Self.systemReasons {
            let count = counts[reason] ?? 0
            if let before = lastRefused[reason], count > before {
                grew.append("\(count - before) \(reason) (\(fix))")
            }
            lastRefused[reason] = count
        }
        if !grew.isEmpty {
            refusal = (now, "orders refused for system reasons: " + grew.joined(separator: "; "))
        }
        guard let refusal, now - refusal.at < refusalHoldSeconds else { return nil }
        return refusal.detail
    }

    /// Ready when running, every agent runs, and no order was refused for a system reason
    /// lately (`report` is this moment's evaluation).
    public static func readiness(_ s: CountersSnapshot, _ report: Report) -> (ready: Bool, reason: String?) {
        guard s.state == .running else { return (false, "the exchange is \(s.state)") }
        guard !s.agents.isEmpty, s.agents.allSatisfy(\.running) else { return (false, "an agent is not running") }
        if let refusing = report.refusingOrders { return (false, refusing) }
        return (true, nil)
    }
}
