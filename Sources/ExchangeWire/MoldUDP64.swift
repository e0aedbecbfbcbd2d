
/// MoldUDP64 1.0 framing, written down once.
///
/// Downstream packet (exchange → receivers):
///
/// | offset | field | width |
/// |---|---|---|
/// | 0 | Session, alpha | 10 |
/// | 10 | Sequence Number of the first message (for a heartbeat or end of session: the next one) | 8 |
/// | 18 | Message Count (0 heartbeat, 0xFFFF end of session) | 2 |
/// | 20 | Message Count blocks of { Message Length u16, message } | … |
///
/// Request packet (receiver → re-request server), 20 bytes: Session a10; Sequence Number u64;
/// Requested Message Count u16. The answer is an ordinary downstream packet, sent to the
/// requester's address.
public enum MoldUDP64 {
    public static let headerLength = 20
    public static let sessionOffset = 0
    public static let sequenceOffset = 10
    public static let countOffset = 18
    public static let requestLength = 20
    /// Bytes before each message in a packet: its u16 length.
    public static let blockHeaderLength = 2
    public static let heartbeatCount: UInt16 = 0
    public static let endOfSessionCount: UInt16 = 0xFFFF
    /// The largest UDP payload over IPv4.
    public static let maximumPayload = 65_507

    /// Writes a packet header.
    @inlinable
    public static func writeHeader(session: SoupSessionName, sequence: UInt64, count: UInt16, to out: UnsafeMutableRawPointer) {
        session.write(to: out, at: sessionOffset)
        BigEndian.write(sequence, to: out, at: sequenceOffset)
        BigEndian.write(count, to: out, at: countOffset)
    }

    /// Writes a re-request and returns its length (20).
    @inlinable
    public static func writeRequest(session: SoupSessionName, sequence: UInt64, count: UInt16, to out: UnsafeMutableRawPointer) -> Int {
        writeHeader(session: session, sequence: sequence, count: count, to: out)
        return requestLength
    }

    /// A re-request: the session, the first sequence number wanted and how many.
    public struct Request: Equatable, Sendable, BitwiseCopyable {
        public var session: SoupSessionName
        public var sequence: UInt64
        public var count: UInt16

        public init(session: SoupSessionName, sequence: UInt64, count: UInt16) {
            self.session = session
            self.sequence = sequence
            self.count = count
        }
    }

    /// Reads a re-request. Only the length is checked here: what the fields mean is the
    /// re-request server's business (`RetransmitPolicy`).
    @inlinable
    public static func readRequest(_ bytes: UnsafeRawBufferPointer) -> Request? {
        guard bytes.count == requestLength, let p = bytes.baseAddress else { return nil }
        return Request(session: SoupSessionName.read(p, at: sessionOffset), sequence: BigEndian.readUInt64(p, at: sequenceOffset),
                       count: BigEndian.readUInt16(p, at: countOffset))
    }

    /// Why bytes are not a well-formed downstream packet.
    public enum PacketError: Error, Equatable, Sendable {
        case shorterThanHeader(Int)
        /// Block `index` claims more bytes than the packet has left.
        case truncatedBlock(index: Int)
        /// Bytes left over after the last block.
        case trailingBytes(Int)
    }

    /// A downstream packet, checked: its blocks exactly fill it.
    public struct Packet {
        public let session: SoupSessionName
        public let sequence: UInt64
        public let count: UInt16
        /// The message blocks (empty for heartbeats and end of session).
        public let blocks: UnsafeRawBufferPointer

        public var isHeartbeat: Bool { count == MoldUDP64.heartbeatCount }
        public var isEndOfSession: Bool { count == MoldUDP64.endOfSessionCount }
        /// Messages carried (0 for heartbeats and end of session).
        public var messageCount: Int { isEndOfSession ? 0 : Int(count) }

        /// Calls `body` with each message's sequence number and bytes, in order.
        @inlinable
        public func forEachMessage(_ body: (UInt64, UnsafeRawBufferPointer) throws -> Void) rethrows {
            guard let base = blocks.baseAddress else { return }
            var offset = 0
            for i in 0..<messageCount {
                let length = Int(BigEndian.readUInt16(base, at: offset))
                try body(sequence &+ UInt64(i), UnsafeRawBufferPointer(start: base + offset + 2, count: length))
                offset += 2 + length
            }
        }
    }

    /// Checks and reads a downstream packet. End-of-session and heartbeat packets must be
    /// header only.
    public static func readPacket(_ bytes: UnsafeRawBufferPointer) -> Result<Packet, PacketError> {
        guard bytes.count >= headerLength, let p = bytes.baseAddress else { return .failure(.shorterThanHeader(bytes.count)) }
        let count = BigEndian.readUInt16(p, at: countOffset)
        let messages = count == endOfSessionCount ? 0 : Int(count)
        var offset = headerLength
        for i in 0..<messages {
            guard bytes.count - offset >= 2 else { return .failure(.truncatedBlock(index: i)) }
            let length = Int(BigEndian.readUInt16(p, at: offset))
            guard bytes.count - offset - 2 >= length else { return .failure(.truncatedBlock(index: i)) }
            offset += 2 + length
        }
        guard offset == bytes.count else { return .failure(.trailingBytes(bytes.count - offset)) }
        return .success(Packet(
            session: SoupSessionName.read(p, at: sessionOffset), sequence: BigEndian.readUInt64(p, at: sequenceOffset), count: count,
            blocks: UnsafeRawBufferPointer(start: p + headerLength, count: bytes.count - headerLength)))
    }
}
