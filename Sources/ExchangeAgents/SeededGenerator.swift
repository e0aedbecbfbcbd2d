import Glibc
import OrderFlow

/// The agents' draws: OrderFlow's SplitMix64 (whose whole state is one word, so a seed fixes
/// every number it draws, on every host), one stream per agent, with the distributions the
/// agents use.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var base: SplitMix64
    public var state: UInt64 { base.state }

    public init(seed: UInt64) { base = SplitMix64(seed: seed) }

    /// A generator for stream `stream` of `seed` (each agent and the fair value draw from their own).
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        base = SplitMix64(seed: mixer.next())
    }

    public mutating func next() -> UInt64 { base.next() }

    /// A uniform number in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(unit(), 0x1p-53)
        let v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
