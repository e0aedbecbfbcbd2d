import ExchangeCore

/// What the replay takes from one ITCH 5.0 message: the order flow (add, execute, cancel,
/// delete, replace) with the fields it needs; every other type is `ignored`.
public enum ReplayEvent: Equatable, Sendable {
    case add(reference: OrderReference, side: Side, shares: Shares, stock: Symbol, price: Price)
    /// `E` or `C`: shares of a resting order executed.
    case executed(reference: OrderReference, shares: Shares)
    /// `X`: shares canceled (the order stays with the rest).
    case canceled(reference: OrderReference, shares: Shares)
    case deleted(reference: OrderReference)
    case replaced(original: OrderReference, new: OrderReference, shares: Shares, price: Price)
    /// Any other type (S, R, H, Y, L, V, W, K, J, h, P, Q, B, I, N, O): nothing to replay.
    case ignored(type: UInt8)

    /// Decodes a message `ITCHFileReader` has already checked (type known, length right).
    @inline(__always)
    public static func decode(_ m: UnsafeRawBufferPointer) -> ReplayEvent {
        switch m[0] {
        case UInt8(ascii: "A"), UInt8(ascii: "F"):
            return .add(reference: u64(m, 11), side: m[19] == UInt8(ascii: "B") ? .buy : .sell, shares: u32(m, 20),
                        stock: Symbol(rawValue: u64(m, 24)), price: u32(m, 32))
        case UInt8(ascii: "E"), UInt8(ascii: "C"): return .executed(reference: u64(m, 11), shares: u32(m, 19))
        case UInt8(ascii: "X"): return .canceled(reference: u64(m, 11), shares: u32(m, 19))
        case UInt8(ascii: "D"): return .deleted(reference: u64(m, 11))
        case UInt8(ascii: "U"): return .replaced(original: u64(m, 11), new: u64(m, 19), shares: u32(m, 27), price: u32(m, 31))
        default: return .ignored(type: m[0])
        }
    }

    /// Nanoseconds since midnight (the 6-byte timestamp at offset 5).
    @inline(__always)
    public static func timestamp(_ m: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(u16(m, 5)) << 32 | UInt64(u32(m, 7))
    }

    /// The stock locate (offset 1).
    @inline(__always)
    public static func locate(_ m: UnsafeRawBufferPointer) -> UInt16 { u16(m, 1) }

    @inline(__always) static func u16(_ m: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(bigEndian: m.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }
    @inline(__always) static func u32(_ m: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(bigEndian: m.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inline(__always) static func u64(_ m: UnsafeRawBufferPointer, _ o: Int) -> UInt64 {
        UInt64(bigEndian: m.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
}
