import ExchangeConfig
import ExchangeOps
import ExchangeRuntime
import Foundation
import Logging
import Testing

/// The repository this test file lives in (for configs/, .ci/ and the Python checker).
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

/// The bundled development accounts: DEMO1 (client 0), DEMO2 (1), TRADER (2, cancel on
/// disconnect, max order size 10,000), LOAD1…LOAD8 (3…10).
let devKeys: APIKeys = try! APIKeys.load(path: repositoryRoot.appendingPathComponent("configs/api_keys.dev.json").path)

/// One account of the API keys file, as a client logs in with it.
struct Credentials: Sendable {
    var username: String
    var password: String

    static let demo1 = Credentials(username: "DEMO1", password: "demo1pass")
    static let demo2 = Credentials(username: "DEMO2", password: "demo2pass")
    static let trader = Credentials(username: "TRADER", password: "trader123")
    static func load(_ n: Int) -> Credentials { Credentials(username: "LOAD\(n)", password: "load\(n)pass") }
}

/// The `gateway` section of a test configuration: short timeouts so that every timeout case
/// finishes in well under a second; anything a test does not set keeps these values.
struct GatewayKnobs {
    var maxConnections = 64
    var maxPreLoginConnections = 0
    var sessionHistoryMessages = 1_024
    var sendQueueBytes = 1_048_576
    var heartbeatIntervalMilliseconds = 1_000
    var idleTimeoutMilliseconds = 15_000
    var loginTimeoutMilliseconds = 5_000
    var maxMessagesPerSecond = 1_000_000
    var tokenHistory = 65_536
    var receiveBufferSize = 4_096
    var receiveBufferCount = 64
    var shutdownGraceMilliseconds = 500
    var queueCapacity = 4_096
    var maxClients = 64
    var orderPoolSize = 20_000
    var maxOrdersPerSecond = 1_000_000

    /// A configuration file for these knobs: AAPL and MSFT for the tests, QUIET for the
    /// well-behaved session alone; no price collars; shared threading.
    var json: String {
        """
        {
          "exchange": { "name": "TEST-GATEWAY", "bind_address": "127.0.0.1", "metrics_port": 65001, "tcp_port": 65002,
                        "udp_port": 65003 },
          "market_data": { "retransmit_history_messages": 4096 },
          "gateway": { "session_name": "TESTSESS01", "max_connections": \(maxConnections), "max_pre_login_connections": \(maxPreLoginConnections),
                       "session_history_messages": \(sessionHistoryMessages), "send_queue_bytes": \(sendQueueBytes),
                       "heartbeat_interval_ms": \(heartbeatIntervalMilliseconds), "idle_timeout_ms": \(idleTimeoutMilliseconds),
                       "login_timeout_ms": \(loginTimeoutMilliseconds), "max_messages_per_second": \(maxMessagesPerSecond),
                       "token_history": \(tokenHistory), "recv_buffer_size": \(receiveBufferSize),
                       "recv_buffer_count": \(receiveBufferCount), "shutdown_grace_ms": \(shutdownGraceMilliseconds) },
          "symbols": [
            { "symbol": "AAPL", "tick_size": 0.01, "reference_price": 230.00 },
            { "symbol": "MSFT", "tick_size": 0.01, "reference_price": 420.00 },
            { "symbol": "QUIET", "tick_size": 0.01, "reference_price": 50.00 }
          ],
          "risk": { "max_order_size": 100000, "max_notional_per_client": 100000000000,
                    "max_orders_per_second": \(maxOrdersPerSecond), "price_collar_enabled": false },
          "performance": { "order_pool_size": \(orderPoolSize), "queue_capacity": \(queueCapacity), "max_clients": \(maxClients),
                           "price_levels": 65536, "threading_mode": "shared", "idle_strategy": "backoff",
                           "enable_cpu_pinning": false, "hugepages": "off", "lock_memory": false, "tcp_nodelay": true }
        }
        """
    }
}

/// The session name every test exchange uses (`gateway.session_name`).
let testSessionName = "TESTSESS01"

/// An exchange started in-process (`Appliance`, shared threading mode) with the order
/// gateway on a port the kernel chose. `drain()` stops it and returns the final counters;
/// a test must always drain (the deinit drains too, so a failing `#require` leaves nothing
/// behind).
final class TestExchange: @unchecked Sendable {
    let appliance: Appliance
    let port: Int
    private let countersPath: String
    private var final: CountersSnapshot?
    private let lock = NSLock()

    init(_ knobs: GatewayKnobs = GatewayKnobs(), keys: APIKeys = devKeys) throws {
        // The configured ports are never bound: the kernel chooses them.
        let loaded = try ConfigurationLoader.load(json: knobs.json, source: "gateway-test.json", environment: [:], host: .current())
        countersPath = NSTemporaryDirectory() + "rtes-gateway-test-\(getpid())-\(UUID().uuidString).counters"
        var configuration = loaded.configuration
        configuration.exchange.tcpPort = 0  // every port chosen by the kernel
        configuration.exchange.metricsPort = 0
        configuration.marketData.retransmitPort = 0
        configuration.marketData.snapshotPort = 0
        appliance = try Appliance.start(
            configuration,
            options: Appliance.Options(countersPath: countersPath, apiKeys: keys),
            logger: Logger(label: "gateway-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        port = appliance.gatewayPort
    }

    deinit { _ = drain() }

    /// The counters as the gateway last published them (every millisecond).
    func snapshot() -> CountersSnapshot { lock.withLock { final } ?? appliance.counters.snapshot() }

    /// Stops the exchange (End of Session to whoever is still connected) and returns the
    /// final counters. Idempotent.
    @discardableResult
    func drain() -> CountersSnapshot {
        lock.lock()
        defer { lock.unlock() }
        if let final { return final }
        let snapshot = appliance.drain()
        final = snapshot
        unlink(countersPath)
        return snapshot
    }

    /// Waits (at most `timeout` seconds) until `condition` holds for the published counters.
    @discardableResult
    func waitFor(_ timeout: Double = 3, _ condition: (CountersSnapshot) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(snapshot()) { return true }
            usleep(1_000)
        }
        return condition(snapshot())
    }
}

extension CountersSnapshot {
    /// The disconnect reasons counted at least once, by their documented names.
    var disconnects: [String: UInt64] {
        var result: [String: UInt64] = [:]
        for (reason, count) in disconnectsByReason where count > 0 { result[reason.description] = count }
        return result
    }

    func gatewayCount(_ name: String) -> UInt64 { gateway[name] ?? 0 }
}

/// Raises the soft open-files limit to the hard one when `needed` descriptors would not fit.
func ensureOpenFiles(_ needed: Int) -> Bool {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    if limit.rlim_cur >= rlim_t(needed) { return true }
    limit.rlim_cur = min(limit.rlim_max, rlim_t(max(needed, 4_096)))
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    return limit.rlim_cur >= rlim_t(needed)
}
