import ExchangeCore

extension RejectReason {
    /// The reason in words, for people (clients' output, the exchange's debug log): the
    /// three price refusals read apart — off the tick, outside the collar, outside the ladder.
    public var explanation: String {
        switch self {
        case .unknownClient: "unknown account"
        case .exchangeKilled: "the exchange's kill switch is on"
        case .clientKilled: "the account's kill switch is on"
        case .rateLimited: "over the account's order rate limit"
        case .unknownSymbol: "unknown symbol"
        case .instrumentHalted: "the symbol is halted"
        case .invalidShares: "invalid number of shares"
        case .invalidTimeInForce: "invalid time in force"
        case .invalidDisplay: "invalid display"
        case .invalidMinimumQuantity: "invalid minimum quantity"
        case .oddLot: "not a multiple of the round lot"
        case .invalidPriceIncrement: "price not on the symbol's tick"
        case .priceOutOfRange: "price outside the book's price ladder"
        case .duplicateToken: "order token already used today"
        case .unknownOrder: "no live order with this token"
        case .postOnlyCannotPost: "post-only order cannot be repriced onto the ladder"
        case .orderPoolExhausted: "the exchange's order pool is full"
        case .maxOrderSizeExceeded: "more shares than the maximum order size"
        case .priceCollarBreached: "price outside the price collar"
        case .maxNotionalExceeded: "over the account's open notional limit"
        case .cancelSizeNotSmaller: "the new size is not smaller"
        case .invalidModify: "the modify cannot apply to this order"
        case .tokenHistoryFull: "the account has used its share of order tokens"
        case .invalidSide: "invalid side"
        case .marketPriceOnReplace: "a replacement cannot be a market order"
        case .exchangeClosing: "the exchange is closing"
        case .systemBusy: "the exchange is busy (engine queue full)"
        case .firmNotAuthorized: "the account may not trade for this firm"
        case .invalidCapacity: "invalid capacity"
        case .invalidIntermarketSweep: "invalid intermarket sweep eligibility"
        case .invalidCrossType: "invalid cross type"
        case .invalidCustomerType: "invalid customer type"
        case .journalStalled: "the exchange's journal is stalled (disk fault): new orders are refused, cancels are taken"
        }
    }
}
