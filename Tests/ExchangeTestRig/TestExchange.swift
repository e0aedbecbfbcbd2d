import ExchangeClient
import ExchangeConfig
import ExchangeOps
import ExchangeRuntime
import ExchangeTestSupport
import Foundation
import Logging
import Synchronization

/// The repository this file lives in (for configs/, .ci/ and the test scripts).
public let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

/// The bundled development accounts (configs/api_keys.dev.json): DEMO1 (client 0), DEMO2 (1),
/// TRADER (2, cancel on disconnect, max order size 10,000), LOAD1…LOAD8 (3…10).
public let devKeysPath = repositoryRoot.appendingPathComponent("configs/api_keys.dev.json").path
public let devKeys: APIKeys = try! APIKeys.load(path: devKeysPath, allowPlainPasswords: false).keys

/// One account of the API keys file, as a client logs in with it.
public struct Credentials: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public static let demo1 = Credentials(username: "DEMO1", password: "demo1pass")
    public static let demo2 = Credentials(username: "DEMO2", password: "demo2pass")
    public static let trader = Credentials(username: "TRADER", password: "trader123")
    public static func load(_ n: Int) -> Credentials { Credentials(username: "LOAD\(n)", password: "load\(n)pass") }

    /// The password of `username` in the development accounts (the file holds only their
    /// scrypt hashes; README lists the passwords).
    public static func password(_ username: String) -> String {
        switch username {
        case "DEMO1": "demo1pass"
        case "DEMO2": "demo2pass"
        case "TRADER": "trader123"
        default: username.lowercased() + "pass"
        }
    }
}

/// The settings of a test exchange: short timeouts so that every timeout case finishes in
/// well under a second, no price collars, shared threading; anything a test does not set
/// keeps these values.
public struct ExchangeKnobs: Sendable {
    public var maxConnections: Int
    public var maxPreLoginConnections: Int
    public var maxPreLoginPerAddress: Int
    public var sessionHistoryMessages: Int
    public var sendQueueBytes: Int
    public var heartbeatIntervalMilliseconds: Int
    public var idleTimeoutMilliseconds: Int
    public var loginTimeoutMilliseconds: Int
    public var maxMessagesPerSecond: Int
    public var tokenHistory: Int
    public var receiveBufferSize: Int
    public var receiveBufferCount: Int
    public var shutdownGraceMilliseconds: Int
    public var queueCapacity: Int
    public var maxClients: Int
    public var orderPoolSize: Int
    public var maxOrdersPerSecond: Int
    public var maxOrderSize: Int
    public var maxNotionalPerClient: Int64
    public var priceCollarEnabled: Bool
    public var hugepages: String
    public var demoFlowRate: Int
    public var demoFlowCommands: Int?
    /// `auth.backoff_ms` and `auth.max_failed_logins`.
    public var loginBackoffMilliseconds = 0
    public var maxFailedLogins = 1_000
    /// `gateway.tls` ("off" or "on"), and the environment the appliance reads RTES_TLS_CERT,
    /// RTES_TLS_KEY and RTES_CA_CERT from.
    public var tls = "off"
    public var environment: [String: String] = [:]
    /// The `durability` section as JSON (nil: none, no journal), e.g.
    /// `{ "mode": "async", "directory": "/tmp/x" }`.
    public var durability: String?
    /// `market_data.retransmit_history_messages`.
    public var retransmitHistoryMessages = 4_096
    /// `exchange.udp_port`: where the feed goes (group 239.0.0.1).
    public var udpPort = 65_003
    /// Serve FIX 4.4 too (`fix.port`, on a port the kernel chooses: `TestExchange.fixPort`).
    public var fix = false
    /// `fix.tls` ("off" or "on"; the certificate from `environment` as for `tls`).
    public var fixTLS = "off"
    /// Serve the FIX drop copy too (with `fix`; `TestExchange.dropCopyPort`).
    public var dropCopy = false
    /// `market_data.snapshot_tls` and `admin.tls` ("off" or "on"; the certificate from
    /// `environment` as for `tls`).
    public var snapshotTLS = "off"
    public var adminTLS = "off"
    /// `admin.web_view` and `admin.web_view_interval_ms`.
    public var webView = false
    public var webViewIntervalMilliseconds = 100
    /// The `trading_day` section's members as JSON (nil: none, instruments stay continuous),
    /// e.g. `"enabled": true, "clock_rate": 5000`.
    public var tradingDay: String?
    /// The `emergency` section's members as JSON (nil: none, every trigger off), e.g.
    /// `"memory_mb": 1, "memory_action": "stop_new_orders"`.
    public var emergency: String?
    /// What an emergency shutdown calls instead of stopping the process (`Appliance.Options`).
    public var emergencyShutdown: (@Sendable (String) -> Void)?

    /// The `gateway` section (`maxConnections` … `shutdownGraceMilliseconds`), `performance`
    /// (`queueCapacity`, `maxClients`, `orderPoolSize`, `hugepages`), `risk` (`maxOrdersPerSecond`,
    /// `maxOrderSize`, `maxNotionalPerClient` in dollars, `priceCollarEnabled`), and the
    /// appliance's demo flow of orders (`demoFlowRate` per second, `demoFlowCommands` in all).
    public init(
        maxConnections: Int = 64,
        maxPreLoginConnections: Int = 0,
        maxPreLoginPerAddress: Int = 0,
        sessionHistoryMessages: Int = 1_024,
        sendQueueBytes: Int = 1_048_576,
        heartbeatIntervalMilliseconds: Int = 1_000,
        idleTimeoutMilliseconds: Int = 15_000,
        loginTimeoutMilliseconds: Int = 5_000,
        maxMessagesPerSecond: Int = 1_000_000,
        tokenHistory: Int = 65_536,
        receiveBufferSize: Int = 4_096,
        receiveBufferCount: Int = 64,
        shutdownGraceMilliseconds: Int = 500,
        queueCapacity: Int = 4_096,
        maxClients: Int = 64,
        orderPoolSize: Int = 20_000,
        maxOrdersPerSecond: Int = 1_000_000,
        maxOrderSize: Int = 100_000,
        maxNotionalPerClient: Int64 = 100_000_000_000,
        priceCollarEnabled: Bool = false,
        hugepages: String = "off",
        demoFlowRate: Int = 0,
        demoFlowCommands: Int? = nil
    ) {
        self.maxConnections = maxConnections
        self.maxPreLoginConnections = maxPreLoginConnections
        self.maxPreLoginPerAddress = maxPreLoginPerAddress
        self.sessionHistoryMessages = sessionHistoryMessages
        self.sendQueueBytes = sendQueueBytes
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.loginTimeoutMilliseconds = loginTimeoutMilliseconds
        self.maxMessagesPerSecond = maxMessagesPerSecond
        self.tokenHistory = tokenHistory
        self.receiveBufferSize = receiveBufferSize
        self.receiveBufferCount = receiveBufferCount
        self.shutdownGraceMilliseconds = shutdownGraceMilliseconds
        self.queueCapacity = queueCapacity
        self.maxClients = maxClients
        self.orderPoolSize = orderPoolSize
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.maxOrderSize = maxOrderSize
        self.maxNotionalPerClient = maxNotionalPerClient
        self.priceCollarEnabled = priceCollarEnabled
        self.hugepages = hugepages
        self.demoFlowRate = demoFlowRate
        self.demoFlowCommands = demoFlowCommands
    }

    /// A configuration file for these knobs: AAPL and MSFT for the tests, QUIET for the
    /// well-behaved session alone. The ports in it are never bound: `TestExchange` sets them
    /// to 0, and the kernel chooses.
    public var json: String {
        """
        {
          "exchange": { "name": "TEST-EXCHANGE", "bind_address": "127.0.0.1", "metrics_port": 65001, "tcp_port": 65002,
                        "udp_port": \(udpPort) },
          "market_data": { "retransmit_history_messages": \(retransmitHistoryMessages), "snapshot_tls": "\(snapshotTLS)" },
          "admin": { "tls": "\(adminTLS)", "web_view": \(webView), "web_view_interval_ms": \(webViewIntervalMilliseconds) },
          "fix": { "tls": "\(fixTLS)" },\(durability.map { "\n  \"durability\": \($0)," } ?? "")\(tradingDay.map { "\n  \"trading_day\": { \($0) }," } ?? "")\(emergency.map { "\n  \"emergency\": { \($0) }," } ?? "")
          "gateway": { "session_name": "\(testSessionName)", "max_connections": \(maxConnections), "max_pre_login_connections": \(maxPreLoginConnections),
                       "max_pre_login_per_address": \(maxPreLoginPerAddress),
                       "session_history_messages": \(sessionHistoryMessages), "send_queue_bytes": \(sendQueueBytes),
                       "heartbeat_interval_ms": \(heartbeatIntervalMilliseconds), "idle_timeout_ms": \(idleTimeoutMilliseconds),
                       "login_timeout_ms": \(loginTimeoutMilliseconds), "max_messages_per_second": \(maxMessagesPerSecond),
                       "token_history": \(tokenHistory), "recv_buffer_size": \(receiveBufferSize),
                       "recv_buffer_count": \(receiveBufferCount), "shutdown_grace_ms": \(shutdownGraceMilliseconds),
                       "tls": "\(tls)" },
          "symbols": [
            { "symbol": "AAPL", "tick_size": 0.01, "reference_price": 230.00 },
            { "symbol": "MSFT", "tick_size": 0.01, "reference_price": 420.00 },
            { "symbol": "QUIET", "tick_size": 0.01, "reference_price": 50.00 }
          ],
          "risk": { "max_order_size": \(maxOrderSize), "max_notional_per_client": \(maxNotionalPerClient),
                    "max_orders_per_second": \(maxOrdersPerSecond), "price_collar_enabled": \(priceCollarEnabled) },
          "performance": { "order_pool_size": \(orderPoolSize), "queue_capacity": \(queueCapacity), "max_clients": \(maxClients),
                           "price_levels": 65536, "threading_mode": "shared", "idle_strategy": "backoff",
                           "enable_cpu_pinning": false, "hugepages": "\(hugepages)", "lock_memory": false, "tcp_nodelay": true }
        }
        """
    }
}

/// The session name every test exchange uses (`gateway.session_name`).
public let testSessionName = "TESTSESS01"

/// An exchange started in-process (`Appliance`, shared threading mode, the bundled development
/// accounts) with the order gateway, the admin plane and the market-data services on ports
/// the kernel chose. `drain()` stops it and returns the final counters; a test must always
/// drain (the deinit drains too, so a failing `#require` leaves nothing behind).
public final class TestExchange: @unchecked Sendable {
    public let appliance: Appliance
    public let port: Int
    /// The FIX port (`ExchangeKnobs.fix`), else 0.
    public let fixPort: Int
    /// The FIX drop-copy port (`ExchangeKnobs.dropCopy`), else 0.
    public let dropCopyPort: Int
    private let countersPath: String
    private var final: CountersSnapshot?
    private let lock = NSLock()

    /// The SoupBinTCP session name clients see.
    public var session: String { appliance.sessionName }

    public init(_ knobs: ExchangeKnobs = ExchangeKnobs(), keys: APIKeys = devKeys) throws {
        let loaded = try ConfigurationLoader.load(json: knobs.json, source: "test-exchange.json", environment: [:], host: .current())
        countersPath = NSTemporaryDirectory() + "rtes-test-exchange-\(getpid())-\(UUID().uuidString).counters"
        var configuration = loaded.configuration
        configuration.exchange.tcpPort = 0  // every port chosen by the kernel
        configuration.exchange.metricsPort = 0
        configuration.marketData.retransmitPort = 0
        // No backoff or lockout unless a test asks: a test's wrong password must not hold up
        // the next login from the same (loopback) address.
        configuration.auth.backoffMilliseconds = knobs.loginBackoffMilliseconds
        configuration.auth.maxBackoffMilliseconds = knobs.loginBackoffMilliseconds
        configuration.auth.maxFailedLogins = knobs.maxFailedLogins
        configuration.marketData.snapshotPort = 0
        var options = Appliance.Options(
            countersPath: countersPath, demoFlowRate: knobs.demoFlowRate, demoFlowCommands: knobs.demoFlowCommands, apiKeys: keys)
        options.environment = knobs.environment
        options.emergencyShutdown = knobs.emergencyShutdown
        if knobs.fix { options.fixPort = 0 }
        if knobs.fix && knobs.dropCopy { options.dropCopyPort = 0 }
        do {
            appliance = try Appliance.start(
                configuration, options: options, logger: Logger(label: "test-exchange", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch {
            // A start that fails (as some tests mean it to) leaves no counters or lock file behind.
            unlink(countersPath)
            unlink(InstanceLock.path(forCounters: countersPath))
            throw error
        }
        port = appliance.gatewayPort
        fixPort = appliance.fixPort
        dropCopyPort = appliance.dropCopyPort
    }

    deinit { _ = drain() }

    /// The counters as the exchange last published them (every millisecond); after `drain()`,
    /// the final ones.
    public func snapshot() -> CountersSnapshot { lock.withLock { final } ?? appliance.counters.snapshot() }

    /// Stops the exchange (End of Session to whoever is still connected) and returns the
    /// final counters. Idempotent.
    @discardableResult
    public func drain() -> CountersSnapshot {
        lock.lock()
        defer { lock.unlock() }
        if let final { return final }
        let snapshot = appliance.drain()
        final = snapshot
        unlink(countersPath)
        unlink(InstanceLock.path(forCounters: countersPath))
        return snapshot
    }

    /// Waits (at most `timeout`) until `condition` holds for the published counters, and says
    /// whether it did (`waitUntil`): the caller asserts on the answer.
    @discardableResult
    public func waitFor(_ timeout: Duration = .seconds(3), _ condition: (CountersSnapshot) -> Bool) -> Bool {
        waitUntil(timeout: timeout) { condition(snapshot()) }
    }

    /// A client logged in as `username` (password from the development accounts).
    public func client(_ username: String, sequence: UInt64 = 0, options: OrderEntryClient.Options = .init()) throws -> OrderEntryClient {
        try OrderEntryClient.connect(port: port, username: username, password: Credentials.password(username), sequence: sequence, options: options)
    }
}

extension CountersSnapshot {
    /// The disconnect reasons counted at least once, by their documented names.
    public var disconnects: [String: UInt64] {
        var result: [String: UInt64] = [:]
        for (reason, count) in disconnectsByReason where count > 0 { result[reason.description] = count }
        return result
    }

    public func gatewayCount(_ name: String) -> UInt64 { gateway[name] ?? 0 }
}

/// A port that was free a moment ago (for a process the test starts, or a port nobody
/// listens on). Never the same port twice in one test process: two calls in a row could
/// otherwise get the same port back from the kernel (nothing holds the first yet), and a
/// configuration with two equal ports is refused ("every port the exchange listens on must
/// differ") — seen once in a clean-clone `make test`.
public func freePort() -> Int {
    for _ in 0..<1_000 {
        let port = kernelFreePort()
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    return kernelFreePort()
}

private let handedOutPorts = Mutex<Set<Int>>([])

private func kernelFreePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Raises the soft open-files limit to the hard one when `needed` descriptors would not fit.
public func ensureOpenFiles(_ needed: Int) -> Bool {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    if limit.rlim_cur >= rlim_t(needed) { return true }
    limit.rlim_cur = min(limit.rlim_max, rlim_t(max(needed, 4_096)))
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    return limit.rlim_cur >= rlim_t(needed)
}
