/// Reads a snapshot's little-endian fields from bytes that may be anything: every read is
/// bounds-checked and a short read is an error naming the field and the offset, never a
/// crash. The restore code validates every value it reads before using it as an index.
public struct SnapshotDecoder {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    @inline(__always)
    private mutating func take(_ n: Int, _ what: StaticString) throws(EngineSnapshotError) -> Int {
        guard n <= bytes.count - offset else { throw .truncated(what: "\(what)", offset: offset) }
        let at = offset
        offset += n
        return at
    }

    public mutating func u8(_ what: StaticString) throws(EngineSnapshotError) -> UInt8 {
        bytes.load(fromByteOffset: try take(1, what), as: UInt8.self)
    }

    public mutating func u16(_ what: StaticString) throws(EngineSnapshotError) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(2, what), as: UInt16.self))
    }

    public mutating func u32(_ what: StaticString) throws(EngineSnapshotError) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4, what), as: UInt32.self))
    }

    public mutating func u64(_ what: StaticString) throws(EngineSnapshotError) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8, what), as: UInt64.self))
    }

    /// A byte that must be 0 or 1.
    public mutating func bool(_ what: StaticString) throws(EngineSnapshotError) -> Bool {
        let at = offset
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let v: throw .damaged("\(what) at offset \(at) is \(v), not 0 or 1")
        }
    }

    /// A one-byte enum value, refused when it names no case.
    public mutating func enumeration<E: RawRepresentable>(_ type: E.Type, _ what: StaticString) throws(EngineSnapshotError) -> E
    where E.RawValue == UInt8 {
        let at = offset
        let raw = try u8(what)
        guard let value = E(rawValue: raw) else { throw .damaged("\(what) at offset \(at) is \(raw), which names no \(E.self)") }
        return value
    }

    /// A count that must be at most `limit` (so that no damaged count drives a long loop or
    /// an allocation).
    public mutating func count(_ what: StaticString, atMost limit: Int) throws(EngineSnapshotError) -> Int {
        let at = offset
        let n = try u32(what)
        guard Int(n) <= limit else { throw .damaged("\(what) at offset \(at) is \(n), more than the \(limit) possible") }
        return Int(n)
    }

    /// The end: nothing may follow.
    public func expectEnd() throws(EngineSnapshotError) {
        guard remaining == 0 else { throw .damaged("\(remaining) unexpected bytes after the end at offset \(offset)") }
    }
}
