import ExchangeCore

// Fixed-width, left-justified, space-padded alpha fields. ExchangeCore packs them into
// integers big-endian (first character most significant), so reading one is a big-endian
// load of the same width and writing one is a big-endian store: no per-character loop.
// Bytes pass through unchanged: validating them (a known symbol, a printable token) is the
// engine's or the gateway's business.

public enum AlphaField {
    /// OUCH/ITCH `Stock`, 8 bytes.
    @inlinable @inline(__always)
    public static func readSymbol(_ base: UnsafeRawPointer, at offset: Int) -> Symbol {
        Symbol(rawValue: BigEndian.readUInt64(base, at: offset))
    }

    @inlinable @inline(__always)
    public static func write(_ symbol: Symbol, to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(symbol.rawValue, to: base, at: offset)
    }

    /// OUCH `Firm`, 4 bytes.
    @inlinable @inline(__always)
    public static func readFirm(_ base: UnsafeRawPointer, at offset: Int) -> Firm {
        Firm(rawValue: BigEndian.readUInt32(base, at: offset))
    }

    @inlinable @inline(__always)
    public static func write(_ firm: Firm, to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(firm.rawValue, to: base, at: offset)
    }

    /// OUCH `OrderToken`, 14 bytes: 8 into `high`, then 4 + 2 into the top six bytes of
    /// `low`. Never touches the two bytes after the field (a token can end a message).
    @inlinable @inline(__always)
    public static func readToken(_ base: UnsafeRawPointer, at offset: Int) -> OrderToken {
        let high = BigEndian.readUInt64(base, at: offset)
        let middle = UInt64(BigEndian.readUInt32(base, at: offset + 8))
        let tail = UInt64(BigEndian.readUInt16(base, at: offset + 12))
        return OrderToken(high: high, low: middle << 32 | tail << 16)
    }

    @inlinable @inline(__always)
    public static func write(_ token: OrderToken, to base: UnsafeMutableRawPointer, at offset: Int) {
        BigEndian.write(token.high, to: base, at: offset)
        BigEndian.write(UInt32(truncatingIfNeeded: token.low >> 32), to: base, at: offset + 8)
        BigEndian.write(UInt16(truncatingIfNeeded: token.low >> 16), to: base, at: offset + 12)
    }

}
