import ExchangeEngine
import ExchangeJournal

/// The replication link's framing (docs/FAILOVER.md, "Replication"). Every frame is
///
/// ```
/// offset size field
///  0     4    length   bytes after this field (the type and the payload), little-endian
///  4     1    type     ReplicationFrame.Kind
///  5     …    payload  per kind, little-endian
/// ```
///
/// - `hello` (standby → primary, first): magic "RTESREPL", version u16, 6 reserved bytes,
///   the last sequence the standby holds u64 (0: none), the trading day (16 bytes, ASCII,
///   zero-padded), the highest fencing token its journal holds i64 (0: none; version 2).
/// - `welcome` (primary → standby, answer to a good hello): version u16, 6 reserved, the
///   primary's durable sequence u64, the trading day (16 bytes), the primary's fencing token
///   (its epoch) i64 (version 2).
/// - `records` (primary → standby): the first record's sequence u64, the record count u32,
///   4 reserved, then the records exactly as the journal's segments hold them
///   (`JournalRecord`, CRC-32C each).
/// - `acknowledge` (standby → primary): the last sequence received (checked, in memory) u64
///   and the last durable on the standby's disk u64.
/// - `heartbeat` (either way, while nothing else flows): the sender's durable sequence u64.
/// - `refuse` (either way, last): a reason in UTF-8 (at most `maximumReasonBytes`); the sender
///   closes the connection after it.
///
/// A frame longer than `maximumBodyBytes`, of an unknown type, or whose payload does not have
/// its type's size, is a protocol error: the receiver refuses the connection naming it.
public enum ReplicationFrame {
    public static let magic: [UInt8] = Array("RTESREPL".utf8)
    /// 2: hello and welcome carry the fencing token (the epoch).
    public static let version: UInt16 = 2
    public static let lengthBytes = 4
    public static let dayBytes = 16
    public static let maximumReasonBytes = 512
    /// The start of a refusal's reason when the standby's journal diverged from the primary's
    /// (it holds records the primary lacks): a standby with `replication.on_divergence`
    /// move_aside moves its journal aside on it; with refuse it stops.
    public static let divergedPrefix = "diverged: "
    /// The records one `records` frame carries at most (bytes), so a frame fits any buffer.
    public static let maximumRecordBytes = 60 << 10
    public static let recordsHeaderBytes = 16
    /// The longest body (type + payload) a receiver accepts.
    public static let maximumBodyBytes = 1 + recordsHeaderBytes + maximumRecordBytes
    /// The longest frame, length field included.
    public static let maximumFrameBytes = lengthBytes + maximumBodyBytes

    public enum Kind: UInt8, Sendable, CustomStringConvertible {
        case hello = 0x48  // H
        case welcome = 0x57  // W
        case records = 0x44  // D
        case acknowledge = 0x41  // A
        case heartbeat = 0x42  // B
        case refuse = 0x52  // R

        /// The payload's size (nil: variable, checked per kind).
        var payloadBytes: Int? {
            switch self {
            case .hello: 8 + 8 + 8 + ReplicationFrame.dayBytes + 8
            case .welcome: 8 + 8 + ReplicationFrame.dayBytes + 8
            case .acknowledge: 16
            case .heartbeat: 8
            case .records, .refuse: nil
            }
        }

        public var description: String {
            switch self {
            case .hello: "hello"
            case .welcome: "welcome"
            case .records: "records"
            case .acknowledge: "acknowledge"
            case .heartbeat: "heartbeat"
            case .refuse: "refuse"
            }
        }
    }

    /// A frame as read: its kind and payload (pointing into the receiver's buffer).
    public struct Frame {
        public var kind: Kind
        public var payload: UnsafeRawBufferPointer
    }

    public struct Hello: Equatable, Sendable {
        public var version: UInt16
        public var lastSequence: UInt64
        public var day: String
        /// The highest fencing token the standby's journal holds (0: none).
        public var epoch: Int64 = 0
    }

    public struct Welcome: Equatable, Sendable {
        public var version: UInt16
        public var durableSequence: UInt64
        public var day: String
        /// The primary's fencing token: its term's (0: it does not campaign).
        public var epoch: Int64 = 0
    }

    /// What the next bytes of a stream are.
    public enum Parse {
        /// Not yet a whole frame: read more.
        case incomplete
        /// A whole frame of `frameBytes` bytes (length field included).
        case frame(Frame, frameBytes: Int)
        /// Not a frame this protocol has: why.
        case invalid(String)
    }

    /// Reads the frame at the start of `bytes`, checking its length and its type's size.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        guard bytes.count >= lengthBytes + 1 else { return .incomplete }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard length >= 1, length <= maximumBodyBytes else {
            return .invalid("a frame of \(length) bytes (1 to \(maximumBodyBytes) allowed)")
        }
        let raw = bytes[lengthBytes]
        guard let kind = Kind(rawValue: raw) else { return .invalid("unknown frame type 0x\(String(raw, radix: 16))") }
        if let size = kind.payloadBytes, length - 1 != size {
            return .invalid("a frame of type \(kind) with \(length - 1) payload bytes (it has \(size))")
        }
        guard bytes.count >= lengthBytes + length else { return .incomplete }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(lengthBytes + 1)..<(lengthBytes + length)])
        return .frame(Frame(kind: kind, payload: payload), frameBytes: lengthBytes + length)
    }

    // MARK: Writing (each returns the frame's bytes; `out` has room for `maximumFrameBytes`)

    static func header(_ kind: Kind, payload: Int, _ out: UnsafeMutableRawPointer) {
        out.storeBytes(of: UInt32(1 + payload).littleEndian, as: UInt32.self)
        out.storeBytes(of: kind.rawValue, toByteOffset: lengthBytes, as: UInt8.self)
    }

    static func store<T: FixedWidthInteger>(_ value: T, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }

    static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    static func storeDay(_ day: String, _ out: UnsafeMutableRawPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0, count: dayBytes)
        for (i, byte) in day.utf8.prefix(dayBytes).enumerated() { out.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
    }

    static func loadDay(_ bytes: UnsafeRawBufferPointer) -> String {
        let used = bytes.prefix { $0 != 0 }
        return String(decoding: used.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    public static func writeHello(_ hello: Hello, to out: UnsafeMutableRawPointer) -> Int {
        let size = Kind.hello.payloadBytes!
        header(.hello, payload: size, out)
        let p = out + lengthBytes + 1
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        for (i, byte) in magic.enumerated() { p.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
        store(hello.version, p, 8)
        store(hello.lastSequence, p, 16)
        storeDay(hello.day, p + 24)
        store(hello.epoch, p, 40)
        return lengthBytes + 1 + size
    }

    /// The hello in `payload`, or why it is not one.
    public static func readHello(_ payload: UnsafeRawBufferPointer) -> Result<Hello, ReplicationProtocolError> {
        guard payload.count == Kind.hello.payloadBytes!, Array(payload.prefix(8)) == magic else {
            return .failure(ReplicationProtocolError("the hello does not start with \"RTESREPL\": not an RTES standby"))
        }
        let version: UInt16 = load(UInt16.self, payload, 8)
        return .success(Hello(version: version, lastSequence: load(UInt64.self, payload, 16),
                              day: loadDay(UnsafeRawBufferPointer(rebasing: payload[24..<40])), epoch: load(Int64.self, payload, 40)))
    }

    public static func writeWelcome(_ welcome: Welcome, to out: UnsafeMutableRawPointer) -> Int {
        let size = Kind.welcome.payloadBytes!
        header(.welcome, payload: size, out)
        let p = out + lengthBytes + 1
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        store(welcome.version, p, 0)
        store(welcome.durableSequence, p, 8)
        storeDay(welcome.day, p + 16)
        store(welcome.epoch, p, 32)
        return lengthBytes + 1 + size
    }

    public static func readWelcome(_ payload: UnsafeRawBufferPointer) -> Welcome {
        Welcome(version: load(UInt16.self, payload, 0), durableSequence: load(UInt64.self, payload, 8),
                day: loadDay(UnsafeRawBufferPointer(rebasing: payload[16..<32])), epoch: load(Int64.self, payload, 32))
    }

    /// Two sequences (acknowledge: received, durable).
    public static func writeAcknowledge(received: UInt64, durable: UInt64, to out: UnsafeMutableRawPointer) -> Int {
        header(.acknowledge, payload: 16, out)
        store(received, out, lengthBytes + 1)
        store(durable, out, lengthBytes + 9)
        return lengthBytes + 17
    }

    public static func readAcknowledge(_ payload: UnsafeRawBufferPointer) -> (received: UInt64, durable: UInt64) {
        (load(UInt64.self, payload, 0), load(UInt64.self, payload, 8))
    }

    public static func writeHeartbeat(durable: UInt64, to out: UnsafeMutableRawPointer) -> Int {
        header(.heartbeat, payload: 8, out)
        store(durable, out, lengthBytes + 1)
        return lengthBytes + 9
    }

    public static func readHeartbeat(_ payload: UnsafeRawBufferPointer) -> UInt64 { load(UInt64.self, payload, 0) }

    public static func writeRefuse(_ reason: String, to out: UnsafeMutableRawPointer) -> Int {
        let bytes = Array(reason.utf8.prefix(maximumReasonBytes))
        header(.refuse, payload: bytes.count, out)
        for (i, byte) in bytes.enumerated() { out.storeBytes(of: byte, toByteOffset: lengthBytes + 1 + i, as: UInt8.self) }
        return lengthBytes + 1 + bytes.count
    }

    public static func readRefuse(_ payload: UnsafeRawBufferPointer) -> String {
        String(decoding: payload.prefix(maximumReasonBytes), as: UTF8.self)
    }

    /// Starts a records frame at `out`; records are encoded after `recordsStart` bytes, and
    /// `finishRecords` writes the header once their count and bytes are known.
    public static let recordsStart = lengthBytes + 1 + recordsHeaderBytes

    public static func finishRecords(first: UInt64, count: Int, recordBytes: Int, at out: UnsafeMutableRawPointer) -> Int {
        header(.records, payload: recordsHeaderBytes + recordBytes, out)
        store(first, out, lengthBytes + 1)
        store(UInt32(count), out, lengthBytes + 9)
        store(UInt32(0), out, lengthBytes + 13)
        return recordsStart + recordBytes
    }

    /// The records of a `records` payload, each decoded and checked (CRC, fields, the count,
    /// consecutive sequences from the header's first), handed to `each`; or why they are not.
    public static func readRecords(
        _ payload: UnsafeRawBufferPointer, expecting next: UInt64, _ each: (SequencedCommand) -> Void
    ) -> Result<Int, ReplicationProtocolError> {
        guard payload.count >= recordsHeaderBytes else { return .failure(ReplicationProtocolError("a records frame without its header")) }
        let first: UInt64 = load(UInt64.self, payload, 0)
        let count = Int(load(UInt32.self, payload, 8))
        guard first == next else {
            return .failure(ReplicationProtocolError("records from sequence \(first), but the standby expects \(next)"))
        }
        var offset = recordsHeaderBytes
        for i in 0..<count {
            let rest = UnsafeRawBufferPointer(rebasing: payload[offset...])
            switch JournalRecord.decode(rest) {
            case .success(let decoded):
                guard decoded.command.sequence == first &+ UInt64(i) else {
                    return .failure(ReplicationProtocolError("record \(i) of the frame from \(first) has sequence \(decoded.command.sequence)"))
                }
                each(decoded.command)
                offset += decoded.length
            case .failure(let error):
                return .failure(ReplicationProtocolError("record of sequence \(first &+ UInt64(i)): \(error)"))
            }
        }
        guard offset == payload.count else {
            return .failure(ReplicationProtocolError("a records frame of \(count) records has \(payload.count - offset) bytes more"))
        }
        return .success(count)
    }
}

/// What was wrong with what the peer sent, in words the log and the refusal carry.
public struct ReplicationProtocolError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
