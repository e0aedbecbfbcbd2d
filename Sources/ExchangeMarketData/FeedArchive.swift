import ExchangeRuntime

/// A MoldUDP64 re-request older than the re-request history, handed by the market-data
/// agent to the journal archive: regenerate the feed's messages from `sequence`, at most
/// `count` and at most `maxBytes` of MoldUDP64 blocks (u16 length, then the message), into
/// chunk `chunk`. The requester rides along so that the answer goes back to it.
public struct FeedArchiveRequest: BitwiseCopyable, Sendable, Equatable {
    public var chunk: Int32
    /// The requester's port and IPv4 address, in network byte order (as in `sockaddr_in`).
    public var port: UInt16
    public var address: UInt32
    public var sequence: UInt64
    public var count: UInt32
    public var maxBytes: UInt32

    public init(chunk: Int32, port: UInt16, address: UInt32, sequence: UInt64, count: UInt32, maxBytes: UInt32) {
        self.chunk = chunk
        self.port = port
        self.address = address
        self.sequence = sequence
        self.count = count
        self.maxBytes = maxBytes
    }
}

/// The archive's answer: chunk `chunk` holds `count` MoldUDP64 blocks, `bytes` bytes, the first
/// of sequence `sequence` — exactly as the live feed published them. `count` 0: not served
/// (the archive logged why).
public struct FeedArchiveReply: BitwiseCopyable, Sendable, Equatable {
    public var chunk: Int32
    public var count: UInt32
    public var bytes: UInt32
    public var sequence: UInt64

    public init(chunk: Int32, count: UInt32, bytes: UInt32, sequence: UInt64) {
        self.chunk = chunk
        self.count = count
        self.bytes = bytes
        self.sequence = sequence
    }
}

/// The market-data agent's channel to the journal archive (`ArchiveChannel`).
public typealias FeedArchiveChannel = ArchiveChannel<FeedArchiveRequest, FeedArchiveReply>
public typealias FeedArchiveClient = ArchiveChannel<FeedArchiveRequest, FeedArchiveReply>.Client
public typealias FeedArchivePort = ArchiveChannel<FeedArchiveRequest, FeedArchiveReply>.Port
