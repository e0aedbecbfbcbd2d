// Big-endian integers at byte offsets of caller-provided raw memory. Every wire field is
// unsigned big-endian; none is aligned, so every access is an unaligned load or store.
// The caller guarantees the bytes exist (the codecs check a message's length once, up
// front); nothing here checks bounds.

public enum BigEndian {
    @inlinable @inline(__always)
    public static func readUInt16(_ base: UnsafeRawPointer, at offset: Int) -> UInt16 {
        UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable @inline(__always)
    public static func readUInt32(_ base: UnsafeRawPointer, at offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable @inline(__always)
    public static func readUInt64(_ base: UnsafeRawPointer, at offset: Int) -> UInt64 {
        UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable @inline(__always)
    public static func readUInt8(_ base: UnsafeRawPointer, at offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public static func write(_ value: UInt16, to base: UnsafeMutableRawPointer, at offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inlinable @inline(__always)
    public static func write(_ value: UInt32, to base: UnsafeMutableRawPointer, at offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inlinable @inline(__always)
    public static func write(_ value: UInt64, to base: UnsafeMutableRawPointer, at offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public static func write(_ value: UInt8, to base: UnsafeMutableRawPointer, at offset: Int) {
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }
}
