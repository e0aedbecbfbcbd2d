/// Why an order, replace, cancel or modify was refused. Every reason is distinct and
/// counted on its own; the wire codecs map it onto the reason byte a protocol reports
/// (ExchangeWire's `RejectReason.ouchCode`; several reasons share a byte).
public enum RejectReason: UInt8, Error, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    // Admission
    case unknownClient = 1
    case exchangeKilled
    case clientKilled
    case rateLimited
    // Structure (ExchangeCore)
    case unknownSymbol
    case instrumentHalted
    case invalidShares
    case invalidTimeInForce
    case invalidDisplay
    case invalidMinimumQuantity
    case oddLot
    case invalidPriceIncrement
    case priceOutOfRange
    case duplicateToken
    case unknownOrder
    case postOnlyCannotPost
    case orderPoolExhausted
    // Limits (ExchangeRisk)
    case maxOrderSizeExceeded
    case priceCollarBreached
    case maxNotionalExceeded
    // Cancel and modify requests that cannot apply
    case cancelSizeNotSmaller
    case invalidModify
    // Refused by the order gateway (EngineCommand.refuse), or, for systemBusy, answered by
    // it at once when the ring to the engine is full
    case tokenHistoryFull
    case invalidSide
    case marketPriceOnReplace
    case exchangeClosing
    case systemBusy
    // Refused by the order gateway: a Firm the account may not use, and wire values outside
    // the protocol's set for Capacity, Intermarket Sweep, Cross Type and Customer Type
    case firmNotAuthorized
    case invalidCapacity
    case invalidIntermarketSweep
    case invalidCrossType
    case invalidCustomerType
    // Refused by the order gateway in durability mode sync: the journal has made nothing
    // durable for longer than `durability.stall_budget_ms` while answers wait for it (an
    // Enter Order or Replace; cancels are still taken)
    case journalStalled

    /// Snake-case name used as the `reason` label in metrics and summaries.
    public var description: String {
        switch self {
        case .unknownClient: "unknown_client"
        case .exchangeKilled: "exchange_killed"
        case .clientKilled: "client_killed"
        case .rateLimited: "rate_limited"
        case .unknownSymbol: "unknown_symbol"
        case .instrumentHalted: "instrument_halted"
        case .invalidShares: "invalid_shares"
        case .invalidTimeInForce: "invalid_time_in_force"
        case .invalidDisplay: "invalid_display"
        case .invalidMinimumQuantity: "invalid_minimum_quantity"
        case .oddLot: "odd_lot"
        case .invalidPriceIncrement: "invalid_price_increment"
        case .priceOutOfRange: "price_out_of_range"
        case .duplicateToken: "duplicate_token"
        case .unknownOrder: "unknown_order"
        case .postOnlyCannotPost: "post_only_cannot_post"
        case .orderPoolExhausted: "order_pool_exhausted"
        case .maxOrderSizeExceeded: "max_order_size"
        case .priceCollarBreached: "price_collar"
        case .maxNotionalExceeded: "max_notional"
        case .cancelSizeNotSmaller: "cancel_size_not_smaller"
        case .invalidModify: "invalid_modify"
        case .tokenHistoryFull: "token_history_full"
        case .invalidSide: "invalid_side"
        case .marketPriceOnReplace: "market_price_on_replace"
        case .exchangeClosing: "exchange_closing"
        case .systemBusy: "system_busy"
        case .firmNotAuthorized: "firm_not_authorized"
        case .invalidCapacity: "invalid_capacity"
        case .invalidIntermarketSweep: "invalid_intermarket_sweep"
        case .invalidCrossType: "invalid_cross_type"
        case .invalidCustomerType: "invalid_customer_type"
        case .journalStalled: "journal_stalled"
        }
    }

    /// Number of slots a per-reason counter array needs (raw values start at 1).
    public static let counterSlots = Int(RejectReason.allCases.last!.rawValue) + 1
}

/// Why shares came off an order other than by trading.
public enum CancelReason: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// The client asked (cancel, replace, or its connection ended with cancel-on-disconnect).
    case userRequested = 0
    /// What an immediate-or-cancel or market order could not fill, or an unmet minimum quantity.
    case immediateOrCancel
    /// The time in force elapsed.
    case timeout
    /// A kill switch.
    case supervisory
    /// Self-trade prevention.
    case selfMatchPrevention
    /// The exchange itself.
    case system

    public var description: String {
        switch self {
        case .userRequested: "user_requested"
        case .immediateOrCancel: "immediate_or_cancel"
        case .timeout: "timeout"
        case .supervisory: "supervisory"
        case .selfMatchPrevention: "self_match_prevention"
        case .system: "system"
        }
    }
}
