// SoupBinTCP Login Request `Password`: 10 alpha characters. A secret: it is deliberately
// not Equatable (whose `==` may return at the first differing byte) and never printed.

/// A 10-byte alpha password, packed big-endian: characters 0–7 in `high`, 8–9 in `low`.
public struct SoupPassword: Sendable, BitwiseCopyable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt16

    @inlinable public init(high: UInt64, low: UInt16) {
        self.high = high
        self.low = low
    }

    /// Packs up to 10 printable ASCII characters, space padded; nil otherwise.
    public init?(_ text: String) {
        guard let bytes = FixedAlpha.pack(text, width: 10) else { return nil }
        self.init(high: FixedAlpha.uint64(bytes, from: 0), low: UInt16(truncatingIfNeeded: FixedAlpha.uint64(bytes, from: 8, count: 2)))
    }

    @inlinable public static var width: Int { 10 }

    /// Compares all ten bytes whatever they hold: the time taken does not depend on where
    /// (or whether) the two differ. One XOR per word, OR-ed together, one final test.
    @inline(never)
    public func constantTimeEquals(_ other: SoupPassword) -> Bool {
        let difference = (high ^ other.high) | UInt64(low ^ other.low)
        return difference == 0
    }

    @inlinable
    public static func read(_ base: UnsafeRawPointer, at offset: Int) -> SoupPassword {
        SoupPassword(high: BigEndian.readUInt64(base, at: offset), low: BigEndian.readUInt16(base, at: offset + 8))
    }

    @inlinable
    public func write(to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(high, to: base, at: offset)
        BigEndian.write(low, to: base, at: offset + 8)
    }

    /// Never the password itself.
    public var description: String { "**********" }
}
