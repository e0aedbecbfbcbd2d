/// A fact about a FIX session that the engine's events do not decide, journaled so that a
/// restarted exchange recovers its FIX sessions exactly (docs/FIX.md, "Across restarts").
/// Like a `SessionEvent` it changes no state of the engine and produces no event: the engine
/// only sequences it, so that replay meets it in the order the gateway wrote it among the
/// commands. Replay (`GatewayAgent.replayCommand`) rebuilds from these facts and the engine's
/// events each FIX session's sequence numbers, resend store and ClOrdID table.
///
/// Four kinds, each fitting the journal's 56-byte payload:
/// - `bind`: the account's FIX session for the day exists; its engine tokens are numbered
///   from `tokenBase` and its ExecIDs carry `execIDPrefix` (both the process's that bound it).
/// - `clOrdID`: a ClOrdID took entry `entry` of the session's table (`entryKind`, `link`:
///   the order a cancel request or a replacement acts on; `rejectedAtOnce`: a NewOrderSingle
///   the mapping refused itself), after the inbound message `nextInbound − 1`.
/// - `outbound`: MsgSeqNums `first ..< first + count` went out as messages replay does not
///   regenerate — session messages, and answers the mapping gives at once — using `execIDs`
///   ExecIDs of the answers' own counter (`<prefix>-<n>`; reports of engine events count
///   theirs apart, so replay renumbers none of them); the counterparty's next MsgSeqNum was then `nextInbound`. `reset`: a Logon with
///   ResetSeqNumFlag reset both sides (and the store) before these.
/// - `reply`: an answer the mapping gave at once (an Order Status, a mass cancel report, a
///   reject of an order the engine never saw), written as the `outbound` fact before it
///   counted it: its MsgSeqNum `first`, and in chunk 0 its MsgType, body length and
///   SendingTime, in chunks 1… its body, 32 bytes each. Such answers depend on the message
///   that asked, which the journal does not hold; they are rare, so their bytes are kept.
public struct FIXSessionFact: Equatable, Sendable, BitwiseCopyable {
    public enum Kind: UInt8, Equatable, Sendable, BitwiseCopyable, CaseIterable {
        case bind = 0
        case clOrdID = 1
        case outbound = 2
        case reply = 3
    }

    public var timestamp: Timestamp
    /// The account (the engine's client) whose FIX session this is.
    public var client: ClientID
    public var kind: Kind
    /// `clOrdID`: the entry's kind (`FIXEntryKind`'s raw value). `outbound`: 1 when reset.
    public var detail: UInt8
    /// `clOrdID`: the ClOrdID's length (1–32). `clOrdID` with `rejectedAtOnce`: bit 7 set.
    public var length: UInt8
    /// `bind`: the token base. `clOrdID`: entry (low 32 bits) and link (high 32 bits).
    /// `outbound`: the first MsgSeqNum.
    public var first: UInt64
    /// `bind`: the ExecID prefix. `clOrdID` and `outbound`: the next inbound MsgSeqNum.
    public var second: UInt64
    /// `clOrdID`: its bytes, in order, zero padded. `outbound`: count (word 0), ExecIDs (word 1).
    public var words: (UInt64, UInt64, UInt64, UInt64)

    public init(timestamp: Timestamp, client: ClientID, kind: Kind, detail: UInt8 = 0, length: UInt8 = 0, first: UInt64 = 0,
                second: UInt64 = 0, words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)) {
        self.timestamp = timestamp
        self.client = client
        self.kind = kind
        self.detail = detail
        self.length = length
        self.first = first
        self.second = second
        self.words = words
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.timestamp == b.timestamp && a.client == b.client && a.kind == b.kind && a.detail == b.detail && a.length == b.length
            && a.first == b.first && a.second == b.second && a.words.0 == b.words.0 && a.words.1 == b.words.1
            && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    // MARK: bind

    public static func bind(timestamp: Timestamp, client: ClientID, tokenBase: UInt64, execIDPrefix: UInt64) -> Self {
        Self(timestamp: timestamp, client: client, kind: .bind, first: tokenBase, second: execIDPrefix)
    }

    public var tokenBase: UInt64 { first }
    public var execIDPrefix: UInt64 { second }

    // MARK: clOrdID

    public static let maximumClOrdIDLength = 32
    static let rejectedAtOnceBit: UInt8 = 0x80

    /// nil when `clOrdID` is not 1–32 bytes.
    public static func clOrdID(timestamp: Timestamp, client: ClientID, entry: UInt32, entryKind: UInt8, link: UInt32,
                               rejectedAtOnce: Bool, nextInbound: UInt64, clOrdID: UnsafeRawBufferPointer) -> Self? {
        guard (1...maximumClOrdIDLength).contains(clOrdID.count) else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: clOrdID) }
        return Self(timestamp: timestamp, client: client, kind: .clOrdID, detail: entryKind,
                    length: UInt8(clOrdID.count) | (rejectedAtOnce ? rejectedAtOnceBit : 0),
                    first: UInt64(entry) | UInt64(link) << 32, second: nextInbound, words: words)
    }

    public var entry: UInt32 { UInt32(truncatingIfNeeded: first) }
    public var link: UInt32 { UInt32(truncatingIfNeeded: first >> 32) }
    public var rejectedAtOnce: Bool { length & Self.rejectedAtOnceBit != 0 }
    public var clOrdIDLength: Int { Int(length & ~Self.rejectedAtOnceBit) }
    public var nextInbound: UInt64 { second }

    /// The ClOrdID's bytes (allocates: replay and tools).
    public var clOrdIDBytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0.prefix(min(clOrdIDLength, Self.maximumClOrdIDLength))) }
    }

    // MARK: outbound

    public static func outbound(timestamp: Timestamp, client: ClientID, first: UInt64, count: UInt64, execIDs: UInt64,
                                nextInbound: UInt64, reset: Bool) -> Self {
        Self(timestamp: timestamp, client: client, kind: .outbound, detail: reset ? 1 : 0, first: first, second: nextInbound,
             words: (count, execIDs, 0, 0))
    }

    public var count: UInt64 { words.0 }
    public var execIDs: UInt64 { words.1 }
    public var reset: Bool { detail == 1 }

    // MARK: reply

    public static let replyChunkBytes = 32

    /// Chunk 0 of an answer's facts.
    public static func replyHeader(timestamp: Timestamp, client: ClientID, sequence: UInt64, msgType: UInt16, bodyLength: Int,
                                   sendingTime: UInt64) -> Self {
        Self(timestamp: timestamp, client: client, kind: .reply, detail: 0, first: sequence, second: sendingTime,
             words: (UInt64(msgType) | UInt64(bodyLength) << 16, 0, 0, 0))
    }

    /// Chunk `chunk` (1…) of an answer's body: up to 32 bytes.
    public static func replyChunk(timestamp: Timestamp, client: ClientID, sequence: UInt64, chunk: UInt8,
                                  bytes: UnsafeRawBufferPointer) -> Self {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(replyChunkBytes))) }
        return Self(timestamp: timestamp, client: client, kind: .reply, detail: chunk, length: UInt8(min(bytes.count, replyChunkBytes)),
                    first: sequence, words: words)
    }

    public var chunk: Int { Int(detail) }
    public var replyMsgType: UInt16 { UInt16(truncatingIfNeeded: words.0) }
    public var replyBodyLength: Int { Int(truncatingIfNeeded: (words.0 >> 16) & 0xFFFF) }
    public var replySendingTime: UInt64 { second }
}
