/// Where an instrument's price ladder lies and where its collar band lies around the
/// reference price: the engine places the ladder (`EngineState`) and keeps the collar
/// (`InstrumentBook.updateCollar`) with these, and configuration validation checks with
/// them that the one covers the other.
extension InstrumentSpec {
    /// The ladder's first tick: `priceLevels / 2` ticks below the reference tick, or tick 0
    /// when the reference is closer to zero than that.
    public func ladderBaseTick(priceLevels: Int) -> UInt32 {
        let referenceTick = referencePrice / tickSize
        let half = UInt32(priceLevels / 2)
        return referenceTick > half ? referenceTick - half : 0
    }

    /// The ticks the ladder holds (prices are tick × tick size); others are `priceOutOfRange`.
    public func ladderTicks(priceLevels: Int) -> ClosedRange<UInt64> {
        let base = UInt64(ladderBaseTick(priceLevels: priceLevels))
        return base...(base + UInt64(priceLevels) - 1)
    }

    /// `band = reference × bp / 10 000`, `[reference − band, reference + band]` (docs/MATCHING.md),
    /// the upper bound capped at `Price.max`.
    @inlinable
    public static func collarBand(reference: Price, basisPoints: UInt32) -> (lower: Price, upper: Price) {
        let reference = UInt64(reference)
        let band = reference * UInt64(basisPoints) / 10_000
        return (Price(reference > band ? reference - band : 0), Price(min(reference + band, UInt64(Price.max))))
    }

    /// The ticks of the priced orders the collar admits on either side before the first
    /// trade (tick 0, price 0, is never a limit price); nil without a collar.
    public var collarTicks: ClosedRange<UInt64>? {
        guard collarBasisPoints > 0, tickSize > 0 else { return nil }
        let band = Self.collarBand(reference: referencePrice, basisPoints: collarBasisPoints)
        let tick = UInt64(tickSize)
        let lowest = max(1, (UInt64(band.lower) + tick - 1) / tick)
        let highest = UInt64(band.upper) / tick
        return lowest <= highest ? lowest...highest : nil
    }

    /// Whether every price the collar admits around the reference fits on a ladder of
    /// `priceLevels` levels, so that any order the collar lets through can rest.
    public func ladderCoversCollar(priceLevels: Int) -> Bool {
        guard let collar = collarTicks else { return true }
        let ladder = ladderTicks(priceLevels: priceLevels)
        return ladder.lowerBound <= collar.lowerBound && collar.upperBound <= ladder.upperBound
    }
}
