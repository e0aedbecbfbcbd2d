import ExchangeCore

// OUCH 4.2 client → exchange messages, for the client library, tools and tests: nothing
// outside this module writes order-entry bytes by hand. Each function writes one whole
// message at `to` (room for `OUCH.maximumInboundLength` bytes is always enough) and returns
// its length. Wrap it in SoupBinTCP Unsequenced Data:
// `SoupBinTCP.unsequencedDataHeader(payloadLength:to:)` first, the message at +3.

public enum OUCHInboundEncoder {
    /// `O` Enter Order. A market order is sent with the price 0x7FFFFFFF whatever `price`
    /// says. 49 bytes.
    @inlinable
    public static func enter(
        token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price, orderType: OrderType = .limit,
        timeInForce: TimeInForce = .marketHours, firm: Firm = .blank, display: Display = .anonymous,
        capacity: Capacity = .agency, intermarketSweep: IntermarketSweep = .notEligible, minimumQuantity: Shares = 0,
        crossType: CrossType = .continuous, customerType: CustomerType = .unspecified, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.EnterOrder
        BigEndian.write(OUCH.InboundType.enterOrder, to: out, at: 0)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(side.ouchCode, to: out, at: L.side)
        BigEndian.write(shares, to: out, at: L.shares)
        AlphaField.write(symbol, to: out, at: L.stock)
        BigEndian.write(orderType == .market ? OUCH.marketPrice : price, to: out, at: L.price)
        BigEndian.write(timeInForce.rawValue, to: out, at: L.timeInForce)
        AlphaField.write(firm, to: out, at: L.firm)
        BigEndian.write(display.ouchCode, to: out, at: L.display)
        BigEndian.write(capacity.ouchCode, to: out, at: L.capacity)
        BigEndian.write(intermarketSweep.ouchCode, to: out, at: L.intermarketSweep)
        BigEndian.write(minimumQuantity, to: out, at: L.minimumQuantity)
        BigEndian.write(crossType.ouchCode, to: out, at: L.crossType)
        BigEndian.write(customerType.ouchCode, to: out, at: L.customerType)
        return L.length
    }

    /// `O` Enter Order from the engine's command (its client and timestamp are not sent).
    @inlinable
    public static func enter(_ order: EnterOrder, to out: UnsafeMutableRawPointer) -> Int {
        enter(token: order.token, side: order.side, shares: order.shares, symbol: order.symbol, price: order.price,
              orderType: order.orderType, timeInForce: order.timeInForce, firm: order.firm, display: order.display,
              capacity: order.capacity, intermarketSweep: order.intermarketSweep,
              minimumQuantity: order.minimumQuantity, crossType: order.crossType,
              customerType: order.customerType, to: out)
    }

    /// `U` Replace Order. 47 bytes.
    @inlinable
    public static func replace(
        existingToken: OrderToken, replacementToken: OrderToken, shares: Shares, price: Price,
        timeInForce: TimeInForce = .marketHours, display: Display = .anonymous, intermarketSweep: IntermarketSweep = .notEligible,
        minimumQuantity: Shares = 0, to out: UnsafeMutableRawPointer
    ) -> Int {
        typealias L = OUCHLayout.ReplaceOrder
        BigEndian.write(OUCH.InboundType.replaceOrder, to: out, at: 0)
        AlphaField.write(existingToken, to: out, at: L.existingToken)
        AlphaField.write(replacementToken, to: out, at: L.replacementToken)
        BigEndian.write(shares, to: out, at: L.shares)
        BigEndian.write(price, to: out, at: L.price)
        BigEndian.write(timeInForce.rawValue, to: out, at: L.timeInForce)
        BigEndian.write(display.ouchCode, to: out, at: L.display)
        BigEndian.write(intermarketSweep.ouchCode, to: out, at: L.intermarketSweep)
        BigEndian.write(minimumQuantity, to: out, at: L.minimumQuantity)
        return L.length
    }

    @inlinable
    public static func replace(_ replace: ReplaceOrder, to out: UnsafeMutableRawPointer) -> Int {
        self.replace(existingToken: replace.existingToken, replacementToken: replace.replacementToken,
                     shares: replace.shares, price: replace.price, timeInForce: replace.timeInForce,
                     display: replace.display, intermarketSweep: replace.intermarketSweep,
                     minimumQuantity: replace.minimumQuantity, to: out)
    }

    /// `X` Cancel Order: `shares` is the new open size, 0 cancels all. 19 bytes.
    @inlinable
    public static func cancel(token: OrderToken, shares: Shares = 0, to out: UnsafeMutableRawPointer) -> Int {
        typealias L = OUCHLayout.CancelOrder
        BigEndian.write(OUCH.InboundType.cancelOrder, to: out, at: 0)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(shares, to: out, at: L.shares)
        return L.length
    }

    @inlinable
    public static func cancel(_ cancel: CancelOrder, to out: UnsafeMutableRawPointer) -> Int {
        self.cancel(token: cancel.token, shares: cancel.shares, to: out)
    }

    /// `M` Modify Order: new side (within the same book side) and open size. 20 bytes.
    @inlinable
    public static func modify(token: OrderToken, side: Side, shares: Shares, to out: UnsafeMutableRawPointer) -> Int {
        typealias L = OUCHLayout.ModifyOrder
        BigEndian.write(OUCH.InboundType.modifyOrder, to: out, at: 0)
        AlphaField.write(token, to: out, at: L.token)
        BigEndian.write(side.ouchCode, to: out, at: L.side)
        BigEndian.write(shares, to: out, at: L.shares)
        return L.length
    }

    @inlinable
    public static func modify(_ modify: ModifyOrder, to out: UnsafeMutableRawPointer) -> Int {
        self.modify(token: modify.token, side: modify.side, shares: modify.shares, to: out)
    }

    /// Any decodable command: enter, replace, cancel, modify. Nil for the engine-internal
    /// commands (mass actions, kill switches, time), which have no OUCH message.
    @inlinable
    public static func encode(_ command: EngineCommand, to out: UnsafeMutableRawPointer) -> Int? {
        switch command {
        case .enter(let c): enter(c, to: out)
        case .replace(let c): replace(c, to: out)
        case .cancel(let c): cancel(c, to: out)
        case .modify(let c): modify(c, to: out)
        default: nil
        }
    }
}
