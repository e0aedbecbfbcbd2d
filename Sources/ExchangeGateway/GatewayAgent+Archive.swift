import ExchangeRuntime
import ExchangeWire

/// One chunk buffer of the journal archive, as the gateway tracks it.
struct ArchiveChunk {
    enum State: UInt8 {
        case free
        /// Handed to the archive with a request; its reply is not in yet.
        case requested
        /// Filled: its bytes are being sent to the connection.
        case sending
    }

    var state = State.free
    /// The account whose session it serves (-1: free).
    var account: Int32 = -1
    /// The connection it serves and that connection's generation; -1 once the connection
    /// has gone (the chunk is freed when its reply comes in).
    var slot: Int32 = -1
    var generation: UInt32 = 0
    var length = 0
    var sent = 0
    /// The sequence number after the chunk's last message.
    var next: UInt64 = 0
}

// Messages older than a session's in-memory history (`SessionLog`), served from the day's
// journal by the archive (`SessionArchiveChannel`): the gateway never replays. A login
// asking for such a message hands a request (account, sequence range, a chunk buffer) to
// the archive through its ring, is accepted, and — once the reply is in — is sent the
// chunk, then asks for the next chunk, until the sequence it needs next is in the session
// log again (which goes on growing, and may wrap, meanwhile); from there it continues from
// the log as any session does. One chunk per session at a time; at most `chunks` sessions
// at once; every step counted.
extension GatewayAgent {
    /// Why a login that needs the archive cannot have it now (nil: it can).
    func archiveRefusal(account: Int) -> StaticString? {
        guard archive.available else {
            return "RTES: requested sequence number is older than the session history kept, and no journal is configured to serve it from"
        }
        for chunk in 0..<archive.chunks where archiveChunks[chunk].account == Int32(account) {
            return "RTES: this session's earlier journal archive request is still being served; log in again in a moment"
        }
        guard freeArchiveChunk() != nil else {
            return "RTES: the journal archive is serving as many sessions as it may; log in again in a moment"
        }
        return nil
    }

    func freeArchiveChunk() -> Int? {
        for chunk in 0..<archive.chunks where archiveChunks[chunk].state == .free { return chunk }
        return nil
    }

    /// Starts serving the just-accepted `slot` from the archive, from sequence `from`
    /// (`archiveRefusal` said it can).
    mutating func startArchive(_ slot: Int, account: Int, from: UInt64) {
        guard let chunk = freeArchiveChunk() else { return beginClose(slot, .journalArchive, flush: true) }
        archiveChunks[chunk] = ArchiveChunk(
            state: .free, account: Int32(account), slot: Int32(slot), generation: table.generation(slot), length: 0, sent: 0, next: from)
        connections[slot].archiveChunk = Int32(chunk)
        count(GatewayCounters.archiveSessions)
        requestArchive(chunk)
    }

    /// Asks the archive for the chunk's next messages: from `next` up to the newest the log holds.
    mutating func requestArchive(_ chunk: Int) {
        let account = Int(archiveChunks[chunk].account)
        let request = SessionArchiveRequest(
            account: Int32(account), chunk: Int32(chunk), from: archiveChunks[chunk].next,
            through: accounts.logs[account].nextSequence &- 1)
        archiveChunks[chunk].state = .requested
        archiveChunks[chunk].length = 0
        archiveChunks[chunk].sent = 0
        guard archive.post(request) else {
            // Never: the ring has a slot per chunk. Counted, and the connection told.
            count(GatewayCounters.archiveFailures)
            let slot = Int(archiveChunks[chunk].slot)
            freeArchive(chunk)
            if slot >= 0 { beginClose(slot, .journalArchive, flush: true) }
            return
        }
        archiveOutstanding &+= 1
        count(GatewayCounters.archiveRequests)
    }

    /// The archive's replies: a filled chunk starts sending; a chunk whose connection has
    /// gone is freed; a failure closes the connection with its reason.
    mutating func takeArchiveReplies() -> Int {
        var work = 0
        while let reply = archive.nextReply() {
            work &+= 1
            archiveOutstanding &-= 1
            let chunk = Int(reply.chunk)
            guard chunk >= 0, chunk < archive.chunks, archiveChunks[chunk].state == .requested else { continue }
            let slot = Int(archiveChunks[chunk].slot)
            guard slot >= 0, table.generation(slot) == archiveChunks[chunk].generation,
                  connections[slot].archiveChunk == Int32(chunk) else {
                freeArchive(chunk)
                continue
            }
            guard reply.failure == .none, reply.count > 0, reply.from == archiveChunks[chunk].next else {
                count(GatewayCounters.archiveFailures)
                // Nothing more goes to this connection but its Debug: not the log either (it
                // would skip the messages the archive could not serve).
                connections[slot].archiveChunk = Self.archiveFailed
                freeArchive(chunk)
                beginClose(slot, .journalArchive, flush: true)
                continue
            }
            count(GatewayCounters.archiveMessages, by: UInt64(reply.count))
            archiveChunks[chunk].state = .sending
            archiveChunks[chunk].length = Int(reply.bytes)
            archiveChunks[chunk].sent = 0
            archiveChunks[chunk].next = reply.from &+ UInt64(reply.count)
            markDirty(slot)
        }
        return work
    }

    /// What of the connection's archive chunk is still to send (empty while its reply is not in).
    func pendingArchiveBytes(_ slot: Int) -> UnsafeRawBufferPointer {
        let chunk = Int(connections[slot].archiveChunk)
        guard chunk < archive.chunks, archiveChunks[chunk].state == .sending else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let sent = archiveChunks[chunk].sent
        let rest = min(archiveChunks[chunk].length &- sent, Self.maximumSendBytes)
        return UnsafeRawBufferPointer(start: archive.chunk(chunk) + sent, count: rest)
    }

    /// `bytes` of the connection's archive chunk went. Once all of it has: the session
    /// continues from its log when the log still holds the next message, else the archive is
    /// asked for the next chunk.
    mutating func archiveSent(_ slot: Int, bytes: Int) {
        let chunk = Int(connections[slot].archiveChunk)
        archiveChunks[chunk].sent &+= bytes
        guard archiveChunks[chunk].sent >= archiveChunks[chunk].length else { return }
        let account = Int(archiveChunks[chunk].account)
        let next = archiveChunks[chunk].next
        let log = accounts.logs[account]
        guard let offset = log.offset(ofSequence: next) else {
            requestArchive(chunk)
            return
        }
        connections[slot].archiveChunk = -1
        freeArchive(chunk)
        connections[slot].logOffset = offset
        let keepable = UInt64(log.byteCapacity &- 2 &* SessionLog.maximumPacketBytes)
        table.setSendBound(slot, bytes: min(keepable, (log.writeOffset &- offset) &+ sendQueueBytes))
    }

    /// The slot's connection has gone: a chunk being sent to it is free again; a chunk whose
    /// reply is still to come is freed when it comes.
    mutating func releaseArchive(_ slot: Int) {
        for chunk in 0..<archive.chunks where archiveChunks[chunk].slot == Int32(slot) && archiveChunks[chunk].state != .free {
            if archiveChunks[chunk].state == .sending {
                freeArchive(chunk)
            } else {
                archiveChunks[chunk].slot = -1
            }
        }
    }

    /// `Connection.archiveChunk` of a connection whose archive request failed: it is closing,
    /// and sends nothing more from the archive or its log.
    static var archiveFailed: Int32 { Int32.max }

    mutating func freeArchive(_ chunk: Int) {
        archiveChunks[chunk] = ArchiveChunk()
    }
}
