import ExchangeRuntime

/// Turns successive counter snapshots into `/health`, `/ready` and `/live` answers.
/// Unhealthy: the process is not running or an agent stopped making progress (its
/// heartbeat did not move for `stallSeconds`). Degraded: a ring filled up since the last
/// look, or the order pool is at least 90 % used.
public struct HealthEvaluator: Sendable {
    public enum Status: String, Sendable { case healthy, degraded, unhealthy }

    public struct Check: Sendable {
        public var status: Status
        public var detail: String
    }

    public struct Report: Sendable {
        public var status: Status
        public var checks: [(name: String, check: Check)]
    }

    let stallSeconds: Double
    private var lastHeartbeat: [CountersLayout.AgentSlot: (beat: UInt64, since: Double)] = [:]
    private var lastFull: [CountersLayout.RingSlot: UInt64] = [:]

    public init(stallSeconds: Double = 5) { self.stallSeconds = stallSeconds }

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
        if s.state == .running {
            let listening = (s.gateway["listening"] ?? 0) != 0
            checks.append(("gateway", listening
                ? Check(status: .healthy, detail: "accepting; \(s.gateway["active_connections"] ?? 0) connections, \(s.gateway["active_sessions"] ?? 0) sessions")
                : Check(status: .unhealthy, detail: "not accepting connections")))
        }
        let worst: Status = checks.contains { $0.1.status == .unhealthy } ? .unhealthy
            : checks.contains { $0.1.status == .degraded } ? .degraded : .healthy
        return Report(status: worst, checks: checks)
    }

    /// Ready when running and every agent runs.
    public static func isReady(_ s: CountersSnapshot) -> Bool {
        s.state == .running && !s.agents.isEmpty && s.agents.allSatisfy(\.running)
    }
}
