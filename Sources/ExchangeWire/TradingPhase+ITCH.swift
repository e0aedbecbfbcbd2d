import ExchangeCore

// The trading day's vocabulary in ITCH 5.0 letters (docs/MARKETDATA.md).

extension TradingPhase {
    /// The Stock Trading Action state a change into this phase publishes: `Q` quotation only
    /// (pre-open: orders are taken, nothing trades), `H` halted, `T` trading; nil for
    /// post-close, which publishes no `H` (the market's `M` says it).
    @inlinable public var itchTradingState: ITCH.TradingState? {
        switch self {
        case .continuous: .trading
        case .preOpen: .quotationOnly
        case .halted: .halted
        case .postClose: nil
        }
    }
}

extension CrossKind {
    /// Cross Type of `Q` and `I`.
    @inlinable public var itchCode: ITCH.CrossTypeCode {
        switch self {
        case .opening: .opening
        case .closing: .closing
        case .halt: .haltOrIPO
        }
    }
}

extension ImbalanceDirection {
    /// Imbalance Direction of `I`.
    @inlinable public var itchCode: ITCH.ImbalanceDirectionCode {
        switch self {
        case .none: .none
        case .buy: .buy
        case .sell: .sell
        }
    }
}

extension MarketEventCode {
    /// System Event code of `S`.
    @inlinable public var itchCode: ITCH.EventCode {
        switch self {
        case .startOfSystemHours: .startOfSystemHours
        case .startOfMarketHours: .startOfMarketHours
        case .endOfMarketHours: .endOfMarketHours
        case .endOfSystemHours: .endOfSystemHours
        }
    }
}

extension ITCH {
    /// Price Variation Indicator of `I`: how far the near price is from the reference, as
    /// Nasdaq buckets it (`L` under 1 %, `1`…`9` each percent to 10 %, `A` 10–20 %, `B`
    /// 20–30 %, `C` 30 % or more), or a space when there is no price or no reference.
    @inlinable public static func priceVariation(price: Price, reference: Price) -> UInt8 {
        guard price > 0, reference > 0 else { return 0x20 }
        let difference = UInt64(price > reference ? price - reference : reference - price)
        let basisPoints = difference * 10_000 / UInt64(reference)
        switch basisPoints {
        case ..<100: return 0x4C                                  // L
        case 100..<1_000: return 0x30 + UInt8(basisPoints / 100)  // 1…9
        case 1_000..<2_000: return 0x41                           // A
        case 2_000..<3_000: return 0x42                           // B
        default: return 0x43                                      // C
        }
    }
}
