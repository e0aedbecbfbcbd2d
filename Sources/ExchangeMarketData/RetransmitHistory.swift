import ExchangeWire

/// The last `capacity` published messages, for the re-request server: a byte ring holding
/// each message as its MoldUDP64 block (u16 length, then the message), and an index from
/// sequence number to the block's position. Both are allocated once.
///
/// The byte ring holds `capacity × 48` bytes rounded up to a power of two, and every block
/// is at most 52 bytes (`ITCH.Length.maximum` + 2), so the last `capacity` blocks are never
/// overwritten while the index still points at them. Consecutive sequence numbers are
/// consecutive in the ring, so a range goes out with at most two copies (one at the wrap).
public struct RetransmitHistory: ~Copyable, @unchecked Sendable {
    /// Messages kept (a power of two).
    public let capacity: Int
    @usableFromInline let positions: UnsafeMutablePointer<UInt64>
    @usableFromInline let ring: UnsafeMutableRawPointer
    @usableFromInline let ringMask: UInt64
    /// Absolute byte position of the next block.
    @usableFromInline var writePosition: UInt64 = 0
    /// Sequence number the next appended message gets.
    public var nextSequence: UInt64 { storedNext }
    @usableFromInline var storedNext: UInt64
    /// The sequence number of the first message appended: nothing before it was ever kept
    /// here (a feed that continues its session after a restart starts past 1).
    public let firstSequence: UInt64

    public static let maximumBlock = ITCH.Length.maximum + MoldUDP64.blockHeaderLength

    /// The block ring for `capacity` messages: a power of two, at least 48 bytes a message.
    static func ringBytes(capacity: Int) -> Int {
        var ringBytes = 64
        while ringBytes < capacity * 48 { ringBytes <<= 1 }
        return ringBytes
    }

    /// What a history of `capacity` messages allocates: the block ring and a position per message.
    public static func requiredBytes(capacity: Int) -> Int {
        ringBytes(capacity: capacity) + capacity * MemoryLayout<UInt64>.stride
    }

    /// Keeps `capacity` messages (a power of two); the first appended is `firstSequence` (≥ 1).
    public init(capacity: Int, firstSequence: UInt64 = 1) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "history capacity must be a power of two")
        precondition(firstSequence >= 1 && firstSequence < UInt64.max / 2, "the first sequence number must be at least 1")
        self.capacity = capacity
        let ringBytes = Self.ringBytes(capacity: capacity)
        positions = .filled(capacity, with: 0)
        ring = .allocate(byteCount: ringBytes, alignment: 64)
        ring.initializeMemory(as: UInt8.self, repeating: 0, count: ringBytes)
        ringMask = UInt64(ringBytes - 1)
        storedNext = firstSequence
        self.firstSequence = firstSequence
    }

    deinit {
        positions.deallocate()
        ring.deallocate()
    }

    /// The oldest sequence number still kept (`nextSequence` when nothing is).
    @inlinable public var oldestSequence: UInt64 { max(firstSequence, nextSequence &- min(nextSequence, UInt64(capacity))) }

    /// Whether `sequence` can be resent.
    @inlinable public func contains(_ sequence: UInt64) -> Bool { sequence >= oldestSequence && sequence < nextSequence }

    /// Keeps `message` (at most `ITCH.Length.maximum` bytes) as sequence `nextSequence`.
    @inlinable
    public mutating func append(_ message: UnsafeRawPointer, length: Int) {
        positions[Int(truncatingIfNeeded: nextSequence & UInt64(capacity &- 1))] = writePosition
        var header = UInt16(truncatingIfNeeded: length).bigEndian
        withUnsafeBytes(of: &header) { put($0.baseAddress!, count: 2) }
        put(message, count: length)
        storedNext &+= 1
    }

    /// Keeps a MoldUDP64 block already laid out — u16 length, then the message — as sequence
    /// `nextSequence`, in one copy (the publisher hands over the block it wrote in its packet).
    @inlinable
    public mutating func appendBlock(_ block: UnsafeRawPointer) {
        let length = Int(UInt16(bigEndian: block.loadUnaligned(as: UInt16.self)))
        positions[Int(truncatingIfNeeded: nextSequence & UInt64(capacity &- 1))] = writePosition
        put(block, count: MoldUDP64.blockHeaderLength &+ length)
        storedNext &+= 1
    }

    @inlinable
    mutating func put(_ source: UnsafeRawPointer, count: Int) {
        let offset = Int(truncatingIfNeeded: writePosition & ringMask)
        let first = min(count, Int(ringMask) &+ 1 &- offset)
        (ring + offset).copyMemory(from: source, byteCount: first)
        if first < count { ring.copyMemory(from: source + first, byteCount: count &- first) }
        writePosition &+= UInt64(count)
    }

    @inlinable
    func position(of sequence: UInt64) -> UInt64 {
        sequence == nextSequence ? writePosition : positions[Int(truncatingIfNeeded: sequence & UInt64(capacity &- 1))]
    }

    /// Copies the blocks of messages `sequence`, `sequence + 1`, … — at most `maxCount` of
    /// them and at most `maxBytes` bytes, stopping at the newest — to `out`, exactly as they
    /// go into a MoldUDP64 packet. Returns how many messages and bytes; (0, 0) when
    /// `sequence` is not kept.
    @inlinable
    public func copyBlocks(from sequence: UInt64, maxCount: Int, maxBytes: Int, to out: UnsafeMutableRawPointer) -> (count: Int, bytes: Int) {
        guard contains(sequence), maxCount > 0 else { return (0, 0) }
        let start = position(of: sequence)
        var end = sequence
        let limit = min(nextSequence, sequence &+ UInt64(maxCount))
        while end < limit && position(of: end &+ 1) &- start <= UInt64(maxBytes) { end &+= 1 }
        let bytes = Int(truncatingIfNeeded: position(of: end) &- start)
        let offset = Int(truncatingIfNeeded: start & ringMask)
        let first = min(bytes, Int(ringMask) &+ 1 &- offset)
        out.copyMemory(from: ring + offset, byteCount: first)
        if first < bytes { (out + first).copyMemory(from: ring, byteCount: bytes &- first) }
        return (Int(truncatingIfNeeded: end &- sequence), bytes)
    }
}
