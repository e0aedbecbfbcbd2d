import ExchangeConfig
import ExchangeCore
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing

/// A GET with a real HTTP client (URLSession), waiting synchronously.
func httpGet(_ url: String, timeout: TimeInterval = 5) -> (status: Int, body: String)? {
    let done = DispatchSemaphore(value: 0)
    let result = ResultBox()
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = timeout
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if let http = response as? HTTPURLResponse {
            result.value = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
        }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + timeout + 1)
    return result.value
}

final class ResultBox: @unchecked Sendable {
    var value: (Int, String)?
}

/// A configuration for a `trading_exchange` process a test starts: the dev profile's symbols,
/// small sizes, shared mode, the admin plane and order gateway on ports the test chooses.
/// `json` (a `testConfiguration`) with a `durability` section (`fields`: its JSON members).
func withDurability(_ json: String, _ fields: String) -> String {
    json.replacingOccurrences(of: #""symbols": ["#, with: #""durability": { "# + fields + " },\n  " + #""symbols": ["#)
}

func testConfiguration(metricsPort: Int, name: String, tcpPort: Int? = nil) -> String {
    """
    {
      "exchange": { "name": "\(name)", "bind_address": "127.0.0.1", "metrics_port": \(metricsPort),
                    "tcp_port": \(tcpPort ?? freePort()), "udp_port": \(freePort()) },
      "gateway": { "session_history_messages": 1024, "token_history": 65536, "recv_buffer_count": 64,
                   "max_connections": 64 },
      "market_data": { "retransmit_port": \(freePort()), "snapshot_port": \(freePort()), "retransmit_history_messages": 4096 },
      "symbols": [
        { "symbol": "AAPL", "tick_size": 0.01, "reference_price": 230.00 },
        { "symbol": "MSFT", "tick_size": 0.01, "reference_price": 420.00 }
      ],
      "risk": { "max_order_size": 100000, "max_notional_per_client": 10000000, "max_orders_per_second": 10000 },
      "performance": { "order_pool_size": 20000, "queue_capacity": 4096, "max_clients": 64, "price_levels": 65536,
                       "threading_mode": "shared", "idle_strategy": "backoff", "enable_cpu_pinning": false,
                       "hugepages": "auto", "lock_memory": false }
    }
    """
}

@Suite(.serialized) struct ApplianceInProcess {
    @Test func runsInSharedModeAndServesEveryAdminEndpoint() throws {
        let exchange = try TestExchange(ExchangeKnobs(demoFlowRate: 20_000, demoFlowCommands: 20_000))
        let appliance = exchange.appliance
        let base = "http://127.0.0.1:\(appliance.admin!.port)"
        // The demo flow runs until its orders trade (bounded: 10 s).
        var snapshot = appliance.counters.snapshot()
        waitUntil {
            snapshot = appliance.counters.snapshot()
            return (snapshot.engine["trades"] ?? 0) > 0
        }
        #expect((snapshot.engine["trades"] ?? 0) > 0)

        let health = try #require(httpGet(base + "/health"))
        #expect(health.status == 200 && health.body.contains(#""status":"healthy""#))
        let ready = try #require(httpGet(base + "/ready"))
        #expect(ready.status == 200 && ready.body.contains(#""ready":true"#))
        #expect(httpGet(base + "/live")?.body.contains(#""alive":true"#) == true)
        let metrics = try #require(httpGet(base + "/metrics"))
        for name in ["rtes_orders_received_total", "rtes_orders_rejected_total{reason=\"max_order_size\"}", "rtes_trades_total",
                     "rtes_order_latency_seconds_bucket{le=\"0.0001\"}", "rtes_order_rejects_total", "rtes_active_connections", "rtes_order_pool_used",
                     "rtes_order_pool_capacity 20000", "rtes_queue_depth{ring=\"commands\"}", "rtes_ring_full_total{ring=\"book_events\"}",
                     "rtes_agent_max_duty_cycle_seconds{agent=\"engine\"}"] {
            #expect(metrics.body.contains(name), "missing \(name)")
        }
        let book = try #require(httpGet(base + "/debug/orderbook/AAPL?levels=5"))
        #expect(book.status == 200 && book.body.contains(#""symbol":"AAPL""#) && book.body.contains(#""bids":["#))
        #expect(httpGet(base + "/debug/orderbook/NOPE")?.status == 404)
        #expect(httpGet(base + "/debug/orderbook/AAPL?levels=0")?.status == 400)
        #expect(httpGet(base + "/no/such/path")?.status == 404)

        let final = exchange.drain()
        #expect(final.state == .stopped)
        #expect(final.agents.allSatisfy { !$0.running })
        #expect(final.rings.allSatisfy { $0.depth == 0 })
        let consumed = final.rings.filter { $0.slot == .commands || $0.slot == .control }.map(\.consumed).reduce(0, +)
        #expect(final.engine["commands"] == consumed)
        #expect(httpGet(base + "/live", timeout: 1) == nil)
    }
}

@Suite struct AdminPlaneRendering {
    @Test func rendersPrometheusTextWithHelpAndTypeForEveryFamily() {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        counters.registerRing(.commands, capacity: 8)
        counters.registerAgent(.engine, name: "engine")
        counters.state = .running
        let text = MetricsRenderer.render(counters.snapshot())
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE") }.map { $0.split(separator: " ")[2] }
        #expect(Set(families).count == families.count)
        #expect(text.contains("# TYPE rtes_order_latency_seconds histogram"))
        #expect(text.contains(#"rtes_order_latency_seconds_bucket{le="+Inf"} 0"#))
        #expect(text.contains("rtes_up 1"))
        #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("rtes_") })
    }

    @Test func reportsAStalledAgentAsUnhealthyAndAFillingRingAsDegraded() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let listening = CounterCell(0)
        let gateway = try counters.register(CounterBlockDescriptor(name: "gateway", counters: [.init("listening", .gauge, listening)]))
        counters.registerAgent(.engine, name: "engine")
        counters.registerRing(.bookEvents, capacity: 8)
        counters.store(CountersLayout.AgentSlot.engine.offset + CountersLayout.AgentCell.running, 1)
        gateway.store(listening, 1)
        counters.state = .running
        var health = HealthEvaluator(stallSeconds: 5)
        #expect(health.evaluate(counters.snapshot(), now: 0).status == .healthy)
        counters.store(CountersLayout.RingSlot.bookEvents.offset + CountersLayout.RingCell.full, 3)
        #expect(health.evaluate(counters.snapshot(), now: 1).status == .degraded)
        #expect(health.evaluate(counters.snapshot(), now: 2).status == .healthy)
        #expect(health.evaluate(counters.snapshot(), now: 10).status == .unhealthy)  // heartbeat never moved
        counters.store(CountersLayout.AgentSlot.engine.offset + CountersLayout.AgentCell.heartbeat, 1_024)
        #expect(health.evaluate(counters.snapshot(), now: 11).status == .healthy)
        // A gateway that stopped accepting connections makes the exchange unhealthy.
        gateway.store(listening, 0)
        let report = health.evaluate(counters.snapshot(), now: 12)
        #expect(report.status == .unhealthy)
        #expect(report.checks.first { $0.name == "gateway" }?.check.detail == "not accepting connections")
    }

    @Test func formatsPricesToTheTick() {
        #expect(formatPrice(1_502_500, tick: 100) == "150.25")
        #expect(formatPrice(1_502_501, tick: 1) == "150.2501")
        #expect(formatPrice(50_000, tick: 100) == "5.00")
    }
}

/// `promtool check metrics` (Debian's prometheus package; `.ci/check-ops` installs it) finds
/// nothing wrong with a running exchange's `/metrics`.
@Suite struct MetricsPassPromtool {
    static let promtool = "/usr/bin/promtool"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: promtool), "needs promtool (make test installs it)"))
    func metricsOfARunningExchangePassPromtoolCheckMetrics() throws {
        let exchange = try TestExchange(ExchangeKnobs(demoFlowRate: 20_000, demoFlowCommands: 2_000))
        defer { exchange.drain() }
        let base = "http://127.0.0.1:\(try #require(exchange.appliance.admin).port)"
        #expect(waitUntil { (exchange.snapshot().engine["commands"] ?? 0) > 0 })
        let metrics = try #require(httpGet(base + "/metrics"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(metrics.body.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics:\n\(report)")
        #expect(metrics.body.contains("# TYPE rtes_order_latency_seconds histogram"))
    }
}
