import ExchangeCore

// Engine events into OUCH 4.2 messages. The gateway routes each order event to its
// client's session (`executed` to both sides, once as taker and once as maker) and passes
// the instrument's symbol where the message carries one.

/// Which side of a fill an Executed message is for.
public enum ExecutionRole: Sendable, BitwiseCopyable {
    /// The incoming order: its token, liquidity `R`.
    case taker
    /// The resting order: its token, liquidity `A` when displayed, `J` when not.
    case maker
}

extension OUCHOutbound {
    /// `A` Accepted. A market order echoes the market price 214748.3647.
    @inlinable
    public static func accepted(_ event: OrderAccepted, symbol: Symbol, to out: UnsafeMutableRawPointer) -> Int {
        accepted(
            timestamp: event.timestamp, token: event.token, side: event.side, shares: event.shares, symbol: symbol,
            price: event.orderType == .market ? OUCH.marketPrice : event.price,
            timeInForce: event.timeInForce, firm: event.firm, display: event.display, reference: event.reference,
            capacity: event.capacity, intermarketSweep: event.intermarketSweep, minimumQuantity: event.minimumQuantity,
            crossType: event.crossType, state: event.state, to: out)
    }

    /// `U` Replaced.
    @inlinable
    public static func replaced(_ event: OrderReplaced, symbol: Symbol, to out: UnsafeMutableRawPointer) -> Int {
        replaced(
            timestamp: event.timestamp, token: event.token, side: event.side, shares: event.shares, symbol: symbol,
            price: event.price, timeInForce: event.timeInForce, firm: event.firm, display: event.display,
            reference: event.reference, capacity: event.capacity, intermarketSweep: event.intermarketSweep,
            minimumQuantity: event.minimumQuantity, crossType: event.crossType, state: event.state,
            previousToken: event.previousToken, to: out)
    }

    /// `C` Canceled with the decrement and the cancel reason.
    @inlinable
    public static func canceled(_ event: OrderCanceled, to out: UnsafeMutableRawPointer) -> Int {
        canceled(timestamp: event.timestamp, token: event.token, decrement: event.decrement,
                 reason: event.reason.ouchCode, to: out)
    }

    /// `E` Executed for one side of the fill, at the maker's price.
    @inlinable
    public static func executed(_ event: OrderExecuted, as role: ExecutionRole, to out: UnsafeMutableRawPointer) -> Int {
        switch role {
        case .taker:
            executed(timestamp: event.timestamp, token: event.takerToken, shares: event.shares, price: event.price,
                     liquidity: LiquidityFlag.removed.ouchCode, matchNumber: event.matchNumber, to: out)
        case .maker:
            executed(timestamp: event.timestamp, token: event.makerToken, shares: event.shares, price: event.price,
                     liquidity: event.makerLiquidity.ouchCode, matchNumber: event.matchNumber, to: out)
        }
    }

    /// `E` Executed for one side of a cross fill, at the cross price, with the cross's
    /// liquidity flag (`CrossKind.ouchLiquidity`).
    @inlinable
    public static func crossExecuted(_ event: CrossFill, buySide: Bool, to out: UnsafeMutableRawPointer) -> Int {
        executed(timestamp: event.timestamp, token: buySide ? event.buy.token : event.sell.token, shares: event.shares,
                 price: event.price, liquidity: event.cross.ouchLiquidity, matchNumber: event.matchNumber, to: out)
    }

    /// `J` Rejected with `RejectReason.ouchCode`.
    @inlinable
    public static func rejected(_ event: OrderRejected, to out: UnsafeMutableRawPointer) -> Int {
        rejected(timestamp: event.timestamp, token: event.token, reason: event.reason.ouchCode, to: out)
    }

    /// `M` Order Modified.
    @inlinable
    public static func modified(_ event: OrderModified, to out: UnsafeMutableRawPointer) -> Int {
        orderModified(timestamp: event.timestamp, token: event.token, side: event.side, shares: event.shares, to: out)
    }

    /// `I` Cancel Reject (OUCH 4.2 carries no reason; the engine's is for counters).
    @inlinable
    public static func cancelRejected(_ event: CancelRejected, to out: UnsafeMutableRawPointer) -> Int {
        cancelReject(timestamp: event.timestamp, token: event.token, to: out)
    }
}

extension CrossKind {
    /// OUCH 4.2's liquidity flag for an execution in this cross: `O` opening, `C` closing,
    /// `H` halt/IPO.
    @inlinable public var ouchLiquidity: UInt8 {
        switch self {
        case .opening: 0x4F  // O
        case .closing: 0x43  // C
        case .halt: 0x48     // H
        }
    }
}
