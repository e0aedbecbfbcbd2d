import CMallocCounter
import ExchangeBookReplica
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeMarketData
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Glibc
import Testing

/// Snapshots of a large book, encoded a bounded amount of work per duty cycle from the
/// service's own copy of the books: complete, consistent with the sequence their End of
/// Snapshot states (also while the book changes), shared by concurrent clients, and a
/// client that stops reading costs no memory beyond the one chunk.
@Suite(.serialized) struct SnapshotChunkingTests {
    typealias Cell = MarketDataCounters

    static func configuration(workPerTurn: Int = 1_024) -> MarketDataConfiguration {
        var c = SnapshotTestRig.defaultConfiguration()
        c.retransmitHistoryMessages = 1 << 20
        c.snapshotWorkPerTurn = workPerTurn
        return c
    }

    @Test func servesALargeBookCompletelyInBoundedChunks() throws {
        let configuration = Self.configuration()
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 80_000, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let resting = agent.publisher.replica.orderCount
        #expect(resting == 80_000, "a large book: \(resting) resting orders")
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        client.login()
        #expect(rig.pump(&agent, [client], seconds: 20) { _ in client.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        let book = try SnapshotBook(client, configuration: configuration)
        #expect(book.orders == resting)
        #expect(book.sequence == agent.publisher.nextSequence)
        #expect(book.differences(from: agent.publisher.replica) == 0)
        // Many chunks, none above the bound; the copy applied every message without a mismatch.
        #expect(rig.counter(Cell.snapshotChunks) >= UInt64(resting / configuration.snapshotWorkPerTurn))
        #expect(rig.counter(Cell.snapshotMaxTurnWork) <= UInt64(configuration.snapshotWorkPerTurn))
        #expect(rig.counter(Cell.snapshotMaxTurnWork) > 0)
        #expect(rig.counter(Cell.snapshotMaxChunkBytes) <= UInt64(configuration.snapshotWorkPerTurn * SnapshotPass.unitBytes + 64))
        // Sending is bounded per duty cycle too: one chunk's worth, whatever the connections.
        #expect(agent.snapshots.maxTurnSentBytes > 0)
        #expect(agent.snapshots.maxTurnSentBytes <= agent.snapshots.pass.chunkCapacity)
        #expect(rig.counter(Cell.snapshotReplicaMismatches) == 0)
        #expect(rig.counter(Cell.snapshotReplicaRebuilds) == 0)
        #expect(rig.counter(Cell.snapshotCatchUpMessages) == agent.publisher.nextSequence - 1)
    }

    /// Half the session is published, a client logs in, and the other half is published while
    /// the snapshot is encoded: the snapshot plus the feed from its stated sequence on equals
    /// the live book at the end.
    @Test func aSnapshotTakenWhileTheBookChangesIsConsistentWithItsSequence() throws {
        let configuration = Self.configuration()
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 40_000, changes: 40_000))
        rig.limit = 40_000
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        client.login()
        #expect(rig.pump(&agent, [client]) { a in a.snapshots.pass.active })
        let frozenAt = agent.snapshots.pass.sequence
        rig.limit = nil
        #expect(rig.pump(&agent, [client], seconds: 20) { _ in client.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        rig.publishAll(&agent)
        var book = try SnapshotBook(client, configuration: configuration)
        #expect(book.sequence == frozenAt)
        // The feed moved on during the pass, and the pass did not follow it.
        #expect(agent.publisher.nextSequence > frozenAt + 1_000)
        #expect(book.differences(from: agent.publisher.replica) > 0)
        try book.apply(agent.publisher.history, upTo: agent.publisher.nextSequence)
        #expect(book.differences(from: agent.publisher.replica) == 0)
        #expect(rig.counter(Cell.snapshotMaxTurnWork) <= UInt64(configuration.snapshotWorkPerTurn))
        // The copy caught up again once the pass was over.
        #expect(rig.pump(&agent, []) { a in a.snapshots.pass.sequence == a.publisher.nextSequence })
    }

    /// The rate cap: with the clock standing still the service sends one chunk's worth and
    /// no more; each 100 ms of time lets it send 100 ms of the rate (plus at most one chunk).
    @Test func sendsNoFasterThanTheRateCapAllows() throws {
        var configuration = Self.configuration()
        configuration.snapshotMaxBytesPerSecond = 1_000_000
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 20_000, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        client.login()
        #expect(rig.pump(&agent, [client]) { a in a.snapshots.pass.active && a.snapshots.bytes > 0 })
        let chunk = UInt64(agent.snapshots.pass.chunkCapacity)
        let start = agent.snapshots.bytes
        rig.turns(&agent, 2_000)
        for _ in 0..<50 { client.poll() }
        #expect(agent.snapshots.bytes - start <= chunk, "sent \(agent.snapshots.bytes - start) bytes with the clock standing still")
        for step in 1...5 {
            rig.clock.advance(milliseconds: 100)
            _ = rig.pump(&agent, [client], seconds: 0.2) { _ in false }
            let allowed = UInt64(step) * 100_000 + 2 * chunk
            #expect(agent.snapshots.bytes - start <= allowed, "after \(step * 100) ms: \(agent.snapshots.bytes - start) bytes, cap \(allowed)")
        }
        #expect(agent.snapshots.bytes - start > chunk, "time let it send more")
        #expect(!client.hasEndOfSnapshot, "a 20,000-order snapshot (about 0.8 MB) at 1 MB/s takes longer than half a second")
    }

    /// Four clients log in while a pass is held by a reader that stopped: they all wait, and
    /// once the stall rule has closed that reader, one pass serves all four the same snapshot.
    @Test func servesSeveralConcurrentClientsFromOnePass() throws {
        let configuration = Self.configuration()
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 20_000, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let (slow, slot) = try rig.stalledReader(&agent, sending: true)
        let clients = try (0..<4).map { _ in try SnapshotTestClient(port: agent.snapshotPort) }
        #expect(rig.pump(&agent, clients) { _ in rig.counter(Cell.snapshotConnections) == 5 })
        for c in clients { c.login() }
        #expect(rig.pump(&agent, clients) { a in
            (0..<a.snapshots.capacity).filter { a.snapshots.isServing($0) && a.snapshots.sessions[$0].phase == .waitingForBuffer }.count == 4
        })
        rig.clock.advance(nanoseconds: MarketDataAgent<ManualClock>.snapshotStallNanoseconds + 1_000_000)
        #expect(rig.pump(&agent, clients, seconds: 20) { _ in clients.allSatisfy(\.hasEndOfSnapshot) && rig.counter(Cell.snapshotsServed) == 4 })
        #expect(rig.counter(Cell.snapshotStalled) == 1)
        #expect(agent.snapshots.passMembers == 4)
        for client in clients {
            let book = try SnapshotBook(client, configuration: configuration)
            #expect(book.sequence == agent.publisher.nextSequence)
            #expect(book.differences(from: agent.publisher.replica) == 0)
        }
        #expect(clients.allSatisfy { $0.sequencedBytes == clients[0].sequencedBytes })
        #expect(rig.counter(Cell.snapshotMaxTurnWork) <= UInt64(configuration.snapshotWorkPerTurn))
        // Four connections, one chunk's worth of bytes handed to the kernel per duty cycle.
        #expect(agent.snapshots.maxTurnSentBytes <= agent.snapshots.pass.chunkCapacity)
    }

    /// The duty cycles of a pass — chunks encoded, sent and completed, the pass ended, the copy
    /// catching up again — allocate nothing (counted on this thread around `doWork` only: the
    /// test's client allocates as it reads).
    @Test func encodesAndSendsAPassWithoutTouchingTheHeap() throws {
        let configuration = Self.configuration()
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 20_000, changes: 2_000))
        rig.limit = 20_000
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        client.login()
        #expect(rig.pump(&agent, [client]) { a in a.snapshots.pass.active })
        rig.limit = nil
        var allocations = 0
        var turns = 0
        let deadline = Deadline(after: .seconds(20))
        while !(client.hasEndOfSnapshot && !agent.snapshots.pass.active && agent.snapshots.pass.sequence == agent.publisher.nextSequence
            && rig.next == rig.events.count) && !deadline.hasPassed {
            while rig.next < rig.events.count && rig.producer.tryPush(SequencedEvent(sequence: UInt64(rig.next + 1), event: rig.events[rig.next])) { rig.next += 1 }
            rtes_malloc_counter_start()
            _ = agent.doWork()
            allocations += Int(rtes_malloc_counter_stop().allocations)
            turns += 1
            client.poll()
        }
        agent.publishCounters()
        #expect(client.hasEndOfSnapshot)
        #expect(rig.counter(Cell.snapshotChunks) > 20)
        #expect(allocations == 0, "\(allocations) allocations in \(turns) duty cycles")
    }

    /// A client that stops reading mid-snapshot: nothing more is encoded for it (the one chunk
    /// buffer is all the memory it holds beyond the kernel's socket buffers), and the send
    /// timeout closes it (`timed_out`).
    @Test func aClientThatStopsReadingHoldsOneChunkAndIsClosedByTheSendTimeout() throws {
        var configuration = Self.configuration()
        configuration.snapshotSendTimeoutNanoseconds = 2_000_000_000
        let rig = try SnapshotTestRig(configuration: configuration, events: SyntheticBook.events(adds: 20_000, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let (slow, slot) = try rig.stalledReader(&agent, sending: true)
        rig.turns(&agent, 200)
        let chunks = rig.counter(Cell.snapshotChunks)
        let sent = agent.snapshots.sessions[slot].passSent
        rig.turns(&agent, 500)
        #expect(rig.counter(Cell.snapshotChunks) == chunks)
        #expect(agent.snapshots.sessions[slot].passSent == sent)
        #expect(agent.snapshots.pass.chunkLength <= agent.snapshots.pass.chunkCapacity)
        #expect(agent.snapshots.pass.chunkCapacity <= configuration.snapshotWorkPerTurn * SnapshotPass.unitBytes + 64)
        // The stall rule needs someone waiting; alone, the send timeout ends it.
        rig.clock.advance(nanoseconds: MarketDataAgent<ManualClock>.snapshotStallNanoseconds + 1_000_000)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.snapshotStalled) == 0)
        rig.clock.advance(nanoseconds: configuration.snapshotSendTimeoutNanoseconds)
        #expect(rig.pump(&agent, []) { _ in rig.counter(Cell.snapshotTimeouts) == 1 })
        #expect(rig.pump(&agent, []) { a in !a.snapshots.pass.active && rig.counter(Cell.snapshotConnectionsOpen) == 0 })
        #expect(rig.counter(Cell.snapshotsServed) == 0)
    }
}

/// The books a client rebuilt from a snapshot's frames, and the sequence its End of Snapshot
/// states.
struct SnapshotBook: ~Copyable {
    var replica: BookReplica
    var sequence: UInt64 = 0
    let instrumentCount: Int
    var orders: Int { replica.orderCount }

    init(_ client: SnapshotTestClient, configuration: MarketDataConfiguration) throws {
        let instruments = configuration.instruments.count
        var books = BookReplica(instrumentCount: instruments, orderCapacity: configuration.orderCapacity)
        var ends: [UInt64] = []
        for frame in client.frames where frame.type == SoupPacketType.sequencedData {
            let message: ITCHMessage? = try frame.payload.withUnsafeBytes { bytes in
                if let end = GlimpseSnapshot.readEndOfSnapshot(bytes) {
                    ends.append(end)
                    return nil
                }
                return try ITCHDecoder.decode(bytes).get()
            }
            guard let message else { continue }
            let outcome = books.apply(message)
            #expect(outcome == .applied || outcome == .ignored, "\(message): \(outcome)")
        }
        #expect(ends.count == 1)
        instrumentCount = instruments
        replica = books
        sequence = ends.first ?? 0
    }

    /// Applies the feed's messages from `sequence` up to `end` (from the publisher's history).
    mutating func apply(_ history: borrowing RetransmitHistory, upTo end: UInt64) throws {
        var out = [UInt8](repeating: 0, count: 65_536)
        var next = sequence
        while next < end {
            let (count, bytes) = out.withUnsafeMutableBytes {
                history.copyBlocks(from: next, maxCount: 1_000, maxBytes: 60_000, to: $0.baseAddress!)
            }
            try #require(count > 0, "sequence \(next) is in the history")
            var offset = 0
            for _ in 0..<count {
                let length = Int(out[offset]) << 8 | Int(out[offset + 1])
                let message = try out[(offset + 2)..<(offset + 2 + length)].withUnsafeBytes { try ITCHDecoder.decode($0).get() }
                let outcome = replica.apply(message)
                #expect(outcome == .applied || outcome == .ignored, "\(message): \(outcome)")
                offset += 2 + length
            }
            #expect(offset == bytes)
            next += UInt64(count)
        }
        sequence = next
    }

    /// Orders (reference, shares, price, attribution, place) or halts that differ from `live`.
    func differences(from live: borrowing BookReplica) -> Int {
        var n = 0
        for i in 0..<instrumentCount {
            let instrument = InstrumentIndex(i)
            if replica.isHalted(instrument) != live.isHalted(instrument) { n += 1 }
            for side in [BookSide.bid, .ask] {
                let a = replica.restingOrders(instrument: instrument, side: side)
                let b = live.restingOrders(instrument: instrument, side: side)
                n += zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count)
            }
        }
        return n
    }
}

/// Book events the replica can follow: `adds` resting orders over the four instruments (bids
/// below the reference price, asks above, 2,000 levels a side, one in eight attributed), then
/// `changes` random partial cancels, deletes, replaces, new orders and halts, each valid for
/// the book as it stands (seeded, so every run is the same).
enum SyntheticBook {
    static func events(adds: Int, changes: Int, seed: UInt64 = 10) -> [EngineEvent] {
        let instruments = FeedRig.makeInstruments()
        var random = seed
        func next() -> UInt64 {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        struct Live { var reference: OrderReference; var instrument: InstrumentIndex; var side: BookSide; var shares: Shares; var price: Price }
        var live: [Live] = []
        var events: [EngineEvent] = []
        var reference: OrderReference = 0
        var time: Timestamp = 1_000
        func add() {
            reference += 1
            time += 1
            let instrument = InstrumentIndex(next() % UInt64(instruments.count))
            let side: BookSide = next() % 2 == 0 ? .bid : .ask
            let offset = Price(1 + next() % 2_000) * 100
            let base = instruments[Int(instrument)].referencePrice
            let price = side == .bid ? base - offset : base + offset
            let shares = Shares(100 * (1 + next() % 10))
            let firm: Firm? = next() % 8 == 0 ? Firm("FIRM") : nil
            events.append(.bookAdd(BookAdd(timestamp: time, instrument: instrument, reference: reference, side: side, shares: shares,
                                           price: price, attribution: firm)))
            live.append(Live(reference: reference, instrument: instrument, side: side, shares: shares, price: price))
        }
        for _ in 0..<adds { add() }
        for _ in 0..<changes {
            time += 1
            let kind = next() % 10
            if live.isEmpty || kind < 2 {
                add()
                continue
            }
            let i = Int(next() % UInt64(live.count))
            let o = live[i]
            switch kind {
            case 2...4 where o.shares > 100:  // a partial cancel
                live[i].shares -= 100
                events.append(.bookReduce(BookReduce(timestamp: time, instrument: o.instrument, reference: o.reference,
                                                     canceledShares: 100, remaining: live[i].shares)))
            case 2...6:  // a delete
                events.append(.bookReduce(BookReduce(timestamp: time, instrument: o.instrument, reference: o.reference,
                                                     canceledShares: o.shares, remaining: 0)))
                live.swapAt(i, live.count - 1)
                live.removeLast()
            case 7, 8:  // a replace: new reference, another price on the same side
                reference += 1
                let offset = Price(1 + next() % 2_000) * 100
                let base = instruments[Int(o.instrument)].referencePrice
                let price = o.side == .bid ? base - offset : base + offset
                let shares = Shares(100 * (1 + next() % 10))
                events.append(.bookReplace(BookReplace(timestamp: time, instrument: o.instrument, previousReference: o.reference,
                                                       reference: reference, shares: shares, price: price)))
                live[i] = Live(reference: reference, instrument: o.instrument, side: o.side, shares: shares, price: price)
            default:  // a halt or a resumption
                events.append(.tradingState(TradingStateChanged(timestamp: time, instrument: o.instrument, halted: next() % 2 == 0)))
            }
        }
        return events
    }
}
