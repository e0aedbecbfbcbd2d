import ExchangeCore

/// Writes ITCH 5.0 messages (layouts in `ITCH`). The caller provides at least
/// `message.length` bytes (`ITCH.Length.maximum` always suffices); nothing is checked and
/// nothing allocates.
public enum ITCHEncoder {
    /// Writes `message` at `out` and returns its length.
    @inlinable
    public static func write(_ message: ITCHMessage, to out: UnsafeMutableRawPointer) -> Int {
        switch message {
        case .systemEvent(let m):
            header(ITCH.MessageType.systemEvent, locate: 0, timestamp: m.timestamp, to: out)
            BigEndian.write(m.code, to: out, at: ITCH.Field.eventCode)
            return ITCH.Length.systemEvent
        case .stockDirectory(let m):
            header(ITCH.MessageType.stockDirectory, locate: m.locate, timestamp: m.timestamp, to: out)
            AlphaField.write(m.symbol, to: out, at: ITCH.Field.stock)
            BigEndian.write(m.marketCategory, to: out, at: ITCH.Field.marketCategory)
            BigEndian.write(m.financialStatus, to: out, at: ITCH.Field.financialStatus)
            BigEndian.write(m.roundLotSize, to: out, at: ITCH.Field.roundLotSize)
            BigEndian.write(m.roundLotsOnly, to: out, at: ITCH.Field.roundLotsOnly)
            BigEndian.write(m.issueClassification, to: out, at: ITCH.Field.issueClassification)
            BigEndian.write(m.issueSubType, to: out, at: ITCH.Field.issueSubType)
            BigEndian.write(m.authenticity, to: out, at: ITCH.Field.authenticity)
            BigEndian.write(m.shortSaleThreshold, to: out, at: ITCH.Field.shortSaleThreshold)
            BigEndian.write(m.ipoFlag, to: out, at: ITCH.Field.ipoFlag)
            BigEndian.write(m.luldTier, to: out, at: ITCH.Field.luldTier)
            BigEndian.write(m.etpFlag, to: out, at: ITCH.Field.etpFlag)
            BigEndian.write(m.etpLeverageFactor, to: out, at: ITCH.Field.etpLeverageFactor)
            BigEndian.write(m.inverseIndicator, to: out, at: ITCH.Field.inverseIndicator)
            return ITCH.Length.stockDirectory
        case .tradingAction(let m):
            header(ITCH.MessageType.tradingAction, locate: m.locate, timestamp: m.timestamp, to: out)
            AlphaField.write(m.symbol, to: out, at: ITCH.Field.stock)
            BigEndian.write(m.state, to: out, at: ITCH.Field.tradingState)
            BigEndian.write(m.reserved, to: out, at: ITCH.Field.reserved)
            BigEndian.write(m.reason, to: out, at: ITCH.Field.reason)
            return ITCH.Length.tradingAction
        case .addOrder(let m):
            let type = m.attribution == nil ? ITCH.MessageType.addOrder : ITCH.MessageType.addOrderAttributed
            header(type, locate: m.locate, timestamp: m.timestamp, to: out)
            order(m.reference, m.side, m.shares, m.symbol, m.price, to: out)
            guard let firm = m.attribution else { return ITCH.Length.addOrder }
            AlphaField.write(firm, to: out, at: ITCH.Field.attribution)
            return ITCH.Length.addOrderAttributed
        case .orderExecuted(let m):
            header(ITCH.MessageType.orderExecuted, locate: m.locate, timestamp: m.timestamp, to: out)
            execution(m.reference, m.shares, m.matchNumber, to: out)
            return ITCH.Length.orderExecuted
        case .orderExecutedWithPrice(let m):
            header(ITCH.MessageType.orderExecutedWithPrice, locate: m.locate, timestamp: m.timestamp, to: out)
            execution(m.reference, m.shares, m.matchNumber, to: out)
            BigEndian.write(m.printable, to: out, at: ITCH.Field.printable)
            BigEndian.write(m.price, to: out, at: ITCH.Field.executionPrice)
            return ITCH.Length.orderExecutedWithPrice
        case .orderCancel(let m):
            header(ITCH.MessageType.orderCancel, locate: m.locate, timestamp: m.timestamp, to: out)
            BigEndian.write(m.reference, to: out, at: ITCH.Field.orderReference)
            BigEndian.write(m.canceledShares, to: out, at: ITCH.Field.canceledShares)
            return ITCH.Length.orderCancel
        case .orderDelete(let m):
            header(ITCH.MessageType.orderDelete, locate: m.locate, timestamp: m.timestamp, to: out)
            BigEndian.write(m.reference, to: out, at: ITCH.Field.orderReference)
            return ITCH.Length.orderDelete
        case .orderReplace(let m):
            header(ITCH.MessageType.orderReplace, locate: m.locate, timestamp: m.timestamp, to: out)
            BigEndian.write(m.originalReference, to: out, at: ITCH.Field.orderReference)
            BigEndian.write(m.newReference, to: out, at: ITCH.Field.newOrderReference)
            BigEndian.write(m.shares, to: out, at: ITCH.Field.replaceShares)
            BigEndian.write(m.price, to: out, at: ITCH.Field.replacePrice)
            return ITCH.Length.orderReplace
        case .trade(let m):
            header(ITCH.MessageType.trade, locate: m.locate, timestamp: m.timestamp, to: out)
            order(m.reference, m.side, m.shares, m.symbol, m.price, to: out)
            BigEndian.write(m.matchNumber, to: out, at: ITCH.Field.tradeMatchNumber)
            return ITCH.Length.trade
        case .crossTrade(let m):
            header(ITCH.MessageType.crossTrade, locate: m.locate, timestamp: m.timestamp, to: out)
            BigEndian.write(m.shares, to: out, at: ITCH.Field.crossShares)
            AlphaField.write(m.symbol, to: out, at: ITCH.Field.crossStock)
            BigEndian.write(m.price, to: out, at: ITCH.Field.crossPrice)
            BigEndian.write(m.matchNumber, to: out, at: ITCH.Field.crossMatchNumber)
            BigEndian.write(m.crossType, to: out, at: ITCH.Field.crossType)
            return ITCH.Length.crossTrade
        case .imbalance(let m):
            header(ITCH.MessageType.imbalance, locate: m.locate, timestamp: m.timestamp, to: out)
            BigEndian.write(m.pairedShares, to: out, at: ITCH.Field.pairedShares)
            BigEndian.write(m.imbalanceShares, to: out, at: ITCH.Field.imbalanceShares)
            BigEndian.write(m.direction, to: out, at: ITCH.Field.imbalanceDirection)
            AlphaField.write(m.symbol, to: out, at: ITCH.Field.imbalanceStock)
            BigEndian.write(m.farPrice, to: out, at: ITCH.Field.farPrice)
            BigEndian.write(m.nearPrice, to: out, at: ITCH.Field.nearPrice)
            BigEndian.write(m.referencePrice, to: out, at: ITCH.Field.currentReferencePrice)
            BigEndian.write(m.crossType, to: out, at: ITCH.Field.imbalanceCrossType)
            BigEndian.write(m.priceVariation, to: out, at: ITCH.Field.priceVariationIndicator)
            return ITCH.Length.imbalance
        case .luldAuctionCollar(let m):
            header(ITCH.MessageType.luldAuctionCollar, locate: m.locate, timestamp: m.timestamp, to: out)
            AlphaField.write(m.symbol, to: out, at: ITCH.Field.stock)
            BigEndian.write(m.referencePrice, to: out, at: ITCH.Field.collarReferencePrice)
            BigEndian.write(m.upperPrice, to: out, at: ITCH.Field.upperCollarPrice)
            BigEndian.write(m.lowerPrice, to: out, at: ITCH.Field.lowerCollarPrice)
            BigEndian.write(m.extensions, to: out, at: ITCH.Field.collarExtension)
            return ITCH.Length.luldAuctionCollar
        }
    }

    /// The fields `A`, `F` and `P` share: reference, side, shares, stock, price (11…35).
    @inlinable @inline(__always)
    static func order(_ reference: OrderReference, _ side: UInt8, _ shares: Shares, _ symbol: Symbol, _ price: Price,
                      to out: UnsafeMutableRawPointer) {
        BigEndian.write(reference, to: out, at: ITCH.Field.orderReference)
        BigEndian.write(side, to: out, at: ITCH.Field.side)
        BigEndian.write(shares, to: out, at: ITCH.Field.addShares)
        AlphaField.write(symbol, to: out, at: ITCH.Field.addStock)
        BigEndian.write(price, to: out, at: ITCH.Field.addPrice)
    }

    /// The fields `E` and `C` share: reference, executed shares, match number (11…30).
    @inlinable @inline(__always)
    static func execution(_ reference: OrderReference, _ shares: Shares, _ match: MatchNumber, to out: UnsafeMutableRawPointer) {
        BigEndian.write(reference, to: out, at: ITCH.Field.orderReference)
        BigEndian.write(shares, to: out, at: ITCH.Field.executedShares)
        BigEndian.write(match, to: out, at: ITCH.Field.matchNumber)
    }

    /// Nanoseconds in a day: timestamps are taken modulo a day (the gateway's clock keeps
    /// counting past midnight so that the engine's never runs backwards).
    public static let nanosecondsPerDay: Timestamp = 86_400_000_000_000

    /// Type, stock locate, tracking number 0, and the timestamp as a time of day in 48 bits.
    @inlinable @inline(__always)
    static func header(_ type: UInt8, locate: UInt16, timestamp raw: Timestamp, to out: UnsafeMutableRawPointer) {
        let timestamp = raw < nanosecondsPerDay ? raw : raw % nanosecondsPerDay
        BigEndian.write(type, to: out, at: ITCH.Header.type)
        BigEndian.write(locate, to: out, at: ITCH.Header.stockLocate)
        BigEndian.write(UInt16(0), to: out, at: ITCH.Header.trackingNumber)
        BigEndian.write(UInt16(truncatingIfNeeded: timestamp >> 32), to: out, at: ITCH.Header.timestamp)
        BigEndian.write(UInt32(truncatingIfNeeded: timestamp), to: out, at: ITCH.Header.timestamp + 2)
    }
}
