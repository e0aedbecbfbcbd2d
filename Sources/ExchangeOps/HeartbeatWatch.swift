import ExchangeRuntime

/// Whether every agent thread is still making progress: each runner publishes a heartbeat
/// (its loop count, every 1,024 turns); an agent whose heartbeat has not moved for `window`
/// seconds is stuck (a `doWork()` that never returns), and so is one that stopped running.
/// The watchdog pings systemd only while this holds, so a stuck engine gets the service
/// restarted.
public struct HeartbeatWatch: Sendable {
    public let window: Double
    private var last: [CountersLayout.AgentSlot: (beat: UInt64, since: Double)] = [:]

    public init(window: Double) { self.window = window }

    /// One agent thread as the counters show it.
    public struct Beat: Sendable {
        public var slot: CountersLayout.AgentSlot
        public var heartbeat: UInt64
        /// Running, and its `onStart()` did not fail.
        public var running: Bool

        public init(slot: CountersLayout.AgentSlot, heartbeat: UInt64, running: Bool) {
            self.slot = slot
            self.heartbeat = heartbeat
            self.running = running
        }
    }

    /// The agents of a counters snapshot.
    public static func beats(_ snapshot: CountersSnapshot) -> [Beat] {
        snapshot.agents.map { Beat(slot: $0.slot, heartbeat: $0.heartbeat, running: $0.running && !$0.startFailed) }
    }

    /// Records the agents' heartbeats at `now` (monotonic seconds); true when every agent runs
    /// and each heartbeat moved within the window.
    public mutating func allProgressing(_ agents: [Beat], now: Double) -> Bool {
        guard !agents.isEmpty else { return false }
        var progressing = true
        for agent in agents {
            if let previous = last[agent.slot], previous.beat == agent.heartbeat {
                if now - previous.since > window { progressing = false }
            } else {
                last[agent.slot] = (agent.heartbeat, now)
            }
            if !agent.running { progressing = false }
        }
        return progressing
    }
}
