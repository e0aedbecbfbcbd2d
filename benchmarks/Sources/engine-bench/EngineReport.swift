import BenchSupport
import Foundation

struct RateLatency: Codable {
    var offeredRate: Int
    var latency: LatencySummary
    /// Share of commands whose planned time had already passed when their turn came.
    var behindSchedulePercent: Double

    enum CodingKeys: String, CodingKey {
        case offeredRate = "offered_rate_per_sec", latency, behindSchedulePercent = "behind_schedule_percent"
    }
}

struct Comparison: Codable {
    var referenceCommands: Int
    var referenceOpsPerSecond: Double
    var enginePrefixOpsPerSecond: Double
    var engineOverReference: Double

    enum CodingKeys: String, CodingKey {
        case referenceCommands = "reference_commands", referenceOpsPerSecond = "reference_model_ops_per_sec"
        case enginePrefixOpsPerSecond = "engine_same_prefix_ops_per_sec", engineOverReference = "engine_over_reference_ratio"
    }
}

struct WorkloadResult: Codable {
    var key: String
    var title: String
    var description: String
    var commands: Int
    var events: Int
    var executions: UInt64
    var peakRestingOrders: UInt64
    var rejects: UInt64
    var opsPerSecond: Double
    var opsPerSecondMin: Double
    var opsPerSecondMax: Double
    var eventsPerSecond: Double
    var fillsPerSecond: Double
    var withoutPrefetchOpsPerSecond: Double
    var mallocs: UInt64
    var latencyByRate: [RateLatency]
    /// The percentiles at the highest offered rate, repeated at the top level.
    var headline: LatencySummary
    var headlineRate: Int
    var comparison: Comparison?
    var gatewayStyle: GatewayStyleResult?

    enum CodingKeys: String, CodingKey {
        case key, title, description, commands, events, executions, rejects
        case peakRestingOrders = "peak_resting_orders"
        case opsPerSecond = "ops_per_sec", opsPerSecondMin = "ops_per_sec_min", opsPerSecondMax = "ops_per_sec_max"
        case eventsPerSecond = "events_per_sec", fillsPerSecond = "fills_per_sec"
        case withoutPrefetchOpsPerSecond = "without_prefetch_ops_per_sec", mallocs
        case latencyByRate = "latency_by_offered_rate", headlineRate = "latency_offered_rate_per_sec"
        case p50 = "p50_ns", p99 = "p99_ns", p999 = "p999_ns", max = "max_ns", comparison
        case gatewayStyle = "gateway_style"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(title, forKey: .title)
        try c.encode(description, forKey: .description)
        try c.encode(commands, forKey: .commands)
        try c.encode(events, forKey: .events)
        try c.encode(executions, forKey: .executions)
        try c.encode(rejects, forKey: .rejects)
        try c.encode(peakRestingOrders, forKey: .peakRestingOrders)
        try c.encode(opsPerSecond.rounded(), forKey: .opsPerSecond)
        try c.encode(opsPerSecondMin.rounded(), forKey: .opsPerSecondMin)
        try c.encode(opsPerSecondMax.rounded(), forKey: .opsPerSecondMax)
        try c.encode(eventsPerSecond.rounded(), forKey: .eventsPerSecond)
        try c.encode(fillsPerSecond.rounded(), forKey: .fillsPerSecond)
        try c.encode(withoutPrefetchOpsPerSecond.rounded(), forKey: .withoutPrefetchOpsPerSecond)
        try c.encode(mallocs, forKey: .mallocs)
        try c.encode(latencyByRate, forKey: .latencyByRate)
        try c.encode(headlineRate, forKey: .headlineRate)
        try c.encode(headline.p50, forKey: .p50)
        try c.encode(headline.p99, forKey: .p99)
        try c.encode(headline.p999, forKey: .p999)
        try c.encode(headline.max, forKey: .max)
        try c.encodeIfPresent(comparison, forKey: .comparison)
        try c.encodeIfPresent(gatewayStyle, forKey: .gatewayStyle)
    }

    init(key: String, title: String, description: String, commands: Int, events: Int, executions: UInt64,
         peakRestingOrders: UInt64, rejects: UInt64, opsPerSecond: Double, opsPerSecondMin: Double,
         opsPerSecondMax: Double, eventsPerSecond: Double, fillsPerSecond: Double, withoutPrefetchOpsPerSecond: Double,
         mallocs: UInt64, latencyByRate: [RateLatency], headline: LatencySummary, headlineRate: Int) {
        self.key = key
        self.title = title
        self.description = description
        self.commands = commands
        self.events = events
        self.executions = executions
        self.peakRestingOrders = peakRestingOrders
        self.rejects = rejects
        self.opsPerSecond = opsPerSecond
        self.opsPerSecondMin = opsPerSecondMin
        self.opsPerSecondMax = opsPerSecondMax
        self.eventsPerSecond = eventsPerSecond
        self.fillsPerSecond = fillsPerSecond
        self.withoutPrefetchOpsPerSecond = withoutPrefetchOpsPerSecond
        self.mallocs = mallocs
        self.latencyByRate = latencyByRate
        self.headline = headline
        self.headlineRate = headlineRate
    }

    init(from decoder: Decoder) throws { fatalError("results are written, never read") }
}

struct EngineReport: Codable {
    var host: BenchmarkHost
    var command: String
    var workloads: [WorkloadResult]

    func table() -> String {
        var throughput = TextTable("workload", "commands", "M ops/s", "min–max", "M events/s", "M fills/s", "no prefetch", "ratio", "mallocs")
        for w in workloads {
            throughput.add(w.title, w.commands.formatted(), String(format: "%.2f", w.opsPerSecond / 1e6),
                           String(format: "%.2f–%.2f", w.opsPerSecondMin / 1e6, w.opsPerSecondMax / 1e6),
                           String(format: "%.2f", w.eventsPerSecond / 1e6), String(format: "%.2f", w.fillsPerSecond / 1e6),
                           String(format: "%.2f", w.withoutPrefetchOpsPerSecond / 1e6),
                           String(format: "%.2f×", w.opsPerSecond / w.withoutPrefetchOpsPerSecond), "\(w.mallocs)")
        }
        var latency = TextTable("workload", "offered", "p50", "p90", "p99", "p99.9", "p99.99", "max", "behind")
        for w in workloads {
            for r in w.latencyByRate {
                let l = r.latency
                latency.add(w.title, "\(r.offeredRate / 1_000_000) M/s", formatNanoseconds(l.p50), formatNanoseconds(l.p90),
                            formatNanoseconds(l.p99), formatNanoseconds(l.p999), formatNanoseconds(l.p9999),
                            formatNanoseconds(l.max), String(format: "%.1f %%", r.behindSchedulePercent))
            }
        }
        var gateway = TextTable("workload", "batch + lookahead M ops/s", "gateway-style M ops/s", "min–max", "ratio", "OUCH mismatches")
        var gatewayLatency = TextTable("workload", "offered", "p50", "p90", "p99", "p99.9", "p99.99", "max", "behind")
        for w in workloads {
            guard let g = w.gatewayStyle else { continue }
            gateway.add(w.title, String(format: "%.2f", w.opsPerSecond / 1e6), String(format: "%.2f", g.opsPerSecond / 1e6),
                        String(format: "%.2f–%.2f", g.opsPerSecondMin / 1e6, g.opsPerSecondMax / 1e6),
                        String(format: "%.2f×", g.opsPerSecond / w.opsPerSecond), "\(g.roundTripMismatches)")
            for r in g.latencyByRate {
                let l = r.latency
                gatewayLatency.add(w.title, "\(r.offeredRate / 1_000_000) M/s", formatNanoseconds(l.p50), formatNanoseconds(l.p90),
                                   formatNanoseconds(l.p99), formatNanoseconds(l.p999), formatNanoseconds(l.p9999),
                                   formatNanoseconds(l.max), String(format: "%.1f %%", r.behindSchedulePercent))
            }
        }
        var text = "Throughput (flat out, median of repetitions)\n" + throughput.render()
        if workloads.contains(where: { $0.gatewayStyle != nil }) {
            text += "\n\nGateway-style: one command at a time through the engine agent's ring, decoded from OUCH on a producer thread\n"
            text += gateway.render()
            if !gatewayLatency.rows.isEmpty {
                text += "\n\nGateway-style latency, planned push → end of the agent's batch (agent histogram, ~6 % buckets)\n"
                text += gatewayLatency.render()
            }
        }
        text += "\n\nLatency per command from its planned send time (coordinated omission counted)\n" + latency.render()
        for w in workloads {
            if let c = w.comparison {
                text += "\n\nSide by side on the first \(c.referenceCommands.formatted()) commands of \(w.title):\n"
                text += String(format: "  engine %.2f M ops/s vs naive reference model %.3f M ops/s: %.0f× faster",
                               c.enginePrefixOpsPerSecond / 1e6, c.referenceOpsPerSecond / 1e6, c.engineOverReference)
            }
        }
        return text
    }
}
