import ExchangeCore

// OUCH 4.2 exchange → client messages, field by field. Each function writes one whole
// message at `to` (the caller has room for `OUCHLayout.<Message>.length` bytes, at most
// `OUCH.maximumOutboundLength`) and returns its length. Wrap it in SoupBinTCP Sequenced
// Data: `SoupBinTCP.sequencedDataHeader(payloadLength:to:)` first, the message at +3.

public enum OUCHOutbound {
    /// `S` System Event. 10 bytes.
    @inlinable
    public static func systemEvent(timestamp: Timestamp, eventCode: UInt8, to out: UnsafeMutableRawPointer) -> Int {
        typealias L = OUCHLayout.SystemEvent
        start(OUCH.OutboundType.systemEvent, timestamp: timestamp, to: out)
        BigEndian.write(eventCode, to: out, at: L.eventCode)
        return L.length
    }

    /// `A` Accepted. `price` is the wire price: `OUCH.marketPrice` for a market order.
    /// 66 bytes.
    @inlinable
    public static func accepted(
        timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price,
        timeInForce: TimeInForce, firm: Firm, display: Display, reference: OrderReference, capacity: Capacity,
        intermarketSweep: IntermarketSweep, minimumQuantity: Shares, crossType: CrossType, state: OrderState,
        bboWeight: UInt8 = OUCH.bboWeightUnspecified, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.Accepted
        start(OUCH.OutboundType.accepted, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(side.ouchCode, to: out, at: L.side)
        BigEndian.write(shares, to: out, at: L.shares)
        AlphaField.write(symbol, to: out, at: L.stock)
        BigEndian.write(price, to: out, at: L.price)
        BigEndian.write(timeInForce.rawValue, to: out, at: L.timeInForce)
        AlphaField.write(firm, to: out, at: L.firm)
        BigEndian.write(display.ouchCode, to: out, at: L.display)
        BigEndian.write(reference, to: out, at: L.reference)
        BigEndian.write(capacity.ouchCode, to: out, at: L.capacity)
        BigEndian.write(intermarketSweep.ouchCode, to: out, at: L.intermarketSweep)
        BigEndian.write(minimumQuantity, to: out, at: L.minimumQuantity)
        BigEndian.write(crossType.ouchCode, to: out, at: L.crossType)
        BigEndian.write(state.ouchCode, to: out, at: L.orderState)
        BigEndian.write(bboWeight, to: out, at: L.bboWeight)
        return L.length
    }

    /// `U` Replaced: the replacement order (`token`) and the token it replaced. 80 bytes.
    @inlinable
    public static func replaced(
        timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price,
        timeInForce: TimeInForce, firm: Firm, display: Display, reference: OrderReference, capacity: Capacity,
        intermarketSweep: IntermarketSweep, minimumQuantity: Shares, crossType: CrossType, state: OrderState,
        previousToken: OrderToken, bboWeight: UInt8 = OUCH.bboWeightUnspecified, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.Replaced
        start(OUCH.OutboundType.replaced, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(side.ouchCode, to: out, at: L.side)
        BigEndian.write(shares, to: out, at: L.shares)
        AlphaField.write(symbol, to: out, at: L.stock)
        BigEndian.write(price, to: out, at: L.price)
        BigEndian.write(timeInForce.rawValue, to: out, at: L.timeInForce)
        AlphaField.write(firm, to: out, at: L.firm)
        BigEndian.write(display.ouchCode, to: out, at: L.display)
        BigEndian.write(reference, to: out, at: L.reference)
        BigEndian.write(capacity.ouchCode, to: out, at: L.capacity)
        BigEndian.write(intermarketSweep.ouchCode, to: out, at: L.intermarketSweep)
        BigEndian.write(minimumQuantity, to: out, at: L.minimumQuantity)
        BigEndian.write(crossType.ouchCode, to: out, at: L.crossType)
        BigEndian.write(state.ouchCode, to: out, at: L.orderState)
        AlphaField.write(previousToken, to: out, at: L.previousToken)
        BigEndian.write(bboWeight, to: out, at: L.bboWeight)
        return L.length
    }

    /// `C` Canceled: `decrement` shares came off the order. 28 bytes.
    @inlinable
    public static func canceled(
        timestamp: Timestamp, token: OrderToken, decrement: Shares, reason: UInt8, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.Canceled
        start(OUCH.OutboundType.canceled, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(decrement, to: out, at: L.decrement)
        BigEndian.write(reason, to: out, at: L.reason)
        return L.length
    }

    /// `E` Executed. 40 bytes.
    @inlinable
    public static func executed(
        timestamp: Timestamp, token: OrderToken, shares: Shares, price: Price, liquidity: UInt8,
        matchNumber: MatchNumber, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.Executed
        start(OUCH.OutboundType.executed, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(shares, to: out, at: L.shares)
        BigEndian.write(price, to: out, at: L.price)
        BigEndian.write(liquidity, to: out, at: L.liquidity)
        BigEndian.write(matchNumber, to: out, at: L.matchNumber)
        return L.length
    }

    /// `B` Broken Trade. 32 bytes.
    @inlinable
    public static func brokenTrade(
        timestamp: Timestamp, token: OrderToken, matchNumber: MatchNumber, reason: UInt8, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.BrokenTrade
        start(OUCH.OutboundType.brokenTrade, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(matchNumber, to: out, at: L.matchNumber)
        BigEndian.write(reason, to: out, at: L.reason)
        return L.length
    }

    /// `J` Rejected with an OUCH reason byte (`RejectReason.ouchCode`). 24 bytes.
    @inlinable
    public static func rejected(timestamp: Timestamp, token: OrderToken, reason: UInt8, to out: UnsafeMutableRawPointer) -> Int {
        typealias L = OUCHLayout.Rejected
        start(OUCH.OutboundType.rejected, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(reason, to: out, at: L.reason)
        return L.length
    }

    /// `P` Cancel Pending. 23 bytes.
    @inlinable
    public static func cancelPending(timestamp: Timestamp, token: OrderToken, to out: UnsafeMutableRawPointer) -> Int {
        start(OUCH.OutboundType.cancelPending, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: OUCHLayout.TokenOnly.token)
        return OUCHLayout.TokenOnly.length
    }

    /// `I` Cancel Reject. 23 bytes.
    @inlinable
    public static func cancelReject(timestamp: Timestamp, token: OrderToken, to out: UnsafeMutableRawPointer) -> Int {
        start(OUCH.OutboundType.cancelReject, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: OUCHLayout.TokenOnly.token)
        return OUCHLayout.TokenOnly.length
    }

    /// `M` Order Modified: the order's side and open size after a Modify. 28 bytes.
    @inlinable
    public static func orderModified(
        timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.OrderModified
        start(OUCH.OutboundType.orderModified, timestamp: timestamp, to: out)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(side.ouchCode, to: out, at: L.side)
        BigEndian.write(shares, to: out, at: L.shares)
        return L.length
    }

    @inlinable @inline(__always)
    static func start(_ type: UInt8, timestamp: Timestamp, to out: UnsafeMutableRawPointer) {
        BigEndian.write(type, to: out, at: 0)
        BigEndian.write(timestamp, to: out, at: OUCHLayout.timestamp)
    }
}
