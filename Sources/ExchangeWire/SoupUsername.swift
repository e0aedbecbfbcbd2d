// SoupBinTCP Login Request `Username`: 6 alpha characters.

/// A 6-byte alpha username, packed big-endian into the low 48 bits of `rawValue`.
/// Compared byte for byte (no case folding).
public struct SoupUsername: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Packs up to 6 printable ASCII characters, space padded; nil otherwise.
    public init?(_ text: String) {
        guard let bytes = FixedAlpha.pack(text, width: 6) else { return nil }
        self.init(rawValue: FixedAlpha.uint64(bytes, from: 0, count: 6))
    }

    @inlinable public static var width: Int { 6 }

    @inlinable
    public static func read(_ base: UnsafeRawPointer, at offset: Int) -> SoupUsername {
        let high = UInt64(BigEndian.readUInt32(base, at: offset))
        let low = UInt64(BigEndian.readUInt16(base, at: offset + 4))
        return SoupUsername(rawValue: high << 16 | low)
    }

    @inlinable
    public func write(to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(UInt32(truncatingIfNeeded: rawValue >> 16), to: base, at: offset)
        BigEndian.write(UInt16(truncatingIfNeeded: rawValue), to: base, at: offset + 4)
    }

    public var description: String { FixedAlpha.text(high: rawValue, highWidth: 6, low: 0, lowWidth: 0) }
}
