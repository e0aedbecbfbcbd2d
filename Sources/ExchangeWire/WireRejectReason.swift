// Why a well-formed OUCH message could not become an engine command. The gateway answers
// with OUCH `J` Rejected (Enter, Replace) or `I` Cancel Reject (Modify) for the token and
// counts the reason; the session stays up.

public enum WireRejectReason: UInt8, Error, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// BuySell is not one of `B S T E` (Enter, Modify).
    case invalidSide = 1
    /// A Replace asked for the market price (0x7FFFFFFF): a replacement is always a limit
    /// order, so the price cannot be represented.
    case marketPriceOnReplace

    /// The OUCH 4.2 Rejected reason byte to answer with.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .invalidSide: 0x4F            // O  Other (4.2 has no side-specific code)
        case .marketPriceOnReplace: 0x58   // X  Invalid Price
        }
    }

    public var description: String {
        switch self {
        case .invalidSide: "invalid_side"
        case .marketPriceOnReplace: "market_price_on_replace"
        }
    }
}
