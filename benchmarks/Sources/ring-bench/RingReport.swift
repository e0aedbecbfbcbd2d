import BenchSupport
import Foundation

/// Throughput of one ring at one capacity and batch size over the repetitions.
struct ThroughputResult: Codable {
    var ring: String
    var messageBytes: Int
    var capacity: Int
    /// Slots per claim and per peek; 1: single pushes and pops.
    var batch: Int
    /// Million messages per second, each repetition in order.
    var runs: [Double]
    /// Times the producer found the ring full per message, each repetition in order.
    var fullPerMessage: [Double]
    var median: Double { runs.sorted()[runs.count / 2] }

    enum CodingKeys: String, CodingKey {
        case ring, messageBytes = "message_bytes", capacity, batch, runs = "runs_million_per_second"
        case fullPerMessage = "runs_ring_full_per_message"
        case median = "median_million_per_second"
    }

    init(ring: String, messageBytes: Int, capacity: Int, batch: Int, runs: [ThroughputRun]) {
        self.ring = ring
        self.messageBytes = messageBytes
        self.capacity = capacity
        self.batch = batch
        self.runs = runs.map { $0.messagesPerSecond / 1e6 }
        fullPerMessage = runs.map(\.fullPerMessage)
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ring = try c.decode(String.self, forKey: .ring)
        messageBytes = try c.decode(Int.self, forKey: .messageBytes)
        capacity = try c.decode(Int.self, forKey: .capacity)
        batch = try c.decode(Int.self, forKey: .batch)
        runs = try c.decode([Double].self, forKey: .runs)
        fullPerMessage = try c.decode([Double].self, forKey: .fullPerMessage)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ring, forKey: .ring)
        try c.encode(messageBytes, forKey: .messageBytes)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(batch, forKey: .batch)
        try c.encode(runs, forKey: .runs)
        try c.encode(fullPerMessage, forKey: .fullPerMessage)
        try c.encode(median, forKey: .median)
    }
}

/// One-way latency of one ring over the repetitions: the median of each percentile, and the
/// largest maximum of any repetition.
struct LatencyResult: Codable {
    var ring: String
    var messageBytes: Int
    var fromSend: LatencySummary
    var fromPlan: LatencySummary
    var runsFromSend: [LatencySummary]
    var runsFromPlan: [LatencySummary]

    enum CodingKeys: String, CodingKey {
        case ring, messageBytes = "message_bytes", fromSend = "median_from_send", fromPlan = "median_from_planned_send"
        case runsFromSend = "runs_from_send", runsFromPlan = "runs_from_planned_send"
    }

    init(ring: String, messageBytes: Int, runs: [LatencyRun]) {
        self.ring = ring
        self.messageBytes = messageBytes
        runsFromSend = runs.map(\.fromSend)
        runsFromPlan = runs.map(\.fromPlan)
        fromSend = Self.median(runsFromSend)
        fromPlan = Self.median(runsFromPlan)
    }

    static func median(_ runs: [LatencySummary]) -> LatencySummary {
        func mid(_ key: KeyPath<LatencySummary, UInt64>) -> UInt64 { runs.map { $0[keyPath: key] }.sorted()[runs.count / 2] }
        var summary = runs[0]
        summary.count = runs.reduce(0) { $0 + $1.count }
        summary.p50 = mid(\.p50)
        summary.p90 = mid(\.p90)
        summary.p99 = mid(\.p99)
        summary.p999 = mid(\.p999)
        summary.p9999 = mid(\.p9999)
        summary.max = runs.map(\.max).max()!
        return summary
    }
}

struct RingReport: Codable {
    var host: BenchmarkHost
    var command: String
    var pinning: String
    var capacities: [Int]
    var batch: Int
    var messages: Int
    var latencyMessages: Int
    var latencyIntervalNanoseconds: Double
    var repetitions: Int
    var pauseInSpinLoops: Bool
    var tscReadNanoseconds: TSCReadCost
    var throughput: [ThroughputResult]
    var latency: [LatencyResult]

    enum CodingKeys: String, CodingKey {
        case host, command, pinning, capacities, batch, messages
        case latencyMessages = "latency_messages", latencyIntervalNanoseconds = "latency_interval_ns", repetitions
        case pauseInSpinLoops = "pause_in_spin_loops", tscReadNanoseconds = "tsc_read", throughput, latency
    }

    func table() -> String {
        var table = TextTable("measure", "Swift ring", "C ring", "Swift/C", "Swift min–max", "C min–max")
        let sizes = Array(Set(throughput.map(\.messageBytes) + latency.map(\.messageBytes))).sorted()
        for bytes in sizes {
            for capacity in capacities {
                for batch in [1, batch] {
                    let runs = throughput.filter { $0.messageBytes == bytes && $0.capacity == capacity && $0.batch == batch }
                    guard let s = runs.first(where: { $0.ring == "Swift" }), let c = runs.first(where: { $0.ring == "C" }) else { continue }
                    func range(_ r: ThroughputResult) -> String { String(format: "%.1f–%.1f", r.runs.min()!, r.runs.max()!) }
                    let mode = batch == 1 ? "single" : "batch \(batch)"
                    table.add("\(bytes) B, capacity \(capacity), \(mode): M msgs/s", String(format: "%.1f", s.median),
                              String(format: "%.1f", c.median), String(format: "%.2f", s.median / c.median), range(s), range(c))
                }
            }
            guard let swift = latency.first(where: { $0.ring == "Swift" && $0.messageBytes == bytes }),
                  let c = latency.first(where: { $0.ring == "C" && $0.messageBytes == bytes }) else { continue }
            func add(_ name: String, _ key: KeyPath<LatencySummary, UInt64>, planned: Bool = false) {
                let a = (planned ? swift.fromPlan : swift.fromSend)[keyPath: key]
                let b = (planned ? c.fromPlan : c.fromSend)[keyPath: key]
                table.add("\(bytes) B, one-way latency \(name)", formatNanoseconds(a), formatNanoseconds(b),
                          String(format: "%.2f", Double(a) / Double(max(b, 1))), "", "")
            }
            add("p50", \.p50)
            add("p99", \.p99)
            add("p99.9", \.p999)
            add("max (of all runs)", \.max)
            add("p50 from planned send", \.p50, planned: true)
            add("p99.9 from planned send", \.p999, planned: true)
        }
        return table.render()
    }
}
