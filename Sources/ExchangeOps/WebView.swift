import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import Foundation
import NIOCore
import NIOPosix

/// The read-only web view (`admin.web_view`, docs/WEBVIEW.md): `/view` is one page (HTML, JS
/// and SVG, nothing fetched from elsewhere), `/view/events` a server-sent-event stream that
/// updates it. Off the hot path: a sample is taken on the admin plane's pool thread at most
/// every `admin.web_view_interval_ms`, and only while a view is open — each symbol's depth,
/// last trade, halt and phase through the engine's snapshot slot (what `/debug/orderbook`
/// reads), and the counters region (trades, shares traded, the order-latency histogram). One
/// sample, encoded once, goes to every view: changes between two samples are coalesced.
/// The tape is not sampled: with the exchange's feed on, it is every execution the feed
/// published while a view was open, in order (`WebViewTape`, which joins the feed only then);
/// with the feed off, one row per sample in which a last trade moved.
///
/// Bounds: at most `admin.web_view_max_viewers` views (one more is answered 503); each view's
/// channel has a write-buffer high-water mark of `admin.web_view_max_buffer_bytes` and an
/// update is written only while the channel is writable; a view still over the mark when its
/// next update is due is closed and counted (`rtes_admin_connections_closed_total{reason="slow_viewer"}`).
/// So a slow viewer costs at most its buffer, never more. Samples in flight: at most one.
final class WebViewHub: @unchecked Sendable {
    // Everything below is touched on the admin event loop only, except `sampler`, which is
    // touched on the pool thread only (one sample in flight at a time).
    let loop: EventLoop
    let pool: NIOThreadPool
    let settings: AdminSettingsView
    private var viewers: [ObjectIdentifier: Viewer] = [:]
    private var ticker: RepeatedTask?
    private var sampling = false
    private let sampler: WebViewSampler
    /// The last updates' chart points and tape rows, for a view that opens later (`history`).
    private var history = WebViewHistory()

    struct AdminSettingsView: Sendable {
        var maxViewers: Int
        var interval: TimeAmount
        var maxBufferBytes: Int
    }

    /// One open view: how to write to it and how to close it (the `AdminHandler` holding it).
    struct Viewer {
        var channel: Channel
        var write: (String) -> Void
        var close: () -> Void
        var needsHistory: Bool
    }

    init(loop: EventLoop, pool: NIOThreadPool, state: AdminState) {
        self.loop = loop
        self.pool = pool
        let s = state.settings
        settings = AdminSettingsView(maxViewers: s.webViewMaxViewers,
                                     interval: .milliseconds(Int64(s.webViewIntervalMilliseconds)),
                                     maxBufferBytes: s.webViewMaxBufferBytes)
        sampler = WebViewSampler(state: state, levels: s.webViewLevels)
    }

    var count: Int { viewers.count }

    /// Takes a view, or refuses it (`false`) when `web_view_max_viewers` are open.
    func admit(_ id: ObjectIdentifier, channel: Channel, write: @escaping (String) -> Void, close: @escaping () -> Void) -> Bool {
        loop.preconditionInEventLoop()
        guard viewers.count < settings.maxViewers else { return false }
        let high = settings.maxBufferBytes
        _ = channel.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: high / 2, high: high))
        // The kernel's share of a slow view is bounded too (Linux doubles what is asked for).
        _ = channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: min(high, 1 << 20) / 2)
        viewers[id] = Viewer(channel: channel, write: write, close: close, needsHistory: true)
        if ticker == nil {
            ticker = loop.scheduleRepeatedTask(initialDelay: .zero, delay: settings.interval) { [weak self] _ in self?.tick() }
        }
        return true
    }

    func remove(_ id: ObjectIdentifier) {
        loop.preconditionInEventLoop()
        viewers[id] = nil
        if viewers.isEmpty {
            ticker?.cancel()
            ticker = nil
            stopFollowing()
        }
    }

    func stop() {
        ticker?.cancel()
        ticker = nil
        stopFollowing()
    }

    /// No view is open: the tape leaves the feed (on the pool thread, after any sample in
    /// flight; run even when the pool is shutting down).
    private func stopFollowing() {
        let sampler = self.sampler
        pool.submit { _ in sampler.stopFollowing() }
    }

    private func tick() {
        guard !viewers.isEmpty, !sampling else { return }  // one sample in flight: the next tick coalesces
        sampling = true
        let sampler = self.sampler
        pool.runIfActive(eventLoop: loop) { sampler.sample() }.whenComplete { [self] result in
            sampling = false
            guard case .success(let update) = result else { return }
            history.take(update)
            let message = "data: " + update.json + "\n\n"
            var historyMessage: String?
            for (id, viewer) in viewers {
                // A view that has not taken its previous updates yet is dropped, with a reason.
                guard viewer.channel.isWritable else {
                    viewers[id] = nil
                    viewer.close()
                    continue
                }
                if viewer.needsHistory {
                    viewers[id]?.needsHistory = false
                    if historyMessage == nil { historyMessage = "event: history\ndata: " + history.json + "\n\n" }
                    viewer.write(historyMessage!)
                } else {
                    viewer.write(message)
                }
            }
        }
    }
}

/// One update as sent: the JSON of an `update` event, and its chart points and tape rows for
/// the history kept for later views.
struct WebViewUpdate: Sendable {
    var json: String
    var points: [String]
    var tape: [String]
}

/// The chart points and tape rows of the last updates (bounded).
struct WebViewHistory {
    static let maxPoints = 3_000
    static let maxTape = WebViewTape.maxRows
    var points: [String] = []
    var tape: [String] = []
    var last = "null"

    mutating func take(_ update: WebViewUpdate) {
        points.append(contentsOf: update.points)
        if points.count > Self.maxPoints { points.removeFirst(points.count - Self.maxPoints) }
        tape.append(contentsOf: update.tape)
        if tape.count > Self.maxTape { tape.removeFirst(tape.count - Self.maxTape) }
        last = update.json
    }

    var json: String { #"{"points":[\#(points.joined(separator: ","))],"tape":[\#(tape.joined(separator: ","))],"last":\#(last)}"# }
}

/// Takes one sample (on the pool thread): every symbol's depth through the snapshot slot,
/// and the counters; remembers what it needs to tell trades from the previous sample.
final class WebViewSampler: @unchecked Sendable {
    let state: AdminState
    let levels: Int
    let instruments: [(symbol: String, index: InstrumentIndex, tick: Price)]
    private var lastTrades: [Price?]
    private var tradesSeen: UInt64?
    private var sharesSeen: UInt64 = 0
    /// Every execution from the feed; nil when the exchange publishes none (the tape is sampled).
    let tape: WebViewTape?

    init(state: AdminState, levels: Int) {
        self.state = state
        self.levels = levels
        let instruments = state.symbols.map { (symbol: $0.key, index: $0.value, tick: state.tickSizes[$0.value] ?? 100) }
            .sorted { $0.index < $1.index }
        self.instruments = instruments
        lastTrades = Array(repeating: nil, count: instruments.count)
        tape = state.tapeFeed.map { WebViewTape(source: $0, symbols: instruments.map(\.symbol), ticks: instruments.map(\.tick)) }
    }

    func stopFollowing() { tape?.stop() }

    func sample() -> WebViewUpdate {
        // The feed first: executions published up to now, then the books as they are now.
        var tapeRows: [String] = []
        if let tape {
            tape.follow()
            tape.poll()
            tapeRows = tape.take()
        }
        let now = Date().timeIntervalSince1970
        let time = String(format: "%.3f", now)
        let counters = CountersSnapshot(state.cells)
        let trades = counters.engine["trades"] ?? 0
        let shares = counters.engine["shares_traded"] ?? 0
        let newFills = tradesSeen.map { trades &- $0 } ?? 0
        let newShares = tradesSeen == nil ? 0 : shares &- sharesSeen
        tradesSeen = trades
        sharesSeen = shares

        var books: [String] = []
        var points: [String] = []
        var changed: [(String, String)] = []
        for (i, instrument) in instruments.enumerated() {
            let tick = instrument.tick
            guard case .success(let book) = state.snapshots.snapshot(instrument: instrument.index, levels: levels, timeoutMilliseconds: 500) else {
                books.append(#"{"symbol":"\#(instrument.symbol)","error":"the engine did not answer"}"#)
                continue
            }
            func side(_ levels: [DepthLevel]) -> String {
                "[" + levels.map { #"[\#(formatPrice($0.price, tick: tick)),\#($0.shares),\#($0.orders)]"# }.joined(separator: ",") + "]"
            }
            let last = book.lastTrade.map { formatPrice($0, tick: tick) } ?? "null"
            books.append(#"{"symbol":"\#(instrument.symbol)","bids":\#(side(book.bids)),"asks":\#(side(book.asks)),"last":\#(last),"halted":\#(book.halted),"phase":"\#(book.phase)"}"#)
            if let price = book.lastTrade {
                points.append(#"["\#(instrument.symbol)",\#(time),\#(last)]"#)
                if lastTrades[i] != price { changed.append((instrument.symbol, last)) }
            }
            lastTrades[i] = book.lastTrade
        }
        // Without the feed, the tape is sampled: the executions since the previous sample, by the
        // symbols whose last trade moved (all fills at an unchanged price: symbol "*").
        var tape: [String] = tapeRows
        if self.tape == nil && newFills > 0 {
            if changed.isEmpty {
                tape.append(#"[\#(time),"*",null,\#(newFills),\#(newShares)]"#)
            } else {
                for (n, (symbol, price)) in changed.enumerated() {
                    tape.append(n == 0 ? #"[\#(time),"\#(symbol)",\#(price),\#(newFills),\#(newShares)]"# : #"[\#(time),"\#(symbol)",\#(price),null,null]"#)
                }
            }
        }
        let json = #"{"time":\#(time),"state":"\#(counters.state)","trades":\#(trades),"shares":\#(shares),"books":[\#(books.joined(separator: ","))],"points":[\#(points.joined(separator: ","))],"tape":[\#(tape.joined(separator: ","))],"tapeSource":"\#(self.tape == nil ? "sampled" : "feed")","feed":\#(self.tape?.statusJSON ?? "null"),"latency":\#(latencyJSON(counters))}"#
        return WebViewUpdate(json: json, points: points, tape: tape)
    }

    /// The order-latency histogram at the admin plane's bounds (`MetricsRenderer.latencyBounds`),
    /// not cumulative: `[[upper bound in µs, count], …]`, the last bound "+Inf".
    func latencyJSON(_ s: CountersSnapshot) -> String {
        let histogram = s.latency
        let ticks = Double(max(1, s.ticksPerSecond))
        var bucket = 0
        var rows: [String] = []
        for bound in MetricsRenderer.latencyBounds {
            let limit = bound * ticks
            var count: UInt64 = 0
            while bucket < histogram.buckets.count && Double(LatencyHistogram.lowerBound(of: bucket + 1)) - 1 <= limit {
                count &+= histogram.buckets[bucket]
                bucket += 1
            }
            rows.append("[\(String(format: "%g", bound * 1e6)),\(count)]")
        }
        var rest: UInt64 = 0
        while bucket < histogram.buckets.count { rest &+= histogram.buckets[bucket]; bucket += 1 }
        rows.append(#"["+Inf",\#(rest)]"#)
        return "[" + rows.joined(separator: ",") + "]"
    }
}
