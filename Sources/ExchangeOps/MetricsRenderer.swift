import ExchangeCore
import ExchangeRuntime

/// Renders a counters snapshot in the Prometheus text exposition format (version 0.0.4).
/// Latency quantiles come from the recent window the admin plane keeps (`LatencyWindow`).
public enum MetricsRenderer {
    public static func render(_ s: CountersSnapshot, recentLatency: LatencyHistogram.Snapshot) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func one(_ name: String, _ type: String, _ help: String, _ value: UInt64) {
            metric(name, type, help, [("", String(value))])
        }
        func number(_ value: Double) -> String { value.isFinite ? String(value) : "NaN" }
        one("rtes_up", "gauge", "1 while the exchange process runs its agents.", s.state == .running ? 1 : 0)
        one("rtes_commands_total", "counter", "Commands the engine processed.", s.engine["commands"] ?? 0)
        one("rtes_orders_received_total", "counter", "Enter and replace messages that reached the engine.", s.engine["orders_received"] ?? 0)
        one("rtes_orders_accepted_total", "counter", "Orders accepted.", s.engine["orders_accepted"] ?? 0)
        metric("rtes_orders_rejected_total", "counter", "Orders, replaces, cancels and modifies rejected, by reason.",
               s.rejectsByReason.map { (#"{reason="\#($0.reason)"}"#, String($0.count)) })
        one("rtes_trades_total", "counter", "Executions (one per fill).", s.engine["trades"] ?? 0)
        one("rtes_shares_traded_total", "counter", "Shares executed.", s.engine["shares_traded"] ?? 0)
        one("rtes_events_total", "counter", "Events the engine emitted.", s.engine["events"] ?? 0)
        let ticks = Double(max(1, s.ticksPerSecond))
        metric("rtes_order_latency_seconds", "summary",
               "Time from a command entering the engine's ring to the end of its processing, over the last minute.",
               [0.5, 0.99, 0.999].map { q in (#"{quantile="\#(q)"}"#, number(Double(recentLatency.quantile(q)) / ticks)) }
                   + [("_sum", number(Double(s.latency.sum) / ticks)), ("_count", String(s.latency.count))])
        one("rtes_active_connections", "gauge", "Order-entry sessions connected.", s.gateway["active_connections"] ?? 0)
        one("rtes_order_pool_used", "gauge", "Orders resting in the book.", s.engine["resting_orders"] ?? 0)
        one("rtes_order_pool_capacity", "gauge", "Orders that can rest at once.", s.poolCapacity)
        metric("rtes_queue_depth", "gauge", "Messages waiting in each ring.",
               s.rings.map { (#"{ring="\#($0.slot.metricName)"}"#, String($0.depth)) })
        metric("rtes_ring_full_total", "counter", "Times a producer found its ring full (the message waited, never dropped).",
               s.rings.map { (#"{ring="\#($0.slot.metricName)"}"#, String($0.full)) })
        metric("rtes_agent_max_duty_cycle_seconds", "gauge", "Longest single doWork() of each agent since start.",
               s.agents.map { (#"{agent="\#($0.slot.metricName)"}"#, number($0.maxDutyCycleSeconds)) })
        metric("rtes_agent_heartbeat_total", "counter", "Loop iterations of each agent (advances while it runs).",
               s.agents.map { (#"{agent="\#($0.slot.metricName)"}"#, String($0.heartbeat)) })
        return out
    }
}
