import ExchangeRuntime

/// A request from the gateway to the journal archive: regenerate messages `from` … `through`
/// of `account`'s session (as many as fit one chunk) into chunk `chunk`.
public struct SessionArchiveRequest: BitwiseCopyable, Sendable, Equatable {
    public var account: Int32
    /// The chunk buffer to fill (the gateway's to hand out; it owns it until the reply).
    public var chunk: Int32
    /// The first sequence number wanted.
    public var from: UInt64
    /// The last sequence number wanted (inclusive); the archive stops earlier when the chunk
    /// is full or at the journal's durable end.
    public var through: UInt64

    public init(account: Int32, chunk: Int32, from: UInt64, through: UInt64) {
        self.account = account
        self.chunk = chunk
        self.from = from
        self.through = through
    }
}

/// The archive's answer: chunk `chunk` holds `count` whole Sequenced Data packets, `bytes`
/// bytes, the first of sequence `from` — exactly as the live gateway sent them. `count` 0
/// means the archive could not serve the request (`failure` says why, for the counters).
public struct SessionArchiveReply: BitwiseCopyable, Sendable, Equatable {
    public enum Failure: UInt8, Sendable, BitwiseCopyable {
        case none = 0
        /// The journal could not be read (the archive logged why).
        case journalUnreadable
        /// The journal's durable records do not reach the sequence asked for.
        case notDurable
    }

    public var chunk: Int32
    public var failure: Failure
    public var count: UInt32
    public var bytes: UInt32
    public var from: UInt64

    public init(chunk: Int32, failure: Failure = .none, count: UInt32, bytes: UInt32, from: UInt64) {
        self.chunk = chunk
        self.failure = failure
        self.count = count
        self.bytes = bytes
        self.from = from
    }
}

/// The rings and chunk buffers between the order gateway and the journal archive
/// (`JournalArchive` in ExchangeOps), which regenerates a session's messages older than its
/// in-memory history from the day's journal, off the gateway's thread (`ArchiveChannel`).
public typealias SessionArchiveChannel = ArchiveChannel<SessionArchiveRequest, SessionArchiveReply>
/// The gateway's end.
public typealias SessionArchiveClient = ArchiveChannel<SessionArchiveRequest, SessionArchiveReply>.Client
/// The archive's end.
public typealias SessionArchivePort = ArchiveChannel<SessionArchiveRequest, SessionArchiveReply>.Port
