import ExchangeCore

/// Positions, open orders, fills and profit and loss, in fixed storage: updates allocate
/// nothing. Prices are the wire's (4 implied decimals); PnL is in those units × shares
/// (divide by 10,000 for dollars).
public struct Portfolio: ~Copyable {
    public struct OpenOrder: Equatable, Sendable, BitwiseCopyable {
        public var token: OrderToken
        public var instrument: Int32
        public var buy: Bool
        public var price: Price
        public var shares: Shares
        public var inUse: Bool
    }

    public let instrumentCount: Int
    let positions: UnsafeMutablePointer<Int>
    /// Cash per instrument (sells add, buys subtract), in price units × shares.
    let cash: UnsafeMutablePointer<Int>
    let openBuy: UnsafeMutablePointer<Int>
    let openSell: UnsafeMutablePointer<Int>
    let orders: UnsafeMutablePointer<OpenOrder>
    public let orderCapacity: Int
    public private(set) var openOrders = 0
    public private(set) var fills: UInt64 = 0
    public private(set) var filledShares: UInt64 = 0

    public init(instrumentCount: Int, orderCapacity: Int) {
        self.instrumentCount = instrumentCount
        self.orderCapacity = orderCapacity
        func zeros() -> UnsafeMutablePointer<Int> {
            let p = UnsafeMutablePointer<Int>.allocate(capacity: max(instrumentCount, 1))
            p.initialize(repeating: 0, count: max(instrumentCount, 1))
            return p
        }
        positions = zeros()
        cash = zeros()
        openBuy = zeros()
        openSell = zeros()
        orders = .allocate(capacity: max(orderCapacity, 1))
        orders.initialize(repeating: OpenOrder(token: OrderToken(number: 0), instrument: 0, buy: true, price: 0, shares: 0, inUse: false),
                          count: max(orderCapacity, 1))
    }

    deinit {
        positions.deallocate()
        cash.deallocate()
        openBuy.deallocate()
        openSell.deallocate()
        orders.deallocate()
    }

    public func position(_ i: Int) -> Int { positions[i] }
    public func openShares(_ i: Int, buy: Bool) -> Int { buy ? openBuy[i] : openSell[i] }
    /// Realised and unrealised together: cash plus the position marked at `mark`.
    public func pnl(_ i: Int, mark: Price) -> Int { cash[i] + positions[i] * Int(mark) }

    func slot(_ token: OrderToken) -> Int? {
        for s in 0..<orderCapacity where orders[s].inUse && orders[s].token == token { return s }
        return nil
    }

    /// An order sent; false when every slot is taken.
    public mutating func opened(_ token: OrderToken, instrument: Int, buy: Bool, price: Price, shares: Shares) -> Bool {
        for s in 0..<orderCapacity where !orders[s].inUse {
            orders[s] = OpenOrder(token: token, instrument: Int32(instrument), buy: buy, price: price, shares: shares, inUse: true)
            openOrders += 1
            if buy { openBuy[instrument] += Int(shares) } else { openSell[instrument] += Int(shares) }
            return true
        }
        return false
    }

    /// The open order with `token`, if any.
    public func order(_ token: OrderToken) -> OpenOrder? {
        guard let s = slot(token) else { return nil }
        return orders[s]
    }

    /// Visits every open order (no allocation).
    public func forEachOpenOrder(_ body: (OpenOrder) -> Void) {
        for s in 0..<orderCapacity where orders[s].inUse { body(orders[s]) }
    }

    /// A fill of `shares` at `price` on `token`.
    public mutating func filled(_ token: OrderToken, shares: Shares, price: Price) {
        guard let s = slot(token) else { return }
        let o = orders[s]
        let i = Int(o.instrument)
        let n = Int(min(shares, o.shares))
        if o.buy {
            positions[i] += n
            cash[i] -= n * Int(price)
            openBuy[i] -= n
        } else {
            positions[i] -= n
            cash[i] += n * Int(price)
            openSell[i] -= n
        }
        fills += 1
        filledShares += UInt64(n)
        orders[s].shares -= Shares(n)
        if orders[s].shares == 0 { close(s) }
    }

    /// Shares gone without a fill (canceled, or the whole order rejected: `.max`).
    public mutating func reduced(_ token: OrderToken, by shares: Shares) {
        guard let s = slot(token) else { return }
        let n = min(shares, orders[s].shares)
        let i = Int(orders[s].instrument)
        if orders[s].buy { openBuy[i] -= Int(n) } else { openSell[i] -= Int(n) }
        orders[s].shares -= n
        if orders[s].shares == 0 { close(s) }
    }

    mutating func close(_ s: Int) {
        orders[s].inUse = false
        openOrders -= 1
    }
}
