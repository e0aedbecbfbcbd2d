// Limit-up/limit-down (docs/MATCHING.md §Limit up, limit down): price bands around each
// instrument's reference price, the limit state when the book sits at a band, and the
// trading pause that follows a limit state held too long. Modelled on Nasdaq's and the
// LULD plan's rules; time is only ever the command timestamps.

/// The LULD rules of the engine (configuration `luld`). Bands come from the reference price
/// in three price tiers, as the LULD plan's percentage parameters: at or above
/// `highTierPrice` the band is `highBasisPoints` of the reference, from `midTierPrice` below
/// that `midBasisPoints`, below `midTierPrice` `lowBasisPoints` but at most `lowMaximumBand`
/// (Nasdaq: $3.00 and above 5 %, $0.75–$3.00 20 %, below $0.75 the lesser of $0.15 and 75 %).
public struct LULDRules: Equatable, Sendable, BitwiseCopyable {
    public var highTierPrice: Price
    public var highBasisPoints: UInt32
    public var midTierPrice: Price
    public var midBasisPoints: UInt32
    public var lowBasisPoints: UInt32
    /// The widest band of the low tier, in price units; 0 for no cap.
    public var lowMaximumBand: Price
    /// How long a limit state lasts before the instrument pauses (Nasdaq: 15 s).
    public var limitStateNanoseconds: UInt64
    /// How long a pause lasts before the halt cross reopens the instrument (Nasdaq: 5 min).
    public var pauseNanoseconds: UInt64

    public init(highTierPrice: Price = 30_000, highBasisPoints: UInt32 = 500, midTierPrice: Price = 7_500,
                midBasisPoints: UInt32 = 2_000, lowBasisPoints: UInt32 = 7_500, lowMaximumBand: Price = 1_500,
                limitStateNanoseconds: UInt64 = 15_000_000_000, pauseNanoseconds: UInt64 = 300_000_000_000) {
        self.highTierPrice = highTierPrice
        self.highBasisPoints = highBasisPoints
        self.midTierPrice = midTierPrice
        self.midBasisPoints = midBasisPoints
        self.lowBasisPoints = lowBasisPoints
        self.lowMaximumBand = lowMaximumBand
        self.limitStateNanoseconds = limitStateNanoseconds
        self.pauseNanoseconds = pauseNanoseconds
    }

    /// Nasdaq's parameters (15 s limit state, 5 min pause).
    public static let nasdaq = LULDRules()

    /// Half-width of the band around `reference`, in price units (integer division).
    @inlinable public func bandWidth(reference: Price) -> UInt64 {
        let r = UInt64(reference)
        if reference >= highTierPrice { return r * UInt64(highBasisPoints) / 10_000 }
        if reference >= midTierPrice { return r * UInt64(midBasisPoints) / 10_000 }
        let width = r * UInt64(lowBasisPoints) / 10_000
        return lowMaximumBand == 0 ? width : min(width, UInt64(lowMaximumBand))
    }

    /// The band around `reference`, on the tick ladder and rounded inwards: `upper` is
    /// `reference + width` rounded down to a tick, `lower` is `reference − width` rounded up
    /// to a tick and at least one tick.
    @inlinable public func bands(reference: Price, tickSize: Price) -> (lower: Price, upper: Price) {
        let width = bandWidth(reference: reference)
        let tick = UInt64(tickSize)
        let r = UInt64(reference)
        let upper = min((r + width) / tick * tick, UInt64(Price.max) / tick * tick)
        let lower = width >= r ? tick : max(tick, (r - width + tick - 1) / tick * tick)
        return (Price(lower), Price(upper))
    }

    /// The auction collar of a pause that followed a limit state on `side` with bands
    /// `lower`…`upper`: the collar's reference is the band the book was held at; the collar
    /// is that band and the band beyond it by one more band width at the reference (Nasdaq
    /// 4120(c)(10)), on the tick ladder.
    @inlinable public func auctionCollar(side: LimitState, lower: Price, upper: Price, tickSize: Price)
        -> (reference: Price, lower: Price, upper: Price)
    {
        let tick = UInt64(tickSize)
        if side == .lower {
            let width = bandWidth(reference: lower)
            let l = UInt64(lower)
            let collarLower = width >= l ? tick : max(tick, (l - width + tick - 1) / tick * tick)
            return (lower, Price(collarLower), upper)
        }
        let width = bandWidth(reference: upper)
        let collarUpper = min((UInt64(upper) + width) / tick * tick, UInt64(Price.max) / tick * tick)
        return (upper, lower, Price(collarUpper))
    }

    /// The collar of an extended pause: the side the reopening price fell beyond widens by
    /// one more band width at its edge (upper rounded down, lower rounded up to a tick and at
    /// least one tick).
    @inlinable public func widenedCollar(lower: Price, upper: Price, upward: Bool, tickSize: Price) -> (lower: Price, upper: Price) {
        let tick = UInt64(tickSize)
        if upward {
            let width = bandWidth(reference: upper)
            return (lower, Price(min((UInt64(upper) + width) / tick * tick, UInt64(Price.max) / tick * tick)))
        }
        let width = bandWidth(reference: lower)
        let l = UInt64(lower)
        return (Price(width >= l ? tick : max(tick, (l - width + tick - 1) / tick * tick)), upper)
    }

    /// Problems with these rules, each stated in full.
    public func problems() -> [String] {
        var problems: [String] = []
        if highBasisPoints == 0 || highBasisPoints >= 10_000 || midBasisPoints == 0 || midBasisPoints >= 10_000
            || lowBasisPoints == 0 || lowBasisPoints >= 10_000
        {
            problems.append("luld: every tier's percentage must be above 0 and below 100")
        }
        if midTierPrice == 0 || midTierPrice >= highTierPrice {
            problems.append("luld: the mid tier's price must be above 0 and below the high tier's price")
        }
        if limitStateNanoseconds == 0 { problems.append("luld: the limit state must last at least 1 ms") }
        if pauseNanoseconds == 0 { problems.append("luld: the pause must last at least 1 ms") }
        return problems
    }
}

/// Where an instrument's book sits against its bands.
public enum LimitState: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Neither band is reached (or the instrument is not in continuous trading).
    case none = 0
    /// The best bid is at (or above) the upper band: limit up.
    case upper
    /// The best ask is at (or below) the lower band: limit down.
    case lower

    public var description: String {
        switch self {
        case .none: "none"
        case .upper: "upper"
        case .lower: "lower"
        }
    }
}

/// Why an instrument changed phase.
public enum PhaseReason: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// A phase command (the schedule or the operator).
    case command = 0
    /// A limit-up/limit-down trading pause began or ended (ITCH reason `LUDP`).
    case luldPause
}

/// An instrument entered or left a limit state. Feed-only: ITCH has no message for it.
public struct LimitStateChanged: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    /// The new state (`none`: the limit state ended).
    public var state: LimitState
    /// The bands it was measured against.
    public var lowerBand: Price
    public var upperBand: Price

    public init(timestamp: Timestamp, instrument: InstrumentIndex, state: LimitState, lowerBand: Price, upperBand: Price) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.state = state
        self.lowerBand = lowerBand
        self.upperBand = upperBand
    }
}

/// The collar of the reopening cross of an LULD pause (ITCH's LULD Auction Collar, `J`).
public struct AuctionCollar: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var referencePrice: Price
    public var upperPrice: Price
    public var lowerPrice: Price
    /// Extensions of the pause so far (0 when it starts).
    public var extensions: UInt32

    public init(timestamp: Timestamp, instrument: InstrumentIndex, referencePrice: Price, upperPrice: Price,
                lowerPrice: Price, extensions: UInt32) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.referencePrice = referencePrice
        self.upperPrice = upperPrice
        self.lowerPrice = lowerPrice
        self.extensions = extensions
    }
}
