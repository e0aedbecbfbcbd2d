import BenchSupport
import Foundation

/// One server's closed-loop latency over all rounds.
struct ServerLatency: Codable {
    var server: String
    var about: String
    /// "measured", or why there is no measurement.
    var status: String
    /// Enter Order → Accepted, every round's samples together.
    var enter: LatencySummary?
    /// Cancel Order → Canceled, every round's samples together.
    var cancel: LatencySummary?
    /// Enter Order → its Add Order on the ITCH feed (rtes-md only).
    var enterToITCH: LatencySummary?
    /// Enter Order → Accepted, each round on its own (run-to-run spread).
    var rounds: [LatencySummary]
    /// The feed tap's recovery over all rounds (rtes-md only).
    var feedRecovery: FeedRecovery? = nil

    enum CodingKeys: String, CodingKey {
        case server, about, status, enter = "enter_to_accepted", cancel = "cancel_to_canceled", rounds = "enter_to_accepted_rounds"
        case enterToITCH = "enter_to_itch_add_order", feedRecovery = "feed_recovery"
    }
}

/// What the feed tap of the latency rounds had to recover: gaps it saw in the live feed,
/// re-requests it sent, and Add Orders it found only in a re-request answer (those are not
/// in the Enter → Add Order figures: their wire time is unknown).
struct FeedRecovery: Codable {
    var gaps: Int
    var requests: Int
    var recoveredAddOrders: Int
    enum CodingKeys: String, CodingKey {
        case gaps, requests = "re_requests", recoveredAddOrders = "add_orders_recovered"
    }
}

struct Ratios: Codable {
    var rtesOverFloorP50: Double?
    var rtesOverFloorP99: Double?
    var nioOverRTESP50: Double?
    var nioOverFloorP50: Double?
    var fixOverOUCHP50: Double?
    var fixOverOUCHP99: Double?
    var quickfixOverFIXP50: Double?
    var quickfixOverFIXP99: Double?
    var tlsOverPlainP50: Double?
    var tlsOverPlainP99: Double?

    enum CodingKeys: String, CodingKey {
        case rtesOverFloorP50 = "rtes_over_floor_p50", rtesOverFloorP99 = "rtes_over_floor_p99"
        case nioOverRTESP50 = "swiftnio_over_rtes_p50", nioOverFloorP50 = "swiftnio_over_floor_p50"
        case fixOverOUCHP50 = "rtes_fix_over_rtes_p50", fixOverOUCHP99 = "rtes_fix_over_rtes_p99"
        case quickfixOverFIXP50 = "quickfix_over_rtes_fix_p50", quickfixOverFIXP99 = "quickfix_over_rtes_fix_p99"
        case tlsOverPlainP50 = "rtes_tls_over_rtes_p50", tlsOverPlainP99 = "rtes_tls_over_rtes_p99"
    }
}

/// A goal of issue 4 and where the run left it.
struct Goal: Codable {
    var goal: String
    var measured: String
    /// nil: not measured in this run.
    var met: Bool?
}

struct GatewayReport: Codable {
    var host: BenchmarkHost
    var command: String
    var pinning: String
    var method: String
    var packetBytes: [String: Int]
    var latency: [ServerLatency]
    var ratios: Ratios
    var throughput: [PipelinedRun]
    var throughputNotes: [String]
    /// The ring setup the floor server obtained, from its IORING_SETUP_* flags.
    var floorRing: String?
    var goals: [Goal]

    enum CodingKeys: String, CodingKey {
        case host, command, pinning, method, packetBytes = "packet_bytes", latency, ratios, throughput
        case throughputNotes = "throughput_notes", floorRing = "floor_ring", goals
    }

    func latencyTable() -> String {
        var table = TextTable("Enter → Accepted", "p50", "p90", "p99", "p99.9", "max", "count", "p50 per round", "Cancel → Canceled p50")
        for server in latency {
            guard let e = server.enter else {
                let reason = server.status.prefix { $0 != "\n" }
                table.add(server.server, "—", "—", "—", "—", "—", "0", reason.count > 60 ? reason.prefix(57) + "…" : String(reason), "—")
                continue
            }
            table.add(server.server, formatNanoseconds(e.p50), formatNanoseconds(e.p90), formatNanoseconds(e.p99),
                      formatNanoseconds(e.p999), formatNanoseconds(e.max), "\(e.count)",
                      server.rounds.map { formatNanoseconds($0.p50) }.joined(separator: " / "),
                      server.cancel.map { formatNanoseconds($0.p50) } ?? "—")
        }
        return table.render()
    }

    /// Enter Order → Add Order on the ITCH feed, for the servers that publish one; nil when none did.
    func itchTable() -> String? {
        let rows = latency.compactMap { server in server.enterToITCH.map { (server.server, $0) } }
        guard !rows.isEmpty else { return nil }
        var table = TextTable("Enter → ITCH Add Order", "p50", "p90", "p99", "p99.9", "max", "count", "gaps", "re-requests", "recovered")
        for (name, s) in rows {
            let r = latency.first { $0.server == name }?.feedRecovery
            table.add(name, formatNanoseconds(s.p50), formatNanoseconds(s.p90), formatNanoseconds(s.p99), formatNanoseconds(s.p999),
                      formatNanoseconds(s.max), "\(s.count)", r.map { "\($0.gaps)" } ?? "—", r.map { "\($0.requests)" } ?? "—",
                      r.map { "\($0.recoveredAddOrders)" } ?? "—")
        }
        return table.render()
    }

    func throughputTable() -> String {
        var table = TextTable("8 connections pipelining", "Enter orders/s", "messages/s", "answered", "accepted", "canceled",
                              "rejected", "lost", "seconds", "window")
        for run in throughput {
            table.add(run.server, String(format: "%.0f", run.ordersPerSecond), String(format: "%.0f", run.messagesPerSecond),
                      "\(run.accepted + run.canceled + run.rejected + run.cancelRejected) of \(run.sent)", "\(run.accepted)",
                      "\(run.canceled)", "\(run.rejected + run.cancelRejected)", "\(run.lost)",
                      String(format: "%.2f", run.elapsedSeconds), "\(run.window)")
        }
        return table.render()
    }

    func goalTable() -> String {
        var table = TextTable("goal", "measured", "met")
        for goal in goals {
            table.add(goal.goal, goal.measured, goal.met.map { $0 ? "yes" : "NO" } ?? (goal.measured == "—" ? "not measured" : "(no goal)"))
        }
        return table.render()
    }
}
