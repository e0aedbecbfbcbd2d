import ExchangeCore

/// An order a strategy wants: enter (a day limit order, or immediate-or-cancel) or cancel.
public enum OrderIntent: Equatable, Sendable, BitwiseCopyable {
    case enter(instrument: Int, side: Side, shares: Shares, price: Price, immediate: Bool)
    case cancel(token: OrderToken)
}

/// The client-side limits every intent passes before it is sent.
public struct RiskLimits: Equatable, Sendable {
    /// Absolute shares per instrument, counting open orders on the side as if filled.
    public var maxPosition: Int
    public var maxOrderShares: Shares
    public var maxOpenOrders: Int
    /// Basis points a limit price may be from the reference (the mid, else the last trade).
    public var priceCollarBasisPoints: Int

    public init(maxPosition: Int = 1_000, maxOrderShares: Shares = 500, maxOpenOrders: Int = 10, priceCollarBasisPoints: Int = 500) {
        self.maxPosition = maxPosition
        self.maxOrderShares = maxOrderShares
        self.maxOpenOrders = maxOpenOrders
        self.priceCollarBasisPoints = priceCollarBasisPoints
    }
}

/// Why the client-side risk refused an intent.
public enum RiskRefusal: Equatable, Sendable, BitwiseCopyable, CustomStringConvertible {
    case orderTooLarge
    case tooManyOpenOrders
    case positionLimit
    case outsideCollar
    case zeroShares

    public var description: String {
        switch self {
        case .orderTooLarge: "more shares than max order size"
        case .tooManyOpenOrders: "max open orders reached"
        case .positionLimit: "would pass the position limit"
        case .outsideCollar: "price outside the client collar"
        case .zeroShares: "no shares"
        }
    }
}

/// The checks, pure: the limits against the portfolio's position and open orders.
public struct RiskGate: Sendable {
    public var limits: RiskLimits
    public init(limits: RiskLimits) { self.limits = limits }

    /// nil: the intent may go. `reference`: the price to collar against (0: no collar).
    public func check(_ intent: OrderIntent, portfolio: borrowing Portfolio, reference: Price) -> RiskRefusal? {
        guard case .enter(let i, let side, let shares, let price, _) = intent else { return nil }
        if shares == 0 { return .zeroShares }
        if shares > limits.maxOrderShares { return .orderTooLarge }
        if portfolio.openOrders >= limits.maxOpenOrders { return .tooManyOpenOrders }
        let position = portfolio.position(i)
        let exposure = side == .buy ? position + portfolio.openShares(i, buy: true) + Int(shares)
                                    : position - portfolio.openShares(i, buy: false) - Int(shares)
        if abs(exposure) > limits.maxPosition { return .positionLimit }
        if reference > 0 {
            let distance = abs(Int(price) - Int(reference))
            if distance * 10_000 > Int(reference) * limits.priceCollarBasisPoints { return .outsideCollar }
        }
        return nil
    }
}
