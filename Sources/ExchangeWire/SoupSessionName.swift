// SoupBinTCP `Session`: 10 alpha characters naming the server's sequenced stream (one per
// trading day). Blank in a Login Request means "the current session".

/// A 10-byte alpha session name, packed big-endian: characters 0–7 in `high`, 8–9 in `low`.
public struct SoupSessionName: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
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

    /// Ten spaces.
    @inlinable public static var blank: SoupSessionName { SoupSessionName(high: 0x2020_2020_2020_2020, low: 0x2020) }

    @inlinable public var isBlank: Bool { self == .blank }

    @inlinable public static var width: Int { 10 }

    @inlinable
    public static func read(_ base: UnsafeRawPointer, at offset: Int) -> SoupSessionName {
        SoupSessionName(high: BigEndian.readUInt64(base, at: offset), low: BigEndian.readUInt16(base, at: offset + 8))
    }

    @inlinable
    public func write(to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(high, to: base, at: offset)
        BigEndian.write(low, to: base, at: offset + 8)
    }

    public var description: String { FixedAlpha.text(high: high, highWidth: 8, low: UInt64(low), lowWidth: 2) }
}

/// String conversions for the fixed-width values of this module (configuration and
/// tests only; the wire paths never build a String).
enum FixedAlpha {
    static func pack(_ text: String, width: Int) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count <= width, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return bytes + [UInt8](repeating: 0x20, count: width - bytes.count)
    }

    static func uint64(_ bytes: [UInt8], from start: Int, count: Int = 8) -> UInt64 {
        var value: UInt64 = 0
        for i in start..<start + count { value = value << 8 | UInt64(bytes[i]) }
        return value
    }

    static func bytes(_ value: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64((width - 1 - $0) * 8)) }
    }

    static func text(high: UInt64, highWidth: Int, low: UInt64, lowWidth: Int) -> String {
        var all = bytes(high, width: highWidth) + bytes(low, width: lowWidth)
        while all.last == 0x20 { all.removeLast() }
        return String(decoding: all, as: UTF8.self)
    }
}
