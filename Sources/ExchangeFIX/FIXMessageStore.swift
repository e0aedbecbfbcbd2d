// Where a session keeps the application messages it sent, to answer ResendRequest. An
// interface so that the gateway can back it with its own logs and, after a restart, with
// the journal; `FIXMessageRing` is the in-memory one (fixed slots in caller memory, like the
// SoupBinTCP SessionLog): the newest `slotCount` messages, each body at most `slotSize` bytes.

/// One stored application message: what a resend needs to write it again.
public struct FIXStoredMessage {
    public var msgType: FIXMsgType
    /// Its original SendingTime (nanoseconds since the epoch), sent again as OrigSendingTime (122).
    public var sendingTime: UInt64
    /// The fields after the standard header, before the trailer (`tag=value␁…`).
    public var body: UnsafeRawBufferPointer

    @inlinable
    public init(msgType: FIXMsgType, sendingTime: UInt64, body: UnsafeRawBufferPointer) {
        self.msgType = msgType
        self.sendingTime = sendingTime
        self.body = body
    }
}

public protocol FIXMessageStore: ~Copyable {
    /// Keeps the application message sent as `sequence`. False when it cannot (too long):
    /// a resend of it is then a gap fill, and the caller should count it.
    mutating func record(sequence: UInt64, msgType: FIXMsgType, sendingTime: UInt64, body: UnsafeRawBufferPointer) -> Bool
    /// The message sent as `sequence`, if still kept; valid until the next `record` or `reset`.
    func message(sequence: UInt64) -> FIXStoredMessage?
    /// Forgets everything (a sequence reset).
    mutating func reset()
}

/// A ring of `slotCount` slots of `slotSize` body bytes, in memory the caller owns.
public struct FIXMessageRing: ~Copyable, FIXMessageStore {
    /// Per slot: sequence u64, sending time u64, msgType u16, length u16, pad u32 — then the body.
    @usableFromInline static let slotHeader = 24
    @usableFromInline let memory: UnsafeMutableRawPointer
    public let slotCount: Int
    public let slotSize: Int
    @usableFromInline let stride: Int

    /// The bytes `slotCount` slots of `slotSize` body bytes need.
    public static func byteCount(slotCount: Int, slotSize: Int) -> Int {
        slotCount * ((slotSize + slotHeader + 7) & ~7)
    }

    /// Uses `memory` (at least `byteCount(slotCount:slotSize:)` bytes, 8-byte aligned), which
    /// must outlive the ring.
    public init(memory: UnsafeMutableRawPointer, slotCount: Int, slotSize: Int) {
        precondition(slotCount > 0 && slotSize > 0 && slotSize <= Int(UInt16.max))
        self.memory = memory
        self.slotCount = slotCount
        self.slotSize = slotSize
        stride = (slotSize + Self.slotHeader + 7) & ~7
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: slotCount * stride)
    }

    @inlinable
    public mutating func record(sequence: UInt64, msgType: FIXMsgType, sendingTime: UInt64, body: UnsafeRawBufferPointer) -> Bool {
        let slot = memory + Int(sequence % UInt64(slotCount)) * stride
        guard body.count <= slotSize else {
            slot.storeBytes(of: 0, as: UInt64.self)  // an older message in this slot is gone either way
            return false
        }
        slot.storeBytes(of: sequence, as: UInt64.self)
        slot.storeBytes(of: sendingTime, toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: msgType.rawValue, toByteOffset: 16, as: UInt16.self)
        slot.storeBytes(of: UInt16(body.count), toByteOffset: 18, as: UInt16.self)
        if let b = body.baseAddress, body.count > 0 { (slot + Self.slotHeader).copyMemory(from: b, byteCount: body.count) }
        return true
    }

    @inlinable
    public func message(sequence: UInt64) -> FIXStoredMessage? {
        guard sequence > 0 else { return nil }
        let slot = memory + Int(sequence % UInt64(slotCount)) * stride
        guard slot.load(as: UInt64.self) == sequence else { return nil }
        return FIXStoredMessage(
            msgType: FIXMsgType(rawValue: slot.load(fromByteOffset: 16, as: UInt16.self)),
            sendingTime: slot.load(fromByteOffset: 8, as: UInt64.self),
            body: UnsafeRawBufferPointer(start: slot + Self.slotHeader, count: Int(slot.load(fromByteOffset: 18, as: UInt16.self))))
    }

    public mutating func reset() {
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: slotCount * stride)
    }
}

extension FIXMessageRing {
    /// Moves every kept message numbered `from` or later up by `by` (replay only: it allocates).
    /// Replay regenerates a session's ExecutionReports in the engine's order and learns of a
    /// session message sent among them only from a later journal record; the reports it
    /// already numbered past that message move up to make room, as they went out live.
    public mutating func shift(from: UInt64, through last: UInt64, by: UInt64) {
        guard by > 0, from >= 1, last >= from else { return }
        var moved: [(sequence: UInt64, msgType: FIXMsgType, sendingTime: UInt64, body: [UInt8])] = []
        var sequence = from
        while sequence <= last {
            if let m = message(sequence: sequence) {
                moved.append((sequence, m.msgType, m.sendingTime, Array(m.body)))
                (memory + Int(sequence % UInt64(slotCount)) * stride).storeBytes(of: 0, as: UInt64.self)
            }
            sequence &+= 1
        }
        for m in moved {
            _ = m.body.withUnsafeBytes { record(sequence: m.sequence &+ by, msgType: m.msgType, sendingTime: m.sendingTime, body: $0) }
        }
    }
}
