/// A resting order as the book shows it to snapshots, debug endpoints and tests.
/// Not used on the hot path.
public struct RestingOrder: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var client: ClientID
    public var token: OrderToken
    public var reference: OrderReference
    public var side: Side
    public var shares: Shares
    public var price: Price
    public var firm: Firm
    public var display: Display

    public init(client: ClientID, token: OrderToken, reference: OrderReference, side: Side,
                shares: Shares, price: Price, firm: Firm, display: Display) {
        self.client = client
        self.token = token
        self.reference = reference
        self.side = side
        self.shares = shares
        self.price = price
        self.firm = firm
        self.display = display
    }

    public var description: String {
        "#\(reference) c\(client) \(token) \(side) \(shares)@\(price) \(firm) \(display)"
    }
}

/// One aggregated price level.
public struct DepthLevel: Equatable, Sendable {
    public var price: Price
    public var shares: UInt64
    public var orders: Int

    public init(price: Price, shares: UInt64, orders: Int) {
        self.price = price
        self.shares = shares
        self.orders = orders
    }
}
