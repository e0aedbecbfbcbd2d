import ExchangeBookReplica
import ExchangeCore
import ExchangeWire

/// The snapshot service's own copy of the books and the chunked encoding of a snapshot from
/// it (docs/MARKETDATA.md, "Late joiners").
///
/// `replica` is a second `BookReplica` that follows the feed from the re-request history:
/// between passes it catches up at most `budget` messages per duty cycle (`catchUp`), and
/// `sequence` is the first message it has not applied. A pass freezes it: while a snapshot is
/// encoded it applies nothing, so every chunk describes the books at exactly `sequence`, the
/// number the End of Snapshot carries. Each chunk is at most `budget` units of work (a message
/// or order encoded, a level listed or a heap step; `ReplicaCursor`) into the one chunk
/// buffer, which every connection of the pass sends before the next chunk is encoded. All of
/// its memory is allocated once.
struct SnapshotPass: ~Copyable {
    var replica: BookReplica
    /// The first message not applied to `replica` (the End of Snapshot's sequence during a pass).
    var sequence: UInt64 = 1
    /// The market state as of `sequence`, from the System Events applied.
    var marketState = ITCH.EventCode.startOfSystemHours
    /// Units of work per chunk (and messages per catch-up).
    let budget: Int
    let chunk: UnsafeMutableRawPointer
    let chunkCapacity: Int
    var chunkLength = 0

    /// A pass is under way (the replica is frozen).
    var active = false
    /// The header's next message: 0 Login Accepted, 1 System Event, then the directory and
    /// trading actions; past those, orders (`cursor`), then End of Snapshot.
    var headerIndex = 0
    var cursor = ReplicaCursor()
    /// The End of Snapshot is in the chunk: the pass ends once the chunk is out.
    var finished = false
    var timestamp: Timestamp = 0
    /// Bytes of the pass so far (Login Accepted included).
    var passBytes = 0

    var chunks: UInt64 = 0
    var largestWork: UInt64 = 0
    var largestChunkBytes: UInt64 = 0
    var caughtUpMessages: UInt64 = 0
    var rebuilds: UInt64 = 0
    var mismatches: UInt64 = 0

    /// Bytes one unit of work can write at most: an `F` Add Order with its SoupBinTCP header
    /// (43), a directory (42), a history block (46).
    static let unitBytes = 48

    /// Units per chunk for a `budget` of 0 (no bound) or more.
    static func units(budget: Int) -> Int { budget > 0 ? budget : Int.max / 2 }

    /// Bytes of the chunk buffer: a chunk's units at most, or the whole snapshot when fewer.
    static func chunkBytes(instrumentCount: Int, orderCapacity: Int, budget: Int) -> Int {
        // Output units: every order, the header (4 + 2 per instrument) and End of Snapshot.
        let outputs = orderCapacity + 2 * instrumentCount + 4
        return min(units(budget: budget), outputs) * unitBytes + 64
    }

    /// The heap bytes `init` allocates: the service's copy of the books and the chunk.
    static func requiredBytes(instrumentCount: Int, orderCapacity: Int, budget: Int) -> Int {
        BookReplica.requiredBytes(instrumentCount: instrumentCount, orderCapacity: orderCapacity)
            + chunkBytes(instrumentCount: instrumentCount, orderCapacity: orderCapacity, budget: budget)
    }

    /// - Parameter budget: units per chunk; 0 lifts the bound (the whole snapshot in one chunk).
    init(instrumentCount: Int, orderCapacity: Int, budget: Int) {
        replica = BookReplica(instrumentCount: instrumentCount, orderCapacity: orderCapacity)
        self.budget = Self.units(budget: budget)
        chunkCapacity = Self.chunkBytes(instrumentCount: instrumentCount, orderCapacity: orderCapacity, budget: budget)
        chunk = .allocate(byteCount: chunkCapacity, alignment: 64)
    }

    deinit { chunk.deallocate() }

    /// Whether the copy has applied every message published so far.
    func isCaughtUp(_ history: borrowing RetransmitHistory) -> Bool { sequence == history.nextSequence }

    /// Applies up to `budget` messages (and `limit`) from the history; returns how many. A copy that fell
    /// behind the history (older than its oldest message) is rebuilt from the live replica in
    /// one copy (`rebuilds`; the pass rules keep it from happening).
    mutating func catchUp(history: borrowing RetransmitHistory, live: borrowing BookReplica, liveState: ITCH.EventCode,
                          limit: Int = .max) -> Int {
        guard sequence < history.nextSequence else { return 0 }
        guard history.contains(sequence) else {
            replica.copy(from: live)
            sequence = history.nextSequence
            marketState = liveState
            rebuilds &+= 1
            return 1
        }
        let maxCount = min(budget, limit, (chunkCapacity - 64) / Self.unitBytes)
        let (count, _) = history.copyBlocks(from: sequence, maxCount: maxCount, maxBytes: chunkCapacity, to: chunk)
        var offset = 0
        for _ in 0..<count {
            let length = Int(UInt16(bigEndian: (chunk + offset).loadUnaligned(as: UInt16.self)))
            let message = UnsafeRawBufferPointer(start: chunk + offset + MoldUDP64.blockHeaderLength, count: length)
            switch ITCHDecoder.decode(message) {
            case .success(let decoded): apply(decoded)
            case .failure: mismatches &+= 1
            }
            offset &+= MoldUDP64.blockHeaderLength &+ length
        }
        sequence &+= UInt64(count)
        caughtUpMessages &+= UInt64(count)
        if UInt64(count) > largestWork { largestWork = UInt64(count) }
        return count
    }

    mutating func apply(_ message: ITCHMessage) {
        if case .systemEvent(let event) = message {
            switch ITCH.EventCode(rawValue: event.code) {
            case .startOfSystemHours: marketState = .startOfSystemHours
            case .startOfMarketHours: marketState = .startOfMarketHours
            case .endOfMarketHours, .endOfSystemHours, .endOfMessages: marketState = .endOfMarketHours
            case .startOfMessages, .none: break
            }
            return
        }
        switch replica.apply(message) {
        case .applied, .ignored: break
        default: mismatches &+= 1
        }
    }

    /// Freezes the copy and starts a pass (needs `isCaughtUp`).
    mutating func begin(timestamp: Timestamp) {
        active = true
        headerIndex = 0
        cursor = ReplicaCursor()
        finished = false
        chunkLength = 0
        passBytes = 0
        self.timestamp = timestamp
    }

    /// Encodes the next chunk (at most `budget` units) into `chunk`; returns the units used.
    mutating func encodeChunk(session: SoupSessionName, instruments: UnsafeMutablePointer<InstrumentSpec>, instrumentCount: Int) -> Int {
        let out = chunk
        let timestamp = self.timestamp
        var used = 0
        // The write position lives in memory of its own, so that the walk's closure captures
        // only constants (a captured variable would be boxed on the heap).
        var position = 0
        let offset = withUnsafeMutablePointer(to: &position) { offset -> Int in
            let headerCount = 2 &+ 2 &* instrumentCount
            while used < budget && headerIndex < headerCount {
                switch headerIndex {
                case 0: offset.pointee &+= SoupBinTCP.loginAccepted(session: session, sequence: 1, to: out)
                case 1: Self.put(.systemEvent(.init(timestamp: timestamp, code: marketState)), out, offset)
                case let i where i < 2 &+ instrumentCount:
                    Self.put(.stockDirectory(.init(locate: UInt16(truncatingIfNeeded: i &- 1), timestamp: timestamp,
                                                   instrument: instruments[i &- 2])), out, offset)
                default:
                    let instrument = headerIndex &- 2 &- instrumentCount
                    // The last Trading Action the feed published: pre-open's `Q`, a halt's or an
                    // LULD pause's `H` with its reason, or `T`.
                    let last = replica.tradingState(InstrumentIndex(truncatingIfNeeded: instrument))
                    Self.put(.tradingAction(.init(locate: UInt16(truncatingIfNeeded: instrument &+ 1), timestamp: timestamp,
                                                  symbol: instruments[instrument].symbol, state: last.state,
                                                  reason: last.reason)), out, offset)
                }
                headerIndex &+= 1
                used &+= 1
            }
            if used < budget && !cursor.isFinished {
                used &+= replica.walkOrders(&cursor, budget: budget &- used) { instrument, side, order in
                    Self.put(.addOrder(.init(locate: instrument &+ 1, timestamp: timestamp, reference: order.reference,
                                             side: side == .bid ? ITCH.buy : ITCH.sell, shares: order.shares,
                                             symbol: instruments[Int(instrument)].symbol, price: order.price,
                                             attribution: order.attribution)), out, offset)
                }
            }
            if used < budget && cursor.isFinished && !finished {
                offset.pointee &+= SoupBinTCP.sequencedDataHeader(payloadLength: GlimpseSnapshot.endOfSnapshotLength, to: out + offset.pointee)
                offset.pointee &+= GlimpseSnapshot.writeEndOfSnapshot(nextSequence: sequence, to: out + offset.pointee)
                finished = true
                used &+= 1
            }
            return offset.pointee
        }
        chunkLength = offset
        passBytes &+= offset
        chunks &+= 1
        if UInt64(used) > largestWork { largestWork = UInt64(used) }
        if UInt64(offset) > largestChunkBytes { largestChunkBytes = UInt64(offset) }
        return used
    }

    /// One message as SoupBinTCP Sequenced Data at `out + offset`, the offset moved past it.
    @inline(__always)
    static func put(_ message: ITCHMessage, _ out: UnsafeMutableRawPointer, _ offset: UnsafeMutablePointer<Int>) {
        offset.pointee &+= SoupBinTCP.sequencedDataHeader(payloadLength: message.length, to: out + offset.pointee)
        offset.pointee &+= ITCHEncoder.write(message, to: out + offset.pointee)
    }

    /// Ends the pass: the copy may follow the feed again.
    mutating func end() {
        active = false
        chunkLength = 0
    }
}
