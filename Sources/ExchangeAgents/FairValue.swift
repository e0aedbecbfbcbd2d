import ExchangeCore

/// The "true" price of each symbol that the agents trade around: a seeded random walk in
/// steps of `stepMilliseconds`, with occasional jumps and, when configured, a shock of one
/// symbol every `shockIntervalSeconds`, kept within `maxDriftPercent` of the
/// reference price (reflected at the bounds). The walk depends only on the seed and on how
/// many steps have passed, so two runs with one seed walk alike.
public struct FairValue: Sendable {
    public let parameters: AgentsConfiguration.FairValueParameters
    public let references: [Price]
    public let ticks: [Price]
    public private(set) var values: [Double]
    public private(set) var steps: UInt64 = 0
    /// Shocks so far (the next one moves symbol `shocks % count`).
    public private(set) var shocks: UInt64 = 0
    var generator: SeededGenerator

    public init(seed: UInt64, parameters: AgentsConfiguration.FairValueParameters, instruments: [InstrumentSpec]) {
        self.parameters = parameters
        references = instruments.map(\.referencePrice)
        ticks = instruments.map { max($0.tickSize, 1) }
        values = references.map(Double.init)
        generator = SeededGenerator(seed: seed, stream: 0xFA1E)
    }

    /// Walks to the step `elapsedNanoseconds` since the start comes to.
    public mutating func advance(toElapsed elapsedNanoseconds: UInt64) {
        let target = elapsedNanoseconds / (UInt64(parameters.stepMilliseconds) * 1_000_000)
        while steps < target { step() }
    }

    /// One step of every symbol's walk.
    public mutating func step() {
        steps += 1
        for i in values.indices {
            var move = generator.normal() * parameters.volatilityBasisPoints / 10_000
            if generator.unit() < parameters.jumpProbability {
                move += (generator.unit() < 0.5 ? -1 : 1) * parameters.jumpBasisPoints / 10_000
            }
            let reference = Double(references[i])
            let band = reference * parameters.maxDriftPercent / 100
            var v = values[i] * (1 + move)
            if v > reference + band { v = 2 * (reference + band) - v }
            if v < reference - band { v = 2 * (reference - band) - v }
            values[i] = min(max(v, reference - band), reference + band)
        }
        let interval = UInt64(parameters.shockIntervalSeconds) * 1_000 / UInt64(max(parameters.stepMilliseconds, 1))
        if interval > 0 && steps % interval == 0 && !values.isEmpty {
            shock(Int(shocks % UInt64(values.count)))
            shocks += 1
        }
    }

    /// Moves symbol `i` by `shockPercent` at once, toward the far side of its reference (down
    /// from above it, up from below), inside the drift window.
    mutating func shock(_ i: Int) {
        let reference = Double(references[i])
        let band = reference * parameters.maxDriftPercent / 100
        let move = parameters.shockPercent / 100
        let v = values[i] >= reference ? values[i] * (1 - move) : values[i] * (1 + move)
        values[i] = min(max(v, reference - band), reference + band)
    }

    /// The fair value of symbol `i` on its tick grid.
    public func price(_ i: Int) -> Price {
        let tick = Double(ticks[i])
        return Price(max(1, (values[i] / tick).rounded()) * tick)
    }
}
