import ExchangeCore

/// Why bytes are not an ITCH message this module understands.
public enum ITCHDecodeError: Error, Equatable, Sendable {
    case empty
    /// A message type this exchange never publishes (a full Nasdaq feed has more); the
    /// receiver skips it.
    case unknownType(UInt8)
    /// The length is not the type's fixed length.
    case wrongLength(type: UInt8, expected: Int, actual: Int)
    /// A one-byte code outside its allowed values (`B`/`S` sides, event codes, states).
    case invalidCode(type: UInt8, offset: Int, value: UInt8)
}

/// Reads ITCH 5.0 messages: every byte sequence gives a message or an `ITCHDecodeError`.
public enum ITCHDecoder {
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ITCHMessage, ITCHDecodeError> {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return .failure(.empty) }
        let type = BigEndian.readUInt8(p, at: 0)
        guard let expected = ITCH.Length.of(type: type) else { return .failure(.unknownType(type)) }
        guard bytes.count == expected else { return .failure(.wrongLength(type: type, expected: expected, actual: bytes.count)) }
        let locate = BigEndian.readUInt16(p, at: ITCH.Header.stockLocate)
        let timestamp = UInt64(BigEndian.readUInt16(p, at: ITCH.Header.timestamp)) << 32
            | UInt64(BigEndian.readUInt32(p, at: ITCH.Header.timestamp + 2))
        func byte(_ offset: Int) -> UInt8 { BigEndian.readUInt8(p, at: offset) }
        func side() -> Result<UInt8, ITCHDecodeError> {
            let s = byte(ITCH.Field.side)
            return s == ITCH.buy || s == ITCH.sell ? .success(s) : .failure(.invalidCode(type: type, offset: ITCH.Field.side, value: s))
        }
        switch type {
        case ITCH.MessageType.systemEvent:
            let code = byte(ITCH.Field.eventCode)
            guard ITCH.EventCode(rawValue: code) != nil else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.eventCode, value: code))
            }
            return .success(.systemEvent(.init(timestamp: timestamp, rawCode: code)))
        case ITCH.MessageType.stockDirectory:
            return .success(.stockDirectory(.init(
                locate: locate, timestamp: timestamp, symbol: AlphaField.readSymbol(p, at: ITCH.Field.stock),
                marketCategory: byte(ITCH.Field.marketCategory), financialStatus: byte(ITCH.Field.financialStatus),
                roundLotSize: BigEndian.readUInt32(p, at: ITCH.Field.roundLotSize), roundLotsOnly: byte(ITCH.Field.roundLotsOnly),
                issueClassification: byte(ITCH.Field.issueClassification),
                issueSubType: BigEndian.readUInt16(p, at: ITCH.Field.issueSubType), authenticity: byte(ITCH.Field.authenticity),
                shortSaleThreshold: byte(ITCH.Field.shortSaleThreshold), ipoFlag: byte(ITCH.Field.ipoFlag),
                luldTier: byte(ITCH.Field.luldTier), etpFlag: byte(ITCH.Field.etpFlag),
                etpLeverageFactor: BigEndian.readUInt32(p, at: ITCH.Field.etpLeverageFactor),
                inverseIndicator: byte(ITCH.Field.inverseIndicator))))
        case ITCH.MessageType.tradingAction:
            let state = byte(ITCH.Field.tradingState)
            guard ITCH.TradingState(rawValue: state) != nil else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.tradingState, value: state))
            }
            return .success(.tradingAction(.init(
                locate: locate, timestamp: timestamp, symbol: AlphaField.readSymbol(p, at: ITCH.Field.stock), state: state,
                reserved: byte(ITCH.Field.reserved), reason: BigEndian.readUInt32(p, at: ITCH.Field.reason))))
        case ITCH.MessageType.addOrder, ITCH.MessageType.addOrderAttributed:
            return side().map { side in
                .addOrder(.init(
                    locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                    side: side, shares: BigEndian.readUInt32(p, at: ITCH.Field.addShares),
                    symbol: AlphaField.readSymbol(p, at: ITCH.Field.addStock), price: BigEndian.readUInt32(p, at: ITCH.Field.addPrice),
                    attribution: type == ITCH.MessageType.addOrderAttributed ? AlphaField.readFirm(p, at: ITCH.Field.attribution) : nil))
            }
        case ITCH.MessageType.orderExecuted:
            return .success(.orderExecuted(.init(
                locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                shares: BigEndian.readUInt32(p, at: ITCH.Field.executedShares),
                matchNumber: BigEndian.readUInt64(p, at: ITCH.Field.matchNumber))))
        case ITCH.MessageType.orderExecutedWithPrice:
            let printable = byte(ITCH.Field.printable)
            guard printable == 0x59 || printable == 0x4E else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.printable, value: printable))
            }
            return .success(.orderExecutedWithPrice(.init(
                locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                shares: BigEndian.readUInt32(p, at: ITCH.Field.executedShares),
                matchNumber: BigEndian.readUInt64(p, at: ITCH.Field.matchNumber), printable: printable,
                price: BigEndian.readUInt32(p, at: ITCH.Field.executionPrice))))
        case ITCH.MessageType.orderCancel:
            return .success(.orderCancel(.init(
                locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                canceledShares: BigEndian.readUInt32(p, at: ITCH.Field.canceledShares))))
        case ITCH.MessageType.orderDelete:
            return .success(.orderDelete(.init(
                locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference))))
        case ITCH.MessageType.orderReplace:
            return .success(.orderReplace(.init(
                locate: locate, timestamp: timestamp, originalReference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                newReference: BigEndian.readUInt64(p, at: ITCH.Field.newOrderReference),
                shares: BigEndian.readUInt32(p, at: ITCH.Field.replaceShares),
                price: BigEndian.readUInt32(p, at: ITCH.Field.replacePrice))))
        case ITCH.MessageType.crossTrade:
            let cross = byte(ITCH.Field.crossType)
            guard ITCH.CrossTypeCode(rawValue: cross) != nil, cross != ITCH.CrossTypeCode.extendedClose.rawValue else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.crossType, value: cross))
            }
            return .success(.crossTrade(.init(
                locate: locate, timestamp: timestamp, shares: BigEndian.readUInt64(p, at: ITCH.Field.crossShares),
                symbol: AlphaField.readSymbol(p, at: ITCH.Field.crossStock), price: BigEndian.readUInt32(p, at: ITCH.Field.crossPrice),
                matchNumber: BigEndian.readUInt64(p, at: ITCH.Field.crossMatchNumber), crossType: cross)))
        case ITCH.MessageType.imbalance:
            let direction = byte(ITCH.Field.imbalanceDirection)
            guard ITCH.ImbalanceDirectionCode(rawValue: direction) != nil else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.imbalanceDirection, value: direction))
            }
            let cross = byte(ITCH.Field.imbalanceCrossType)
            guard ITCH.CrossTypeCode(rawValue: cross) != nil, cross != ITCH.CrossTypeCode.intraday.rawValue else {
                return .failure(.invalidCode(type: type, offset: ITCH.Field.imbalanceCrossType, value: cross))
            }
            return .success(.imbalance(.init(
                locate: locate, timestamp: timestamp, pairedShares: BigEndian.readUInt64(p, at: ITCH.Field.pairedShares),
                imbalanceShares: BigEndian.readUInt64(p, at: ITCH.Field.imbalanceShares), direction: direction,
                symbol: AlphaField.readSymbol(p, at: ITCH.Field.imbalanceStock), farPrice: BigEndian.readUInt32(p, at: ITCH.Field.farPrice),
                nearPrice: BigEndian.readUInt32(p, at: ITCH.Field.nearPrice),
                referencePrice: BigEndian.readUInt32(p, at: ITCH.Field.currentReferencePrice), crossType: cross,
                priceVariation: byte(ITCH.Field.priceVariationIndicator))))
        case ITCH.MessageType.luldAuctionCollar:
            return .success(.luldAuctionCollar(.init(
                locate: locate, timestamp: timestamp, symbol: AlphaField.readSymbol(p, at: ITCH.Field.stock),
                referencePrice: BigEndian.readUInt32(p, at: ITCH.Field.collarReferencePrice),
                upperPrice: BigEndian.readUInt32(p, at: ITCH.Field.upperCollarPrice),
                lowerPrice: BigEndian.readUInt32(p, at: ITCH.Field.lowerCollarPrice),
                extensions: BigEndian.readUInt32(p, at: ITCH.Field.collarExtension))))
        default:  // ITCH.MessageType.trade: every other type returned above
            return side().map { side in
                .trade(.init(
                    locate: locate, timestamp: timestamp, reference: BigEndian.readUInt64(p, at: ITCH.Field.orderReference),
                    side: side, shares: BigEndian.readUInt32(p, at: ITCH.Field.addShares),
                    symbol: AlphaField.readSymbol(p, at: ITCH.Field.addStock), price: BigEndian.readUInt32(p, at: ITCH.Field.addPrice),
                    matchNumber: BigEndian.readUInt64(p, at: ITCH.Field.tradeMatchNumber)))
            }
        }
    }
}
