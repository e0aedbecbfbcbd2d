import ExchangeWire

/// One account's outbound SoupBinTCP stream: every Sequenced Data packet it was sent, as
/// the bytes that went (or will go) on the wire, numbered from 1.
///
/// The log is the connection's send queue and its replay history at once. A connection
/// sends straight out of it from its own offset; a client that logs in again asking for
/// sequence number N is served from N's offset. Nothing is copied twice.
///
/// ```
/// bytes (power-of-two ring of byteCapacity) ... [ packet s ][ packet s+1 ] ... writeOffset
/// index (power-of-two ring of messageCapacity): sequence → absolute byte offset of its packet
/// ```
/// Offsets are absolute (they only grow); `& byteMask` finds the byte. The byte ring holds
/// at least `messageCapacity` of the largest packets, so the index is what bounds replay:
/// the last `messageCapacity` messages are always there. Memory comes from the caller
/// (a start-up region) and lives as long as the gateway.
public struct SessionLog {
    /// The largest packet a log holds: SoupBinTCP header + the longest OUCH message (Replaced).
    public static let maximumPacketBytes = SoupBinTCP.headerLength + OUCH.maximumOutboundLength

    public let bytes: UnsafeMutableRawPointer
    public let byteCapacity: Int
    let byteMask: UInt64
    let index: UnsafeMutablePointer<UInt64>
    public let messageCapacity: Int
    let indexMask: UInt64
    /// The sequence number the next packet gets (the first is 1).
    public private(set) var nextSequence: UInt64 = 1
    /// Absolute offset where the next packet goes.
    public private(set) var writeOffset: UInt64 = 0
    /// The first sequence number this log ever held: 1, or where `restart(at:)` set it (a day
    /// restored from a snapshot; older messages are not in memory).
    public private(set) var firstSequence: UInt64 = 1

    /// Bytes of memory a log of `messages` messages needs (`messages` a power of two).
    public static func requiredBytes(messages: Int) -> Int {
        byteCapacity(messages: messages) + messages * MemoryLayout<UInt64>.stride
    }

    static func byteCapacity(messages: Int) -> Int {
        var capacity = 4_096
        while capacity < messages * maximumPacketBytes { capacity <<= 1 }
        return capacity
    }

    /// - Parameter memory: `requiredBytes(messages:)` bytes, 8-byte aligned.
    public init(messages: Int, memory: UnsafeMutableRawPointer) {
        precondition(messages > 0 && messages & (messages - 1) == 0, "session history must be a power of two")
        byteCapacity = Self.byteCapacity(messages: messages)
        byteMask = UInt64(byteCapacity - 1)
        bytes = memory
        index = (memory + byteCapacity).bindMemory(to: UInt64.self, capacity: messages)
        index.initialize(repeating: 0, count: messages)
        messageCapacity = messages
        indexMask = UInt64(messages - 1)
    }

    /// Appends one whole packet (`count` bytes at `packet`, at most `maximumPacketBytes`).
    public mutating func append(_ packet: UnsafeRawPointer, count: Int) {
        index[Int(truncatingIfNeeded: (nextSequence &- 1) & indexMask)] = writeOffset
        let start = Int(truncatingIfNeeded: writeOffset & byteMask)
        let first = min(count, byteCapacity &- start)
        (bytes + start).copyMemory(from: packet, byteCount: first)
        if first < count { bytes.copyMemory(from: packet + first, byteCount: count &- first) }
        writeOffset &+= UInt64(count)
        nextSequence &+= 1
    }

    /// The oldest sequence number still held.
    public var oldestSequence: UInt64 {
        max(firstSequence, nextSequence > UInt64(messageCapacity) ? nextSequence &- UInt64(messageCapacity) : 1)
    }

    /// Makes an empty log number its next packet `sequence` (≥ 1), holding nothing older: the
    /// session of a day restored from a snapshot continues where it was.
    public mutating func restart(at sequence: UInt64) {
        precondition(writeOffset == 0 && nextSequence == 1, "restart only an empty log")
        precondition(sequence >= 1, "sequence numbers start at 1")
        nextSequence = sequence
        firstSequence = sequence
    }

    /// Where packet `sequence` starts, for `oldestSequence ... nextSequence` (the latter: the
    /// end, where the next one will go); nil outside.
    public func offset(ofSequence sequence: UInt64) -> UInt64? {
        guard sequence >= oldestSequence, sequence <= nextSequence else { return nil }
        if sequence == nextSequence { return writeOffset }
        return index[Int(truncatingIfNeeded: (sequence &- 1) & indexMask)]
    }

    /// The bytes from `offset` to the end of the log that are contiguous in memory (a send
    /// may need two pieces at the ring's wrap).
    public func contiguousBytes(from offset: UInt64, limit: Int) -> UnsafeRawBufferPointer {
        let start = Int(truncatingIfNeeded: offset & byteMask)
        let pending = Int(truncatingIfNeeded: writeOffset &- offset)
        return UnsafeRawBufferPointer(start: bytes + start, count: min(min(pending, byteCapacity &- start), limit))
    }
}
