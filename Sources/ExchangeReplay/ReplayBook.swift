import ExchangeCore
import ExchangeWire

/// An order message the replay sends over OUCH.
public enum ReplayAction: Equatable, Sendable, CustomStringConvertible {
    /// `O` Enter Order, a day limit order (`instrument`: the index in the chosen symbols).
    case enter(token: OrderToken, instrument: Int, side: Side, shares: Shares, price: Price)
    /// `X` Cancel Order down to `newSize` shares (0: all of it).
    case cancel(token: OrderToken, newSize: Shares)

    public var description: String {
        switch self {
        case .enter(let t, let i, let s, let n, let p): "enter \(t) #\(i) \(s) \(n)@\(p)"
        case .cancel(let t, let n): "cancel \(t) to \(n)"
        }
    }
}

/// Why a replay stops.
public enum ReplayError: Error, Equatable, Sendable, CustomStringConvertible {
    case file(ITCHFileError)
    /// More orders of the chosen symbols open at once than `--max-orders` allows.
    case tooManyOrders(limit: Int, message: UInt64)
    /// An Add (or a Replace's new reference) for a reference already open.
    case duplicateReference(OrderReference, message: UInt64)
    case session(String)

    public var description: String {
        switch self {
        case .file(let e): e.description
        case .tooManyOrders(let limit, let n):
            "message #\(n): more than \(limit) orders of the chosen symbols open at once; raise --max-orders (each tracked order costs about 100 bytes) or choose fewer symbols"
        case .duplicateReference(let r, let n): "message #\(n): order reference \(r) is added while an order with it is still open"
        case .session(let why): "the OUCH session failed: \(why)"
        }
    }
}

/// The replay's book of the file's orders and its reconciliation with the exchange
/// (docs/REPLAY.md). Pure: file events and the exchange's OUCH answers in, OUCH actions out.
///
/// Per replayed order it keeps the file's open shares (`fileOpen`), the shares users took
/// on the exchange that the file has not yet taken itself (`owed`), the exchange's open
/// shares as the OUCH answers report them (`exchangeOpen`) and the smallest size asked for
/// (`asked`). The exchange should hold `fileOpen - owed`; whenever it would end up holding
/// more (`min(asked, exchangeOpen)`), a cancel down to that size goes out. A file execution
/// or cancel of N shares first pays off what is owed: a share taken by a user is never
/// taken again by the file.
public struct ReplayBook {
    public struct Key: Hashable, Sendable {
        public var locate: UInt16
        public var reference: OrderReference
        public init(locate: UInt16, reference: OrderReference) {
            self.locate = locate
            self.reference = reference
        }
    }

    public struct Order: Equatable, Sendable {
        public var instrument: Int
        public var side: Side
        public var price: Price
        public var fileOpen: Shares
        public var owed: Shares = 0
        public var exchangeOpen: Shares = 0
        public var asked: Shares = 0
        public var token: OrderToken?
        /// The order of adds (a replace is a new add), for the book at the start.
        public var sequence: UInt64

        /// The size the exchange should hold.
        public var target: Shares { fileOpen > owed ? fileOpen - owed : 0 }
    }

    public struct Counters: Equatable, Sendable {
        public var adds: UInt64 = 0
        public var executions: UInt64 = 0
        public var cancels: UInt64 = 0
        public var deletes: UInt64 = 0
        public var replaces: UInt64 = 0
        /// Flow messages for symbols not replayed (or orders never seen).
        public var otherSymbols: UInt64 = 0
        /// Messages of the types the replay ignores, by type byte.
        public var ignored = [UInt64](repeating: 0, count: 256)
        public var entersSent: UInt64 = 0
        public var cancelsSent: UInt64 = 0
        public var accepted: UInt64 = 0
        public var rejected: UInt64 = 0
        /// The reject reason bytes seen, with counts.
        public var rejectReasons: [UInt8: UInt64] = [:]
        public var cancelRejects: UInt64 = 0
        /// Shares of replayed orders taken on the exchange (by users' orders).
        public var sharesTakenOnExchange: UInt64 = 0
        /// Shares of the file's executions and cancels paid off by what users took (not sent).
        public var sharesAbsorbed: UInt64 = 0
        /// File decrements larger than the order's open shares (clamped).
        public var inconsistent: UInt64 = 0
        /// The most orders tracked at once.
        public var peakOrders = 0
        public init() {}
    }

    public let symbols: [Symbol]
    let instrumentOf: [Symbol: Int]
    public let maxOrders: Int
    public private(set) var orders: [Key: Order] = [:]
    var keyOf: [OrderToken: Key] = [:]
    public private(set) var live = false
    public private(set) var counters = Counters()
    let tokenPrefix: UInt64
    let tokenPrefixLength: Int
    var nextTokenNumber: UInt64 = 1
    var nextSequence: UInt64 = 0
    /// The number of the message being applied (for errors).
    public var messageNumber: UInt64 = 0

    /// `symbols`: the replayed symbols (file stock names, which the exchange lists too);
    /// `tokenPrefix`: 1…5 letters or digits that begin every token.
    public init(symbols: [Symbol], maxOrders: Int, tokenPrefix: String) {
        self.symbols = symbols
        var map: [Symbol: Int] = [:]
        for (i, s) in symbols.enumerated() { map[s] = i }
        instrumentOf = map
        self.maxOrders = maxOrders
        let prefix = Array(tokenPrefix.utf8.prefix(5))
        var packed: UInt64 = 0
        for (i, c) in prefix.enumerated() { packed |= UInt64(c) << UInt64(56 - 8 * i) }
        self.tokenPrefix = packed
        tokenPrefixLength = prefix.count
        orders.reserveCapacity(min(maxOrders, 1 << 16))
        keyOf.reserveCapacity(min(maxOrders, 1 << 16))
    }

    /// Applies one file event. Before `goLive` only the book changes; after it, the
    /// exchange follows through `actions`.
    public mutating func apply(_ event: ReplayEvent, locate: UInt16, into actions: inout [ReplayAction]) throws(ReplayError) {
        switch event {
        case .add(let reference, let side, let shares, let stock, let price):
            guard let instrument = instrumentOf[stock] else {
                counters.otherSymbols += 1
                return
            }
            counters.adds += 1
            try add(Key(locate: locate, reference: reference), instrument: instrument, side: side, shares: shares, price: price, into: &actions)
        case .executed(let reference, let shares):
            guard decrement(Key(locate: locate, reference: reference), by: shares, into: &actions) else { return }
            counters.executions += 1
        case .canceled(let reference, let shares):
            guard decrement(Key(locate: locate, reference: reference), by: shares, into: &actions) else { return }
            counters.cancels += 1
        case .deleted(let reference):
            guard remove(Key(locate: locate, reference: reference), into: &actions) != nil else { return }
            counters.deletes += 1
        case .replaced(let original, let new, let shares, let price):
            guard let old = remove(Key(locate: locate, reference: original), into: &actions) else { return }
            counters.replaces += 1
            try add(Key(locate: locate, reference: new), instrument: old.instrument, side: old.side, shares: shares, price: price, into: &actions)
        case .ignored(let type):
            counters.ignored[Int(type)] += 1
        }
    }

    /// From now on the exchange follows the file: every open order goes in, in the order it was added.
    public mutating func goLive(into actions: inout [ReplayAction]) {
        guard !live else { return }
        live = true
        let open = orders.filter { $0.value.fileOpen > 0 }.sorted { $0.value.sequence < $1.value.sequence }
        for (key, _) in open { enter(key, into: &actions) }
    }

    mutating func add(_ key: Key, instrument: Int, side: Side, shares: Shares, price: Price, into actions: inout [ReplayAction]) throws(ReplayError) {
        guard orders[key] == nil else { throw .duplicateReference(key.reference, message: messageNumber) }
        guard orders.count < maxOrders else { throw .tooManyOrders(limit: maxOrders, message: messageNumber) }
        guard shares > 0 else { return }
        orders[key] = Order(instrument: instrument, side: side, price: price, fileOpen: shares, sequence: nextSequence)
        nextSequence += 1
        counters.peakOrders = max(counters.peakOrders, orders.count)
        if live { enter(key, into: &actions) }
    }

    mutating func enter(_ key: Key, into actions: inout [ReplayAction]) {
        guard var order = orders[key] else { return }
        let token = OrderToken(prefix: tokenPrefix, prefixLength: tokenPrefixLength, number: nextTokenNumber)
        nextTokenNumber += 1
        order.token = token
        order.exchangeOpen = order.fileOpen
        order.asked = order.fileOpen
        orders[key] = order
        keyOf[token] = key
        counters.entersSent += 1
        actions.append(.enter(token: token, instrument: order.instrument, side: order.side, shares: order.fileOpen, price: order.price))
    }

    /// A file execution or cancel: what users took pays it first. False for an order not replayed.
    mutating func decrement(_ key: Key, by shares: Shares, into actions: inout [ReplayAction]) -> Bool {
        guard var order = orders[key] else {
            counters.otherSymbols += 1
            return false
        }
        var n = shares
        if n > order.fileOpen {
            counters.inconsistent += 1
            n = order.fileOpen
        }
        let absorbed = min(n, order.owed)
        order.owed -= absorbed
        counters.sharesAbsorbed += UInt64(absorbed)
        order.fileOpen -= n
        if order.fileOpen == 0 {
            order.owed = 0
            orders[key] = order
            reconcile(key, into: &actions)
            retire(key)
        } else {
            orders[key] = order
            reconcile(key, into: &actions)
        }
        return true
    }

    /// A delete (or the old side of a replace): what is owed is forgiven, the rest canceled.
    mutating func remove(_ key: Key, into actions: inout [ReplayAction]) -> Order? {
        guard var order = orders[key] else {
            counters.otherSymbols += 1
            return nil
        }
        order.fileOpen = 0
        order.owed = 0
        orders[key] = order
        reconcile(key, into: &actions)
        retire(key)
        return order
    }

    mutating func retire(_ key: Key) {
        if let token = orders.removeValue(forKey: key)?.token { keyOf.removeValue(forKey: token) }
    }

    /// Sends a cancel when the exchange would end up holding more than the target.
    mutating func reconcile(_ key: Key, into actions: inout [ReplayAction]) {
        guard live, var order = orders[key], let token = order.token else { return }
        let target = order.target
        guard target < min(order.asked, order.exchangeOpen) else { return }
        order.asked = target
        orders[key] = order
        counters.cancelsSent += 1
        actions.append(.cancel(token: token, newSize: target))
    }

    /// An answer of the exchange on the replay's session.
    public mutating func report(_ message: OUCHMessage, into actions: inout [ReplayAction]) {
        switch message {
        case .accepted:
            counters.accepted += 1
        case .executed(_, let token, let shares, _, _, _):
            counters.sharesTakenOnExchange += UInt64(shares)
            guard let key = keyOf[token], var order = orders[key] else { return }
            order.exchangeOpen -= min(shares, order.exchangeOpen)
            order.owed += shares
            orders[key] = order
            reconcile(key, into: &actions)
        case .canceled(_, let token, let decrement, _):
            guard let key = keyOf[token], var order = orders[key] else { return }
            order.exchangeOpen -= min(decrement, order.exchangeOpen)
            orders[key] = order
        case .rejected(_, let token, let reason):
            counters.rejected += 1
            counters.rejectReasons[reason, default: 0] += 1
            guard let key = keyOf[token], var order = orders[key] else { return }
            order.exchangeOpen = 0
            order.asked = 0
            orders[key] = order
        case .cancelReject:
            counters.cancelRejects += 1
        default:
            break
        }
    }

    /// The replayed order of a file reference, if open.
    public func order(locate: UInt16, reference: OrderReference) -> Order? { orders[Key(locate: locate, reference: reference)] }
}
