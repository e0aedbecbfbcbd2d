import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeTLS
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The admin plane: HTTP on `exchange.metrics_port` (HTTPS with `admin.tls` on), one event-loop thread and one thread for
/// order-book snapshots, both kept off the CPUs the agents are pinned to, reading only the
/// counters region (and asking the engine agent for order-book snapshots through its request
/// slot). Nothing here can block an agent. Every resource a client can take is bounded by the
/// `admin` section (`AdminSettings`): connections at accept, then per connection the request
/// head, the URI, answers waiting to be read, and time without a complete request
/// (`AdminHandler`).
///
/// | path | answer |
/// |---|---|
/// | `/metrics` | Prometheus text format |
/// | `/health` | `{"status":"healthy|degraded|unhealthy","checks":{…}}` (503 when unhealthy) |
/// | `/ready` | `{"ready":true}`, or 503 with `{"ready":false,"reason":…}` (not running, an agent down, orders refused for a system reason) |
/// | `/live` | `{"alive":true}` |
/// | `/debug/orderbook/SYMBOL?levels=N` | depth as JSON (404 unknown symbol, 503 engine not answering) |
/// | `/view`, `/view/events` | with `admin.web_view` on: the read-only web view and its server-sent events (`WebViewHub`) |
/// | `POST /trading/halt?symbol=S&reason=R`, `POST /trading/resume?…` | an operator's halt or resume of a symbol (no `symbol`: the whole market), HTTP Basic authentication against the keys file's `operators` (`AdminActions`); 202 once queued for the engine |
/// | `POST /emergency/shutdown?reason=R` | role admin: the kill switch, a market-wide halt, then the clean drain SIGTERM makes (`EmergencyMonitor`); 202 once queued |
/// | `POST /admin/kill?account=A|firm=F|exchange=true&reason=R`, `/admin/reinstate?…`, `/admin/cancel-all?account=A|firm=F&…`, `/admin/snapshot?reason=R`, `/admin/day/start?…`, `/admin/day/end?…` | the other write actions, by role (`AdminActions`); 202 with what was queued, 400/401/403/404/429/503 with the refusal |
public final class AdminServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: Channel
    public let port: Int

    /// Why a connection was closed as soon as it was accepted.
    struct TooManyConnections: Error {}
    /// Why a connection was closed when OpenSSL could not make its TLS session (no memory).
    struct TLSSessionUnavailable: Error {}

    /// Binds and starts serving. `port` 0 picks a free port (see `port`). `cpus`, when not
    /// empty, are the only CPUs the admin plane's threads may run on (the appliance passes the
    /// allowed CPUs minus those its agents are pinned to).
    /// `tls` (admin.tls on): HTTPS, each connection's context taken from it as it is accepted
    /// (`AdminTLSHandler`); nil: HTTP.
    public static func start(host: String, port: Int, state: AdminState, cpus: [Int] = [], tls: TLSContextSource? = nil) throws -> AdminServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let settings = state.settings
        let connections = state.connections
        // One event-loop thread: every connection, and the web view's hub, on this loop.
        let webView = state.settings.webView ? WebViewHub(loop: group.next(), pool: pool, state: state) : nil
        // NIO's HTTP decoder counts the URI and every header field towards these.
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderListSize = settings.maxHeaderBytes
            limits.maxHeaderFieldSize = settings.maxHeaderBytes
            limits.maxHeaderFieldCount = 100
            return limits
        }()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // Counted at accept: one over the limit is closed before it costs anything more.
                guard connections.admit() else { return channel.eventLoop.makeFailedFuture(TooManyConnections()) }
                channel.closeFuture.whenComplete { _ in connections.release() }
                return channel.eventLoop.makeCompletedFuture(withResultOf: {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        // A reload's new context is used from the next connection on.
                        guard let handler = AdminTLSHandler(context: tls.context, connections: connections) else {
                            throw TLSSessionUnavailable()
                        }
                        try pipeline.addHandler(handler)
                    }
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true, withEncoderConfiguration: .init(),
                                                             withDecoderLimitConfiguration: limits)
                    try pipeline.addHandler(AdminHandler(state: state, pool: pool, settings: settings, connections: connections,
                                                              webView: webView))
                })
            }
            // tcpOption (IPPROTO_TCP), not socketOption: at SOL_SOCKET TCP_NODELAY's number is SO_DEBUG,
            // which only a process with CAP_NET_ADMIN may set — every other user's admin connections
            // were closed at accept (found running the unit as user rtes under a real systemd).
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            // One read per wake-up: what a connection has decoded and not yet answered is at
            // most one read's worth (AdminHandler stops reading while answers wait).
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 1)
        let channel: Channel
        do {
            if !cpus.isEmpty {
                try group.next().submit { try CPUAffinity.pinCurrentThread(to: cpus) }.wait()
                try pool.runIfActive(eventLoop: group.next()) { try CPUAffinity.pinCurrentThread(to: cpus) }.wait()
            }
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            if let webView { try? webView.loop.submit { webView.stop() }.wait() }
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw error
        }
        return AdminServer(group: group, pool: pool, channel: channel, port: channel.localAddress?.port ?? port, webView: webView)
    }

    private let webView: WebViewHub?

    private init(group: MultiThreadedEventLoopGroup, pool: NIOThreadPool, channel: Channel, port: Int, webView: WebViewHub?) {
        self.group = group
        self.pool = pool
        self.channel = channel
        self.port = port
        self.webView = webView
    }

    public func stop() {
        if let webView { try? webView.loop.submit { webView.stop() }.wait() }
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
        try? pool.syncShutdownGracefully()
    }
}

/// What the admin plane reads and remembers between requests.
public final class AdminState: Sendable {
    let cells: CounterCells
    let snapshots: OrderBookSnapshotClient
    let symbols: [String: InstrumentIndex]
    let tickSizes: [InstrumentIndex: Price]
    let settings: AdminSettings
    let connections: AdminConnections
    private let health = Mutex(HealthEvaluator())
    private let started = ContinuousClock.now

    /// The write actions and who may take them; nil: the plane takes none.
    let actions: AdminActions?
    /// The feed the web view's tape follows; nil: the exchange publishes none (the tape is sampled).
    let tapeFeed: WebViewFeedSource?
    /// The emergency triggers (their metrics, their /health check) and the manual emergency
    /// shutdown; nil: none.
    let emergency: EmergencyMonitor?

    public init(cells: CounterCells, snapshots: OrderBookSnapshotClient, instruments: [InstrumentSpec],
                settings: AdminSettings = AdminSettings(), actions: AdminActions? = nil, tapeFeed: WebViewFeedSource? = nil,
                emergency: EmergencyMonitor? = nil) {
        self.actions = actions
        self.emergency = emergency
        self.tapeFeed = tapeFeed
        self.cells = cells
        self.settings = settings
        connections = AdminConnections(limit: settings.maxConnections)
        self.snapshots = snapshots
        var symbols: [String: InstrumentIndex] = [:]
        var ticks: [InstrumentIndex: Price] = [:]
        for (i, spec) in instruments.enumerated() {
            symbols[spec.symbol.description] = InstrumentIndex(i)
            ticks[InstrumentIndex(i)] = spec.tickSize
        }
        self.symbols = symbols
        tickSizes = ticks
    }

    func metrics() -> String {
        var out = PrometheusText()
        out.one("rtes_admin_connections_open", "gauge", "Admin HTTP connections open (at most admin.max_connections).",
                UInt64(max(0, connections.open)))
        out.one("rtes_admin_connections_total", "counter", "Admin HTTP connections accepted.", connections.acceptedTotal)
        out.metric("rtes_admin_connections_closed_total", "counter", "Admin HTTP connections the admin plane closed itself, by reason.",
                   AdminConnections.Closure.allCases.map { (#"{reason="\#($0.label)"}"#, String(connections.closed($0))) })
        actions?.metrics(&out)
        emergency?.metrics(&out)
        return MetricsRenderer.render(CountersSnapshot(cells)) + out.text
    }

    func healthReport() -> HealthEvaluator.Report { evaluate().report }

    func readiness() -> (ready: Bool, reason: String?) {
        let (snapshot, report) = evaluate()
        return HealthEvaluator.readiness(snapshot, report)
    }

    private func evaluate() -> (snapshot: CountersSnapshot, report: HealthEvaluator.Report) {
        let snapshot = CountersSnapshot(cells)
        let now = started.duration(to: .now)
        let seconds = Double(now.components.seconds) + Double(now.components.attoseconds) * 1e-18
        var report = health.withLock { $0.evaluate(snapshot, now: seconds) }
        if let check = emergency?.healthCheck() {
            report.checks.append(("emergency", check))
            if check.status == .degraded && report.status == .healthy { report.status = .degraded }
        }
        return (snapshot, report)
    }
}

/// A price with its implied decimals, trimmed to the tick's precision ("150.25").
func formatPrice(_ price: Price, tick: Price) -> String {
    var decimals = 4
    var t = tick
    while decimals > 2 && t % 10 == 0 { t /= 10; decimals -= 1 }
    return PriceText.format(price, decimals: decimals)
}

/// A JSON string literal.
func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

