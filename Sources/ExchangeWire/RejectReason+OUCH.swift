import ExchangeCore

extension RejectReason {
    /// The OUCH 4.2 Rejected-message reason byte.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .unknownClient, .rateLimited, .invalidShares, .invalidTimeInForce,
             .duplicateToken, .unknownOrder, .cancelSizeNotSmaller, .invalidModify, .orderPoolExhausted,
             .tokenHistoryFull, .invalidSide, .systemBusy, .journalStalled,
             .invalidCapacity, .invalidIntermarketSweep, .invalidCrossType, .invalidCustomerType:
            return 0x4F  // O  Other
        case .exchangeClosing: return 0x43         // C  closed
        case .exchangeKilled: return 0x43          // C  closed
        case .clientKilled: return 0x61            // a  Reject All enabled
        case .unknownSymbol: return 0x53           // S  Invalid Stock
        case .instrumentHalted: return 0x48        // H  Halted
        case .invalidDisplay: return 0x44          // D  Invalid Display Type
        case .firmNotAuthorized: return 0x4C       // L  Requested firm not authorized
        case .invalidMinimumQuantity: return 0x4E  // N  Invalid Minimum Quantity
        case .oddLot: return 0x65                  // e  Odd lot order restriction
        case .invalidPriceIncrement, .priceOutOfRange, .postOnlyCannotPost, .priceCollarBreached, .marketPriceOnReplace:
            return 0x58                            // X  Invalid Price
        case .maxOrderSizeExceeded: return 0x5A    // Z  Shares exceed safety threshold
        case .maxNotionalExceeded: return 0x6E     // n  Exceeded dollar value limit
        }
    }
}
