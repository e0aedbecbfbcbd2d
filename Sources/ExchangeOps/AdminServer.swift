import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The admin plane: HTTP on `exchange.metrics_port`, one unpinned event-loop thread, reading
/// only the counters region (and asking the engine agent for order-book snapshots through
/// its request slot). Nothing here can block an agent.
///
/// | path | answer |
/// |---|---|
/// | `/metrics` | Prometheus text format |
/// | `/health` | `{"status":"healthy|degraded|unhealthy","checks":{…}}` (503 when unhealthy) |
/// | `/ready` | `{"ready":true|false}` (503 when not ready) |
/// | `/live` | `{"alive":true}` |
/// | `/debug/orderbook/SYMBOL?levels=N` | depth as JSON (404 unknown symbol, 503 engine not answering) |
public final class AdminServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: Channel
    public let port: Int

    /// Binds and starts serving. `port` 0 picks a free port (see `port`).
    public static func start(host: String, port: Int, state: AdminState) throws -> AdminServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(AdminHandler(state: state, pool: pool))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        let channel: Channel
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw error
        }
        // Sample the latency histogram every 5 s for the one-minute window.
        channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(5)) { _ in state.sampleLatency() }
        return AdminServer(group: group, pool: pool, channel: channel, port: channel.localAddress?.port ?? port)
    }

    private init(group: MultiThreadedEventLoopGroup, pool: NIOThreadPool, channel: Channel, port: Int) {
        self.group = group
        self.pool = pool
        self.channel = channel
        self.port = port
    }

    public func stop() {
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
    private let health = Mutex(HealthEvaluator())
    private let window = Mutex(LatencyWindow())
    private let started = ContinuousClock.now

    public init(cells: CounterCells, snapshots: OrderBookSnapshotClient, instruments: [InstrumentSpec]) {
        self.cells = cells
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

    func sampleLatency() {
        let latency = CountersSnapshot(cells).latency
        window.withLock { $0.add(latency) }
    }

    func metrics() -> String {
        let snapshot = CountersSnapshot(cells)
        let recent = window.withLock { $0.recent(now: snapshot.latency) }
        return MetricsRenderer.render(snapshot, recentLatency: recent)
    }

    func healthReport() -> HealthEvaluator.Report {
        let snapshot = CountersSnapshot(cells)
        let now = started.duration(to: .now)
        let seconds = Double(now.components.seconds) + Double(now.components.attoseconds) * 1e-18
        return health.withLock { $0.evaluate(snapshot, now: seconds) }
    }

    func isReady() -> Bool { HealthEvaluator.isReady(CountersSnapshot(cells)) }
}

private final class AdminHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: AdminState
    private let pool: NIOThreadPool
    private var request: HTTPRequestHead?

    init(state: AdminState, pool: NIOThreadPool) {
        self.state = state
        self.pool = pool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET || head.method == .HEAD else {
            return send(context, head, .methodNotAllowed, json: #"{"error":"method not allowed","allowed":["GET","HEAD"]}"#)
        }
        let (path, query) = split(head.uri)
        switch path {
        case "/metrics":
            send(context, head, .ok, body: state.metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/health":
            let report = state.healthReport()
            let checks = report.checks.map { #""\#($0.name)":{"status":"\#($0.check.status.rawValue)","detail":\#(quote($0.check.detail))}"# }
            send(context, head, report.status == .unhealthy ? .serviceUnavailable : .ok,
                 json: #"{"status":"\#(report.status.rawValue)","checks":{\#(checks.joined(separator: ","))}}"#)
        case "/ready":
            let ready = state.isReady()
            send(context, head, ready ? .ok : .serviceUnavailable, json: #"{"ready":\#(ready)}"#)
        case "/live":
            send(context, head, .ok, json: #"{"alive":true}"#)
        case _ where path.hasPrefix("/debug/orderbook/"):
            orderBook(String(path.dropFirst("/debug/orderbook/".count)), query: query, head: head, context: context)
        default:
            send(context, head, .notFound, json: #"{"error":"not found","path":\#(quote(path))}"#)
        }
    }

    private func orderBook(_ symbol: String, query: [String: String], head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let instrument = state.symbols[symbol.uppercased()] else {
            return send(context, head, .notFound, json: #"{"error":"unknown symbol","symbol":\#(quote(symbol))}"#)
        }
        let levels = query["levels"].flatMap(Int.init) ?? 10
        guard levels >= 1 && levels <= 1_000 else {
            return send(context, head, .badRequest, json: #"{"error":"levels must be between 1 and 1000"}"#)
        }
        let state = self.state
        let tick = state.tickSizes[instrument] ?? 100
        let loop = context.eventLoop
        let answer = pool.runIfActive(eventLoop: loop) { state.snapshots.snapshot(instrument: instrument, levels: levels) }
        // The future completes on this channel's event loop: stay isolated to it.
        answer.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.success(let book)):
                func side(_ levels: [DepthLevel]) -> String {
                    "[" + levels.map { #"{"price":"\#(formatPrice($0.price, tick: tick))","shares":\#($0.shares),"orders":\#($0.orders)}"# }
                        .joined(separator: ",") + "]"
                }
                let last = book.lastTrade.map { "\"\(formatPrice($0, tick: tick))\"" } ?? "null"
                self.send(context, head, .ok, json: #"{"symbol":"\#(symbol.uppercased())","bids":\#(side(book.bids)),"asks":\#(side(book.asks)),"last_trade":\#(last),"halted":\#(book.halted)}"#)
            case .success(.failure(.unknownInstrument)):
                self.send(context, head, .notFound, json: #"{"error":"unknown symbol","symbol":\#(quote(symbol))}"#)
            case .success(.failure(.timedOut)), .failure:
                self.send(context, head, .serviceUnavailable, json: #"{"error":"the engine did not answer"}"#)
            }
        }
    }

    private func send(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, json: String) {
        send(context, head, status, body: json + "\n", contentType: "application/json")
    }

    private func send(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, body: String, contentType: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }

    private func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { query[kv[0]] = kv[1] }
            }
        }
        return (parts.first ?? "/", query)
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

