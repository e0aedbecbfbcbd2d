/// The rings and chunk buffers between a hot agent (the order gateway, the market-data
/// agent) and the journal archive, which regenerates what their in-memory histories no
/// longer hold, off their threads: requests one way, replies the other, and `chunks` chunk
/// buffers of `chunkBytes` each, allocated once.
///
/// The hot agent hands a chunk out with each request (so at most `chunks` requests are ever
/// outstanding, and the rings, with a slot per chunk, are never full), the archive fills it
/// and replies, the agent sends from it (or copies it into a packet) and takes it back. The
/// ring push and pop order the chunk's bytes (release on push, acquire on pop). Each end is
/// handed out once.
///
/// `unavailable()` is the channel of an agent without a journal (`durability.mode` none, or
/// an agent built alone): no chunks, no archive.
public final class ArchiveChannel<Request: BitwiseCopyable, Reply: BitwiseCopyable>: @unchecked Sendable {
    public let chunks: Int
    public let chunkBytes: Int
    /// Whether an archive serves this channel.
    public let available: Bool
    private var requests: SPSCRing<Request>
    private var replies: SPSCRing<Reply>
    let memory: UnsafeMutableRawPointer

    /// The most chunks a channel may have, and the chunk size's bounds.
    public static var maximumChunks: Int { 64 }
    public static var chunkBytesRange: ClosedRange<Int> { 1_024...(16 * 1_024 * 1_024) }

    /// - Parameters:
    ///   - chunks: requests outstanding at most (1…`maximumChunks`).
    ///   - chunkBytes: bytes one reply carries at most (`chunkBytesRange`).
    public init(chunks: Int, chunkBytes: Int) {
        precondition((1...Self.maximumChunks).contains(chunks), "archive chunks out of range")
        precondition(Self.chunkBytesRange.contains(chunkBytes), "archive chunk size out of range")
        self.chunks = chunks
        self.chunkBytes = chunkBytes
        available = true
        var capacity = 1
        while capacity < chunks { capacity <<= 1 }
        requests = SPSCRing(capacity: capacity)
        replies = SPSCRing(capacity: capacity)
        memory = .allocate(byteCount: chunks * chunkBytes, alignment: 4_096)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: chunks * chunkBytes)
    }

    private init() {
        chunks = 0
        chunkBytes = 0
        available = false
        requests = SPSCRing(capacity: 1)
        replies = SPSCRing(capacity: 1)
        memory = .allocate(byteCount: 64, alignment: 64)
    }

    /// A channel no archive serves.
    public static func unavailable() -> ArchiveChannel { ArchiveChannel() }

    deinit { memory.deallocate() }

    /// The hot agent's end.
    public func makeClient() -> Client { Client(channel: self, requests: requests.makeProducer(), replies: replies.makeConsumer()) }

    /// The archive's end.
    public func makePort() -> Port { Port(channel: self, requests: requests.makeConsumer(), replies: replies.makeProducer()) }

    /// The hot agent's end: a ring push, a ring pop, no wait.
    public struct Client: ~Copyable, @unchecked Sendable {
        @usableFromInline var requests: SPSCRing<Request>.Producer
        @usableFromInline var replies: SPSCRing<Reply>.Consumer
        public let chunks: Int
        public let chunkBytes: Int
        public let available: Bool
        @usableFromInline let memory: UnsafeMutableRawPointer
        let channel: ArchiveChannel

        init(channel: ArchiveChannel, requests: consuming SPSCRing<Request>.Producer, replies: consuming SPSCRing<Reply>.Consumer) {
            self.requests = requests
            self.replies = replies
            chunks = channel.chunks
            chunkBytes = channel.chunkBytes
            available = channel.available
            memory = channel.memory
            self.channel = channel
        }

        /// Hands a request to the archive; false only when the ring is full (it never is
        /// while the agent hands a free chunk out with each request).
        @inlinable
        public mutating func post(_ request: Request) -> Bool { requests.tryPush(request) }

        /// The next reply, if one is in.
        @inlinable
        public mutating func nextReply() -> Reply? { replies.tryPop() }

        /// Chunk `index`'s bytes.
        @inlinable
        public func chunk(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(memory + index &* chunkBytes) }
    }

    /// The archive's end.
    public struct Port: ~Copyable, @unchecked Sendable {
        var requests: SPSCRing<Request>.Consumer
        var replies: SPSCRing<Reply>.Producer
        public let chunks: Int
        public let chunkBytes: Int
        public let available: Bool
        let memory: UnsafeMutableRawPointer
        let channel: ArchiveChannel

        init(channel: ArchiveChannel, requests: consuming SPSCRing<Request>.Consumer, replies: consuming SPSCRing<Reply>.Producer) {
            self.requests = requests
            self.replies = replies
            chunks = channel.chunks
            chunkBytes = channel.chunkBytes
            available = channel.available
            memory = channel.memory
            self.channel = channel
        }

        /// The next request, if one is in.
        public mutating func nextRequest() -> Request? { requests.tryPop() }

        /// Sends a reply (the chunk's bytes written before it are visible to the agent when
        /// it takes the reply). Never fails: the ring has a slot per chunk.
        public mutating func reply(_ reply: Reply) {
            let pushed = replies.tryPush(reply)
            precondition(pushed, "the archive's reply ring has a slot per chunk")
        }

        /// Chunk `index`'s memory, to fill.
        public func chunk(_ index: Int) -> UnsafeMutableRawPointer { memory + index * chunkBytes }
    }
}
