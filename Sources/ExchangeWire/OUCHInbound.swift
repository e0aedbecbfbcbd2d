import ExchangeCore

// OUCH 4.2 client → exchange messages into engine commands. Checks the type and the exact
// length first; after that every read is in bounds and unchecked. Every enumerated field
// is checked against its OUCH 4.2 set; a byte outside it is refused with a reason naming
// the field (`OUCHDecodeResult.rejectable`).

public enum OUCHInbound {
    /// Decodes one message (the payload of a SoupBinTCP Unsequenced Data packet).
    ///
    /// - Parameters:
    ///   - client: the session's account, stamped on the command.
    ///   - defaultFirm: replaces a blank (4 spaces) Firm on Enter Order.
    ///   - timestamp: the gateway's receive time, stamped on the command.
    @inlinable
    public static func decode(
        _ payload: UnsafeRawBufferPointer, client: ClientID, defaultFirm: Firm, timestamp: Timestamp
    ) -> OUCHDecodeResult {
        guard let base = payload.baseAddress, payload.count > 0 else { return .malformed(.empty) }
        let type = base.load(as: UInt8.self)
        let expected: Int
        switch type {
        case OUCH.InboundType.enterOrder: expected = OUCHLayout.EnterOrder.length
        case OUCH.InboundType.replaceOrder: expected = OUCHLayout.ReplaceOrder.length
        case OUCH.InboundType.cancelOrder: expected = OUCHLayout.CancelOrder.length
        case OUCH.InboundType.modifyOrder: expected = OUCHLayout.ModifyOrder.length
        default: return .malformed(.unknownType(type))
        }
        guard payload.count == expected else {
            return .malformed(.wrongLength(type: type, expected: expected, got: payload.count))
        }
        switch type {
        case OUCH.InboundType.enterOrder:
            return enterOrder(base, client: client, defaultFirm: defaultFirm, timestamp: timestamp)
        case OUCH.InboundType.replaceOrder:
            return replaceOrder(base, client: client, timestamp: timestamp)
        case OUCH.InboundType.cancelOrder:
            typealias L = OUCHLayout.CancelOrder
            return .command(.cancel(CancelOrder(
                timestamp: timestamp, client: client,
                token: AlphaField.readToken(base, at: L.token),
                shares: BigEndian.readUInt32(base, at: L.shares))))
        default:
            typealias L = OUCHLayout.ModifyOrder
            let token = AlphaField.readToken(base, at: L.token)
            guard let side = Side(ouchCode: BigEndian.readUInt8(base, at: L.side)) else {
                return .rejectable(token: token, reason: .invalidSide)
            }
            return .command(.modify(ModifyOrder(
                timestamp: timestamp, client: client, token: token, side: side,
                shares: BigEndian.readUInt32(base, at: L.shares))))
        }
    }

    /// `O`, 49 bytes already checked.
    @inlinable
    static func enterOrder(_ base: UnsafeRawPointer, client: ClientID, defaultFirm: Firm, timestamp: Timestamp) -> OUCHDecodeResult {
        typealias L = OUCHLayout.EnterOrder
        let token = AlphaField.readToken(base, at: L.token)
        guard let side = Side(ouchCode: BigEndian.readUInt8(base, at: L.side)) else {
            return .rejectable(token: token, reason: .invalidSide)
        }
        guard let display = Display(ouchCode: BigEndian.readUInt8(base, at: L.display)) else {
            return .rejectable(token: token, reason: .invalidDisplay)
        }
        guard let capacity = Capacity(ouchCode: BigEndian.readUInt8(base, at: L.capacity)) else {
            return .rejectable(token: token, reason: .invalidCapacity)
        }
        guard let sweep = IntermarketSweep(ouchCode: BigEndian.readUInt8(base, at: L.intermarketSweep)) else {
            return .rejectable(token: token, reason: .invalidIntermarketSweep)
        }
        guard let crossType = CrossType(ouchCode: BigEndian.readUInt8(base, at: L.crossType)) else {
            return .rejectable(token: token, reason: .invalidCrossType)
        }
        guard let customerType = CustomerType(ouchCode: BigEndian.readUInt8(base, at: L.customerType)) else {
            return .rejectable(token: token, reason: .invalidCustomerType)
        }
        let wirePrice = BigEndian.readUInt32(base, at: L.price)
        let isMarket = wirePrice == OUCH.marketPrice
        let firm = AlphaField.readFirm(base, at: L.firm)
        return .command(.enter(EnterOrder(
            timestamp: timestamp, client: client, token: token, side: side,
            orderType: isMarket ? .market : .limit,
            shares: BigEndian.readUInt32(base, at: L.shares),
            symbol: AlphaField.readSymbol(base, at: L.stock),
            price: isMarket ? 0 : wirePrice,
            timeInForce: TimeInForce(rawValue: BigEndian.readUInt32(base, at: L.timeInForce)),
            firm: firm.rawValue == OUCH.blankFirm ? defaultFirm : firm,
            display: display, capacity: capacity, intermarketSweep: sweep,
            minimumQuantity: BigEndian.readUInt32(base, at: L.minimumQuantity),
            crossType: crossType, customerType: customerType)))
    }

    /// `U`, 47 bytes already checked.
    @inlinable
    static func replaceOrder(_ base: UnsafeRawPointer, client: ClientID, timestamp: Timestamp) -> OUCHDecodeResult {
        typealias L = OUCHLayout.ReplaceOrder
        let replacement = AlphaField.readToken(base, at: L.replacementToken)
        let price = BigEndian.readUInt32(base, at: L.price)
        guard price != OUCH.marketPrice else {
            return .rejectable(token: replacement, reason: .marketPriceOnReplace)
        }
        guard let display = Display(ouchCode: BigEndian.readUInt8(base, at: L.display)) else {
            return .rejectable(token: replacement, reason: .invalidDisplay)
        }
        guard let sweep = IntermarketSweep(ouchCode: BigEndian.readUInt8(base, at: L.intermarketSweep)) else {
            return .rejectable(token: replacement, reason: .invalidIntermarketSweep)
        }
        return .command(.replace(ReplaceOrder(
            timestamp: timestamp, client: client,
            existingToken: AlphaField.readToken(base, at: L.existingToken),
            replacementToken: replacement,
            shares: BigEndian.readUInt32(base, at: L.shares),
            price: price,
            timeInForce: TimeInForce(rawValue: BigEndian.readUInt32(base, at: L.timeInForce)),
            display: display, intermarketSweep: sweep,
            minimumQuantity: BigEndian.readUInt32(base, at: L.minimumQuantity))))
    }
}
