import ExchangeBookReplica
import ExchangeClock
import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Glibc

/// Where the web view's tape joins the exchange's own feed (market data on): the multicast
/// group and port on `market_data.interface`, the re-request server the exchange bound, and
/// what the feed handler needs (a book per symbol, room for the exchange's order pool, the
/// re-request history's size). Addresses are IPv4 in host byte order.
public struct WebViewFeedSource: Sendable, Equatable {
    public var group: UInt32
    public var port: UInt16
    public var interface: UInt32
    public var retransmitHost: UInt32
    public var retransmitPort: UInt16
    public var instrumentCount: Int
    public var orderCapacity: Int
    public var historyMessages: Int

    public init(group: UInt32, port: UInt16, interface: UInt32, retransmitHost: UInt32, retransmitPort: UInt16,
                instrumentCount: Int, orderCapacity: Int, historyMessages: Int) {
        self.group = group
        self.port = port
        self.interface = interface
        self.retransmitHost = retransmitHost
        self.retransmitPort = retransmitPort
        self.instrumentCount = instrumentCount
        self.orderCapacity = orderCapacity
        self.historyMessages = historyMessages
    }
}

/// The web view's tape of executions, from the exchange's TotalView-ITCH 5.0 feed as any feed
/// handler follows it (`FeedClient`): it joins the multicast group when a view opens (`follow`),
/// leaves it when the last one closes (`stop`), and takes each message once, in sequence order —
/// a lost packet is re-requested from the exchange's MoldUDP64 re-request server and its
/// executions come in their place. One row per execution message:
///
/// - `E` Order Executed: the resting order's price and side from the handler's books (as they
///   were before the execution);
/// - `C` Order Executed with Price, printable `Y` (a non-printable one is a cross's fill: the
///   cross's `Q` prints it, as Nasdaq's time-and-sales rule says);
/// - `P` Trade (a non-displayed order matched);
/// - `Q` Cross Trade with shares.
///
/// A row is `[sequence, time ns since midnight, symbol, price, shares, aggressor, match, kind]`:
/// `aggressor` is the side that took liquidity (`B` or `S`: the opposite of the resting order's
/// side; null for a cross, or when the side is not known), `price` null for an `E` whose order
/// the tape never saw priced (it rested before the view joined the feed and was never replaced
/// since: an `U` Order Replace of such an order gives its price, not its side — `Replaced`). A gap the re-request server cannot fill (older
/// than its history, or unanswered), or a restart of the exchange, becomes a note row
/// (`{"sequence":…,"note":…}`) at its place, saying which messages are missing; the tape goes
/// on after it. Nothing is skipped without a row.
///
/// Only the admin plane's pool thread touches it (one thread: `AdminServer`), so at most one
/// `poll` runs at a time; it is not on any agent's path (the feed's socket is the admin plane's).
final class WebViewTape {
    /// Rows one update carries at most (older ones of a burst are counted in a note row), and
    /// what the plane and the page keep.
    static let maxRows = 200
    /// How long one `poll` may keep going while a gap is being recovered.
    static let recoveryBudgetNanoseconds: UInt64 = 50_000_000

    let source: WebViewFeedSource
    let symbols: [String]
    let ticks: [Price]
    private(set) var client: FeedClient?
    /// Why the last try to join failed (sockets), for the page.
    private(set) var joinError: String?
    /// The sequence number the tape started at (its first live packet's).
    private(set) var startSequence: UInt64?
    /// Gaps given up (older than the history, unanswered) and restarts, since the join.
    private(set) var lostGaps = 0
    private(set) var restarts = 0
    /// Tests: drops multicast packets on purpose (by their bytes), through `FeedClient.drop`.
    var drop: ((UnsafeRawBufferPointer) -> Bool)?
    let clock = TSCClock.calibrated(.monotonic)

    /// What the feed handler produced since the last `take()`: rows as JSON, oldest first.
    final class Pending {
        var rows: [String] = []
        /// Rows dropped from the front of a burst (more than `maxRows` since the last take).
        var omitted = 0
        var executions: UInt64 = 0

        func append(_ row: String) {
            rows.append(row)
            if rows.count >= 2 * WebViewTape.maxRows {
                omitted += rows.count - WebViewTape.maxRows
                rows.removeFirst(rows.count - WebViewTape.maxRows)
            }
        }
    }

    private let pending = Pending()

    init(source: WebViewFeedSource, symbols: [String], ticks: [Price]) {
        self.source = source
        self.symbols = symbols
        self.ticks = ticks
    }

    var following: Bool { client != nil }

    /// Joins the feed unless it follows it already. The tape starts at the first packet that
    /// arrives: what was published before the view opened is not asked for.
    func follow() {
        guard client == nil else { return }
        let c: FeedClient
        do {
            c = try FeedClient(group: source.group, port: source.port, interface: source.interface, retransmitHost: source.retransmitHost,
                               retransmitPort: source.retransmitPort, instrumentCount: source.instrumentCount,
                               orderCapacity: source.orderCapacity, receiveBuffer: 4 << 20, clock: clock)
        } catch {
            joinError = "cannot join the feed \(FeedSocketsText.dotted(source.group)):\(source.port): \(error)"
            return
        }
        joinError = nil
        c.handler.historyMessages = UInt64(source.historyMessages)
        if let drop { c.drop = { _, bytes in drop(bytes) } }
        // The first packet sets where the tape starts (no re-request for what came before it).
        c.onPacket = { [unowned c, unowned self] bytes, _ in
            guard self.startSequence == nil, case .success(let packet) = MoldUDP64.readPacket(bytes) else { return }
            self.startSequence = packet.sequence
            c.handler.endSnapshot(nextSequence: packet.sequence, session: packet.session)
            let text = "the tape follows the feed from message \(packet.sequence) of session \(packet.session)"
            self.pending.append(#"{"sequence":\#(packet.sequence),"note":\#(quote(text))}"#)
        }
        c.onRestart = { [unowned self] restart in
            self.restarts += 1
            self.pending.append(#"{"sequence":\#(restart.sequence),"note":\#(quote(restart.description + ": the tape goes on in the new session"))}"#)
        }
        let pending = self.pending, symbols = self.symbols, ticks = self.ticks
        let replaced = Replaced(capacity: source.orderCapacity)
        c.handler.onMessage = { sequence, message, books in
            let price = replaced.take(message, books: books)
            guard let row = WebViewTape.row(sequence: sequence, message: message, books: books, replacedPrice: price, symbols: symbols,
                                            ticks: ticks) else { return }
            pending.executions &+= 1
            pending.append(row)
        }
        client = c
    }

    /// Leaves the feed (the last view closed); the next `follow` starts afresh.
    func stop() {
        client = nil
        startSequence = nil
        lostGaps = 0
        restarts = 0
        pending.executions = 0
        pending.rows.removeAll()
        pending.omitted = 0
    }

    /// Takes what has arrived; while a gap is open, keeps asking for it for up to
    /// `recoveryBudgetNanoseconds`. A gap the re-request server cannot fill is given up with a
    /// note row, and the tape goes on from the packets kept after it.
    func poll() {
        guard let client else { return }
        client.poll(timeoutMilliseconds: 0)
        let start = clock.now()
        while client.handler.isRecovering && client.handler.snapshotNeeded == nil && clock.now() &- start < Self.recoveryBudgetNanoseconds {
            client.poll(timeoutMilliseconds: 5)
        }
        if let need = client.handler.snapshotNeeded, let session = client.handler.session {
            let from = client.handler.expected
            let next = client.handler.firstKeptSequence ?? client.handler.newestSeen
            lostGaps += 1
            let text = "feed messages \(from)–\(next &- 1) could not be recovered (\(need)): executions among them are not on the tape"
            pending.append(#"{"sequence":\#(from),"note":\#(quote(text))}"#)
            client.handler.endSnapshot(nextSequence: next, session: session)
        }
    }

    /// The rows since the last take, oldest first (at most `maxRows`, after a note counting
    /// the older rows of a burst dropped).
    func take() -> [String] {
        var rows = pending.rows
        if pending.omitted > 0 {
            rows.insert(#"{"sequence":null,"note":"\#(pending.omitted) earlier rows since the previous update are not listed (the tape keeps the last \#(Self.maxRows))"}"#, at: 0)
        }
        pending.rows.removeAll(keepingCapacity: true)
        pending.omitted = 0
        if rows.count > Self.maxRows { rows.removeFirst(rows.count - Self.maxRows) }
        return rows
    }

    /// What the page says about the feed: `{"following":…,"session":…,"next":…,"recovering":…,
    /// "gaps":…,"lost":…,"restarts":…,"executions":…,"error":…}`.
    var statusJSON: String {
        guard let client else {
            return #"{"following":false,"error":\#(joinError.map(quote) ?? "null")}"#
        }
        let session = client.handler.session.map { quote($0.description) } ?? "null"
        return #"{"following":true,"session":\#(session),"start":\#(startSequence.map { String($0) } ?? "null"),"next":\#(client.handler.expected),"recovering":\#(client.handler.isRecovering),"gaps":\#(client.handler.counters.gaps),"requests":\#(client.handler.counters.requests),"lost":\#(lostGaps),"restarts":\#(restarts),"executions":\#(pending.executions),"error":null}"#
    }

    /// The tape row of one message, nil when it is not an execution the tape shows.
    /// `replacedPrice`: the price of an `E`'s order the books do not hold (`Replaced`).
    static func row(sequence: UInt64, message: UnsafeRawBufferPointer, books: borrowing BookReplica, replacedPrice: Price? = nil,
                    symbols: [String], ticks: [Price]) -> String? {
        guard let type = message.first, type == UInt8(ascii: "E") || type == UInt8(ascii: "C") || type == UInt8(ascii: "P")
            || type == UInt8(ascii: "Q"), case .success(let decoded) = ITCHDecoder.decode(message) else { return nil }
        func symbol(_ locate: UInt16) -> (String, Price)? {
            let i = Int(locate) - 1
            return i >= 0 && i < symbols.count ? (symbols[i], ticks[i]) : nil
        }
        func taker(ofResting side: UInt8) -> String { side == UInt8(ascii: "B") ? #""S""# : #""B""# }
        func make(_ locate: UInt16, _ time: Timestamp, _ price: Price?, _ shares: UInt64, _ aggressor: String, _ match: MatchNumber, _ kind: String) -> String? {
            guard let named = symbol(locate) else { return nil }
            let p = price.map { formatPrice($0, tick: named.1) } ?? "null"
            return #"[\#(sequence),\#(time),"\#(named.0)",\#(p),\#(shares),\#(aggressor),\#(match),"\#(kind)"]"#
        }
        switch decoded {
        case .orderExecuted(let m):
            let resting = books.restingOrder(m.reference)
            let aggressor = resting.map { $0.side == .bid ? #""S""# : #""B""# } ?? "null"
            return make(m.locate, m.timestamp, resting?.price ?? replacedPrice, UInt64(m.shares), aggressor, m.matchNumber, "E")
        case .orderExecutedWithPrice(let m):
            guard m.printable == UInt8(ascii: "Y") else { return nil }
            let aggressor = books.restingOrder(m.reference).map { $0.side == .bid ? #""S""# : #""B""# } ?? "null"
            return make(m.locate, m.timestamp, m.price, UInt64(m.shares), aggressor, m.matchNumber, "C")
        case .trade(let m):
            return make(m.locate, m.timestamp, m.price, UInt64(m.shares), taker(ofResting: m.side), m.matchNumber, "P")
        case .crossTrade(let m):
            guard m.shares > 0 else { return nil }
            return make(m.locate, m.timestamp, m.price, m.shares, "null", m.matchNumber, "Q")
        default:
            return nil
        }
    }
}

/// Orders the books cannot hold: an `U` Order Replace of an order that rested before the tape
/// joined the feed gives the new order's price and shares, not its side (what the books need).
/// Kept here by reference until executed, canceled or deleted, so that an `E` of one still has
/// its price (a market maker's quote replaced again and again stays priced). At most the
/// exchange's order pool (then forgotten at once; its `E` rows go without a price).
final class Replaced {
    var orders: [OrderReference: (price: Price, shares: Shares)] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Follows one message (before the books apply it); for an `E`/`C` of a kept order, its price.
    func take(_ message: UnsafeRawBufferPointer, books: borrowing BookReplica) -> Price? {
        guard let type = message.first, type == UInt8(ascii: "U") || !orders.isEmpty && (type == UInt8(ascii: "E")
            || type == UInt8(ascii: "C") || type == UInt8(ascii: "X") || type == UInt8(ascii: "D")),
            case .success(let decoded) = ITCHDecoder.decode(message) else { return nil }
        switch decoded {
        case .orderReplace(let m):
            let kept = orders.removeValue(forKey: m.originalReference)
            guard kept != nil || books.restingOrder(m.originalReference) == nil else { return nil }
            if orders.count >= capacity { orders.removeAll() }
            orders[m.newReference] = (m.price, m.shares)
        case .orderExecuted(let m):
            let price = orders[m.reference]?.price
            reduce(m.reference, by: m.shares)
            return price
        case .orderExecutedWithPrice(let m): reduce(m.reference, by: m.shares)
        case .orderCancel(let m): reduce(m.reference, by: m.canceledShares)
        case .orderDelete(let m): orders.removeValue(forKey: m.reference)
        default: break
        }
        return nil
    }

    func reduce(_ reference: OrderReference, by shares: Shares) {
        guard let order = orders[reference] else { return }
        if order.shares <= shares { orders.removeValue(forKey: reference) } else { orders[reference] = (order.price, order.shares - shares) }
    }
}

/// Dotted IPv4 text (host byte order).
enum FeedSocketsText {
    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }
}
