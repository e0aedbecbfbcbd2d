import ExchangeCore

extension OUCHMessage {
    /// Decodes one exchange → client message (a Sequenced Data payload). Nil for an
    /// unknown type, a wrong length, or a typed field's byte outside its set.
    @inlinable
    public static func decode(_ payload: UnsafeRawBufferPointer) -> OUCHMessage? {
        guard let p = payload.baseAddress, payload.count > 0 else { return nil }
        let count = payload.count
        switch p.load(as: UInt8.self) {
        case OUCH.OutboundType.systemEvent:
            guard count == OUCHLayout.SystemEvent.length else { return nil }
            return .systemEvent(timestamp: readTimestamp(p), eventCode: BigEndian.readUInt8(p, at: OUCHLayout.SystemEvent.eventCode))
        case OUCH.OutboundType.accepted:
            typealias L = OUCHLayout.Accepted
            guard count == L.length, let side = Side(ouchCode: BigEndian.readUInt8(p, at: L.side)),
                  let display = Display(ouchCode: BigEndian.readUInt8(p, at: L.display)),
                  let capacity = Capacity(ouchCode: BigEndian.readUInt8(p, at: L.capacity)),
                  let sweep = IntermarketSweep(ouchCode: BigEndian.readUInt8(p, at: L.intermarketSweep)),
                  let crossType = CrossType(ouchCode: BigEndian.readUInt8(p, at: L.crossType)),
                  let state = OrderState(ouchCode: BigEndian.readUInt8(p, at: L.orderState)) else { return nil }
            return .accepted(OUCHAccepted(
                timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token), side: side,
                shares: BigEndian.readUInt32(p, at: L.shares), symbol: AlphaField.readSymbol(p, at: L.stock),
                price: BigEndian.readUInt32(p, at: L.price),
                timeInForce: TimeInForce(rawValue: BigEndian.readUInt32(p, at: L.timeInForce)),
                firm: AlphaField.readFirm(p, at: L.firm), display: display,
                reference: BigEndian.readUInt64(p, at: L.reference), capacity: capacity, intermarketSweep: sweep,
                minimumQuantity: BigEndian.readUInt32(p, at: L.minimumQuantity),
                crossType: crossType, state: state,
                bboWeight: BigEndian.readUInt8(p, at: L.bboWeight)))
        case OUCH.OutboundType.replaced:
            typealias L = OUCHLayout.Replaced
            guard count == L.length, let side = Side(ouchCode: BigEndian.readUInt8(p, at: L.side)),
                  let display = Display(ouchCode: BigEndian.readUInt8(p, at: L.display)),
                  let capacity = Capacity(ouchCode: BigEndian.readUInt8(p, at: L.capacity)),
                  let sweep = IntermarketSweep(ouchCode: BigEndian.readUInt8(p, at: L.intermarketSweep)),
                  let crossType = CrossType(ouchCode: BigEndian.readUInt8(p, at: L.crossType)),
                  let state = OrderState(ouchCode: BigEndian.readUInt8(p, at: L.orderState)) else { return nil }
            return .replaced(OUCHReplaced(
                timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token), side: side,
                shares: BigEndian.readUInt32(p, at: L.shares), symbol: AlphaField.readSymbol(p, at: L.stock),
                price: BigEndian.readUInt32(p, at: L.price),
                timeInForce: TimeInForce(rawValue: BigEndian.readUInt32(p, at: L.timeInForce)),
                firm: AlphaField.readFirm(p, at: L.firm), display: display,
                reference: BigEndian.readUInt64(p, at: L.reference), capacity: capacity, intermarketSweep: sweep,
                minimumQuantity: BigEndian.readUInt32(p, at: L.minimumQuantity),
                crossType: crossType, state: state,
                previousToken: AlphaField.readToken(p, at: L.previousToken),
                bboWeight: BigEndian.readUInt8(p, at: L.bboWeight)))
        case OUCH.OutboundType.canceled:
            typealias L = OUCHLayout.Canceled
            guard count == L.length else { return nil }
            return .canceled(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token),
                             decrement: BigEndian.readUInt32(p, at: L.decrement), reason: BigEndian.readUInt8(p, at: L.reason))
        case OUCH.OutboundType.executed:
            typealias L = OUCHLayout.Executed
            guard count == L.length else { return nil }
            return .executed(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token),
                             shares: BigEndian.readUInt32(p, at: L.shares), price: BigEndian.readUInt32(p, at: L.price),
                             liquidity: BigEndian.readUInt8(p, at: L.liquidity),
                             matchNumber: BigEndian.readUInt64(p, at: L.matchNumber))
        case OUCH.OutboundType.brokenTrade:
            typealias L = OUCHLayout.BrokenTrade
            guard count == L.length else { return nil }
            return .brokenTrade(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token),
                                matchNumber: BigEndian.readUInt64(p, at: L.matchNumber),
                                reason: BigEndian.readUInt8(p, at: L.reason))
        case OUCH.OutboundType.rejected:
            typealias L = OUCHLayout.Rejected
            guard count == L.length else { return nil }
            return .rejected(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token),
                             reason: BigEndian.readUInt8(p, at: L.reason))
        case OUCH.OutboundType.cancelPending:
            guard count == OUCHLayout.TokenOnly.length else { return nil }
            return .cancelPending(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: OUCHLayout.TokenOnly.token))
        case OUCH.OutboundType.cancelReject:
            guard count == OUCHLayout.TokenOnly.length else { return nil }
            return .cancelReject(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: OUCHLayout.TokenOnly.token))
        case OUCH.OutboundType.orderModified:
            typealias L = OUCHLayout.OrderModified
            guard count == L.length, let side = Side(ouchCode: BigEndian.readUInt8(p, at: L.side)) else { return nil }
            return .orderModified(timestamp: readTimestamp(p), token: AlphaField.readToken(p, at: L.token), side: side,
                                  shares: BigEndian.readUInt32(p, at: L.shares))
        default:
            return nil
        }
    }

    @inlinable @inline(__always)
    static func readTimestamp(_ p: UnsafeRawPointer) -> Timestamp { BigEndian.readUInt64(p, at: OUCHLayout.timestamp) }

    /// Writes the message back in wire form (a fake exchange, tests); returns its length.
    @inlinable
    public func encode(to out: UnsafeMutableRawPointer) -> Int {
        switch self {
        case .systemEvent(let t, let code):
            return OUCHOutbound.systemEvent(timestamp: t, eventCode: code, to: out)
        case .accepted(let m):
            return OUCHOutbound.accepted(
                timestamp: m.timestamp, token: m.token, side: m.side, shares: m.shares, symbol: m.symbol, price: m.price,
                timeInForce: m.timeInForce, firm: m.firm, display: m.display, reference: m.reference,
                capacity: m.capacity, intermarketSweep: m.intermarketSweep, minimumQuantity: m.minimumQuantity,
                crossType: m.crossType, state: m.state, bboWeight: m.bboWeight, to: out)
        case .replaced(let m):
            return OUCHOutbound.replaced(
                timestamp: m.timestamp, token: m.token, side: m.side, shares: m.shares, symbol: m.symbol, price: m.price,
                timeInForce: m.timeInForce, firm: m.firm, display: m.display, reference: m.reference,
                capacity: m.capacity, intermarketSweep: m.intermarketSweep, minimumQuantity: m.minimumQuantity,
                crossType: m.crossType, state: m.state, previousToken: m.previousToken, bboWeight: m.bboWeight, to: out)
        case .canceled(let t, let token, let decrement, let reason):
            return OUCHOutbound.canceled(timestamp: t, token: token, decrement: decrement, reason: reason, to: out)
        case .executed(let t, let token, let shares, let price, let liquidity, let match):
            return OUCHOutbound.executed(timestamp: t, token: token, shares: shares, price: price, liquidity: liquidity,
                                         matchNumber: match, to: out)
        case .brokenTrade(let t, let token, let match, let reason):
            return OUCHOutbound.brokenTrade(timestamp: t, token: token, matchNumber: match, reason: reason, to: out)
        case .rejected(let t, let token, let reason):
            return OUCHOutbound.rejected(timestamp: t, token: token, reason: reason, to: out)
        case .cancelPending(let t, let token):
            return OUCHOutbound.cancelPending(timestamp: t, token: token, to: out)
        case .cancelReject(let t, let token):
            return OUCHOutbound.cancelReject(timestamp: t, token: token, to: out)
        case .orderModified(let t, let token, let side, let shares):
            return OUCHOutbound.orderModified(timestamp: t, token: token, side: side, shares: shares, to: out)
        }
    }
}
