// Fixed-width, left-justified, space-padded text fields (as the wire protocols carry them), packed into
// integers so that comparing and hashing them costs one or two instructions.
// Bytes are packed big-endian: the first character is the most significant byte, so
// integer order is lexicographic order.

@usableFromInline let asciiSpace: UInt8 = 0x20

/// An 8-character stock symbol.
public struct Symbol: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Packs up to 8 ASCII characters; returns nil for longer or non-printable text.
    public init?(_ text: String) {
        guard let packed = packAlpha(text, width: 8) else { return nil }
        rawValue = packed
    }

    public static func < (a: Symbol, b: Symbol) -> Bool { a.rawValue < b.rawValue }

    public var description: String { unpackAlpha(rawValue, width: 8) }
}

/// A 4-character firm identifier: self-trade prevention groups orders by it, and an
/// attributable order shows it on the feed.
public struct Firm: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init?(_ text: String) {
        guard let packed = packAlpha(text, width: 4) else { return nil }
        rawValue = UInt32(packed)
    }

    /// Four spaces: no firm given (the order-entry session uses the account's default).
    public static let blank = Firm(rawValue: 0x2020_2020)

    public var description: String { unpackAlpha(UInt64(rawValue), width: 4) }
}

/// A 14-character client order token, day-unique per account.
/// Characters 0–7 are in `high`; characters 8–13 in the top six bytes of `low`, whose
/// last two bytes are always zero.
public struct OrderToken: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    @inlinable public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low & ~0xFFFF
    }

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count <= 14, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        var padded = [UInt8](repeating: asciiSpace, count: 16)
        padded.replaceSubrange(0..<bytes.count, with: bytes)
        padded[14] = 0
        padded[15] = 0
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(padded[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(padded[i]) }
        self.init(high: high, low: low)
    }

    /// A token made from a number, right-aligned in 14 digits (handy for generators).
    @inlinable public init(number: UInt64) { self.init(prefix: 0, prefixLength: 0, number: number) }

    /// A token of `prefixLength` (0…8) characters already placed in the top bytes of
    /// `prefix`, then `number` right-aligned and zero-padded in the characters left (higher
    /// digits dropped): `OrderToken(prefix: "K3ZQ" << 32, prefixLength: 4, number: 42)` is
    /// `K3ZQ0000000042`. Allocates nothing.
    @inlinable public init(prefix: UInt64, prefixLength: Int, number: UInt64) {
        var n = number
        var low: UInt64 = 0
        for shift in stride(from: 16, through: 56, by: 8) {  // characters 13 down to 8
            low |= (0x30 &+ n % 10) << UInt64(shift)
            n /= 10
        }
        var high = prefix
        var shift = 0
        while shift < 8 * (8 - prefixLength) {  // characters 7 down to prefixLength
            high |= (0x30 &+ n % 10) << UInt64(shift)
            n /= 10
            shift += 8
        }
        self.init(high: high, low: low)
    }

    public var description: String {
        unpackAlpha(high, width: 8) + unpackAlpha(low >> 16, width: 6)
    }
}

/// Packs `text` as `width` space-padded bytes, big-endian. Nil if too long or not printable ASCII.
func packAlpha(_ text: String, width: Int) -> UInt64? {
    let bytes = Array(text.utf8)
    guard bytes.count <= width, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
    var packed: UInt64 = 0
    for i in 0..<width {
        packed = packed << 8 | UInt64(i < bytes.count ? bytes[i] : asciiSpace)
    }
    return packed
}

/// The text of a packed alpha field with trailing spaces removed.
func unpackAlpha(_ packed: UInt64, width: Int) -> String {
    var bytes: [UInt8] = []
    for i in (0..<width).reversed() {
        bytes.append(UInt8(truncatingIfNeeded: packed >> UInt64(i * 8)))
    }
    while let last = bytes.last, last == asciiSpace { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
}
