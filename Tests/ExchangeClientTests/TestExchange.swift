import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeOps
import ExchangeRuntime
import Foundation
import Logging

/// A real exchange in this process (the appliance the `trading_exchange` binary runs), on a
/// port the kernel picks, with the repository's development accounts. `stop()` drains it.
final class TestExchange {
    let appliance: Appliance
    private let countersPath: String
    private var stopped = false

    var port: Int { appliance.gatewayPort }
    var session: String { appliance.sessionName }

    /// The repository's bundled development accounts (configs/api_keys.dev.json).
    static let keys: APIKeys = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try! APIKeys.load(path: url.appendingPathComponent("configs/api_keys.dev.json").path)
    }()

    /// - Parameters:
    ///   - heartbeatMilliseconds, idleTimeoutMilliseconds: the gateway's timers.
    ///   - ordersPerSecond: the per-account rate limit (high: the load tests must not meet it).
    init(heartbeatMilliseconds: Int = 1_000, idleTimeoutMilliseconds: Int = 15_000, ordersPerSecond: Int = 1_000_000) throws {
        let json = """
            {
              "exchange": { "name": "TEST-CLIENT", "bind_address": "127.0.0.1", "metrics_port": \(freePort()),
                            "tcp_port": \(freePort()), "udp_port": \(freePort()) },
              "market_data": { "retransmit_history_messages": 4096 },
              "gateway": { "session_history_messages": 4096, "token_history": 65536, "recv_buffer_count": 64,
                           "max_connections": 64, "heartbeat_interval_ms": \(heartbeatMilliseconds),
                           "idle_timeout_ms": \(idleTimeoutMilliseconds) },
              "symbols": [
                { "symbol": "AAPL", "tick_size": 0.01, "reference_price": 230.00 },
                { "symbol": "MSFT", "tick_size": 0.01, "reference_price": 420.00 }
              ],
              "risk": { "max_order_size": 100000, "max_notional_per_client": 100000000, "max_orders_per_second": \(ordersPerSecond) },
              "performance": { "order_pool_size": 20000, "queue_capacity": 4096, "max_clients": 64, "price_levels": 65536,
                               "threading_mode": "shared", "idle_strategy": "backoff", "enable_cpu_pinning": false,
                               "hugepages": "off", "lock_memory": false }
            }
            """
        let loaded = try ConfigurationLoader.load(json: json, source: "client-test.json", environment: [:], host: .current())
        countersPath = NSTemporaryDirectory() + "rtes-client-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).counters"
        var configuration = loaded.configuration
        configuration.exchange.tcpPort = 0  // every port chosen by the kernel
        configuration.exchange.metricsPort = 0
        configuration.marketData.retransmitPort = 0
        configuration.marketData.snapshotPort = 0
        appliance = try Appliance.start(
            configuration,
            options: Appliance.Options(countersPath: countersPath, apiKeys: Self.keys),
            logger: Logger(label: "client-test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    deinit { _ = stop() }

    /// Drains the exchange (End of Session to whoever is still connected) and returns the
    /// final counters. Idempotent.
    @discardableResult
    func stop() -> CountersSnapshot? {
        guard !stopped else { return nil }
        stopped = true
        let final = appliance.drain()
        unlink(countersPath)
        return final
    }

    /// A client logged in as `username` (password from the development accounts).
    func client(_ username: String, sequence: UInt64 = 0, options: OrderEntryClient.Options = .init()) throws -> OrderEntryClient {
        try OrderEntryClient.connect(port: port, username: username, password: Self.password(username), sequence: sequence, options: options)
    }

    static func password(_ username: String) -> String {
        keys.accounts.first { $0.username == username }!.password.reveal()
    }
}

/// A port that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
