// Order attributes as OUCH 4.2 spells them. Single-character fields keep their ASCII
// code as raw value so the wire codecs copy one byte.

/// OUCH `BuySell`: buy, sell, sell short, sell short exempt.
public enum Side: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case buy = 0x42              // B
    case sell = 0x53             // S
    case sellShort = 0x54        // T
    case sellShortExempt = 0x45  // E

    @inlinable public var bookSide: BookSide { self == .buy ? .bid : .ask }

    public var description: String { String(UnicodeScalar(rawValue)) }
}

/// The side of the book an order rests on.
public enum BookSide: UInt8, Sendable, BitwiseCopyable {
    case bid = 0
    case ask = 1

    @inlinable public var opposite: BookSide { self == .bid ? .ask : .bid }
}

/// Limit orders carry a price; market orders walk the book up to the price collar.
public enum OrderType: UInt8, Sendable, BitwiseCopyable {
    case limit = 0
    case market = 1
}

/// OUCH `Display`. The engine supports the five values below; any other value is
/// rejected with `RejectReason.invalidDisplay`.
public struct Display: RawRepresentable, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `Y`: displayed anonymously (ITCH Add Order `A`).
    public static let anonymous = Display(rawValue: 0x59)
    /// `A`: displayed with the firm attributed (ITCH Add Order with MPID `F`).
    public static let attributable = Display(rawValue: 0x41)
    /// `N`: rests and trades but never appears on the feed; executions print as ITCH `P`.
    public static let nonDisplayed = Display(rawValue: 0x4E)
    /// `P`: post-only, displayed anonymously. Never takes liquidity (see docs/MATCHING.md).
    public static let postOnly = Display(rawValue: 0x50)
    /// `L`: post-only and attributable.
    public static let postOnlyAttributable = Display(rawValue: 0x4C)

    @inlinable public var isSupported: Bool {
        self == .anonymous || self == .attributable || self == .nonDisplayed
            || self == .postOnly || self == .postOnlyAttributable
    }
    @inlinable public var isDisplayed: Bool { self != .nonDisplayed }
    @inlinable public var isAttributed: Bool { self == .attributable || self == .postOnlyAttributable }
    @inlinable public var isPostOnly: Bool { self == .postOnly || self == .postOnlyAttributable }

    public var description: String { String(UnicodeScalar(rawValue)) }
}

/// OUCH `TimeInForce`: 0 is immediate-or-cancel, 99998 and 99999 rest for the day,
/// 1...86400 are seconds to live. Anything else is rejected.
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

/// OUCH `OrderState` in Accepted and Replaced: whether the order can rest after entry.
public enum OrderState: UInt8, Sendable, BitwiseCopyable {
    case live = 0x4C  // L
    case dead = 0x44  // D
}

/// OUCH `LiquidityFlag` values the continuous book produces.
public enum LiquidityFlag: UInt8, Sendable, BitwiseCopyable {
    case added = 0x41               // A: displayed resting order
    case removed = 0x52             // R: the incoming order
    case addedNonDisplayed = 0x4A   // J: non-displayed resting order
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
