// What an order is, in the exchange's own terms. Wire protocols spell these fields their
// own way; the codecs (ExchangeWire) map each case to and from its code. Raw values are
// dense from 0 so a case fits a byte of a record and indexes a table.

/// Which way an order trades: buy, or one of the three kinds of sell (a long sale, a short
/// sale, a short sale exempt from the short-sale rule). All sells rest on the ask side.
public enum Side: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case buy = 0
    case sell
    case sellShort
    case sellShortExempt

    @inlinable public var bookSide: BookSide { self == .buy ? .bid : .ask }

    public var description: String {
        switch self {
        case .buy: "buy"
        case .sell: "sell"
        case .sellShort: "sell_short"
        case .sellShortExempt: "sell_short_exempt"
        }
    }
}

/// The side of the book an order rests on.
public enum BookSide: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case bid = 0
    case ask = 1

    @inlinable public var opposite: BookSide { self == .bid ? .ask : .bid }
}

/// Limit orders carry a price; market orders walk the book up to the price collar.
public enum OrderType: UInt8, Sendable, BitwiseCopyable {
    case limit = 0
    case market = 1
}

/// How a resting order shows on the market-data feed, and whether it may take liquidity.
public enum Display: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Displayed without the firm (an anonymous Add Order on the feed).
    case anonymous = 0
    /// Displayed with the firm attributed.
    case attributable
    /// Rests and trades but never appears on the feed; its executions print as trades.
    case nonDisplayed
    /// Post-only, displayed anonymously. Never takes liquidity (see docs/MATCHING.md).
    case postOnly
    /// Post-only and attributable.
    case postOnlyAttributable

    // Switches, always inlined: the engine asks these on every entry, and an enum's `==`
    // was left as a call (seen in callgrind on engine-bench's deep sweep).
    @inlinable @inline(__always) public var isDisplayed: Bool {
        switch self { case .nonDisplayed: false; default: true }
    }
    @inlinable @inline(__always) public var isAttributed: Bool {
        switch self { case .attributable, .postOnlyAttributable: true; default: false }
    }
    @inlinable @inline(__always) public var isPostOnly: Bool {
        switch self { case .postOnly, .postOnlyAttributable: true; default: false }
    }

    public var description: String {
        switch self {
        case .anonymous: "anonymous"
        case .attributable: "attributable"
        case .nonDisplayed: "non_displayed"
        case .postOnly: "post_only"
        case .postOnlyAttributable: "post_only_attributable"
        }
    }
}

/// The time in force: 0 is immediate-or-cancel, 99998 (market hours) and 99999 (system
/// hours) rest for the day, 1...86400 are seconds to live. Anything else is rejected.
public struct TimeInForce: RawRepresentable, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let immediateOrCancel = TimeInForce(rawValue: 0)
    public static let marketHours = TimeInForce(rawValue: 99_998)
    public static let systemHours = TimeInForce(rawValue: 99_999)
    public static let maximumSecondsToLive: UInt32 = 86_400

    @inlinable public static func seconds(_ s: UInt32) -> TimeInForce { TimeInForce(rawValue: s) }

    @inlinable public var isImmediateOrCancel: Bool { rawValue == 0 }
    @inlinable public var isDay: Bool { rawValue == 99_998 || rawValue == 99_999 }
    @inlinable public var isTimed: Bool { rawValue >= 1 && rawValue <= TimeInForce.maximumSecondsToLive }
    @inlinable public var isValid: Bool { isImmediateOrCancel || isDay || isTimed }

    public var description: String { String(rawValue) }
}

/// Whether an order can rest after entry (reported in Accepted and Replaced).
public enum OrderState: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case live = 0
    case dead
}

/// Which side of a fill an order was on, and whether it was displayed.
public enum LiquidityFlag: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// The displayed resting order.
    case added = 0
    /// The incoming order.
    case removed
    /// The non-displayed resting order.
    case addedNonDisplayed
}

/// In what capacity the firm enters the order. Stored and echoed; matching ignores it.
public enum Capacity: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case agency = 0
    case principal
    case riskless
    case other
}

/// Whether the order is an intermarket sweep order. Stored and echoed; matching ignores it.
public enum IntermarketSweep: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case notEligible = 0
    case eligible
}

/// Which session the order is meant for. Stored and echoed; the continuous book trades
/// every order, whatever its cross type.
public enum CrossType: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// The continuous market.
    case continuous = 0
    case opening
    case closing
    case haltOrIPO
    case supplemental
    case retail
}

/// Whether the order is designated retail; `unspecified` leaves it to the account's
/// default. Carried on Enter Order only; neither stored nor echoed.
public enum CustomerType: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case unspecified = 0
    case retail
    case notRetail
}

/// Self-trade prevention between orders of the same firm; the incoming order's mode applies.
public enum SelfTradePrevention: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Cancel the rest of the incoming order; the resting order stays. The default.
    case cancelNewest
    /// Cancel the resting order and keep matching the incoming one.
    case cancelOldest
    /// Cancel both.
    case cancelBoth
    /// Reduce both by the smaller open size without a trade; whichever reaches zero is gone.
    case decrement
}
