import ExchangeBookReplica
import ExchangeClock
import ExchangeCore
import ExchangeFeed
@testable import ExchangeMarketData
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Synchronization
import Testing

/// The exchange restarts under a feed handler: real market-data agents on loopback, one
/// after the other on the same group (the first closed without End of Session, as a crash
/// leaves it), each on a `ManualClock` turned by the test's thread — or by a thread of the
/// test's while the handler fetches a snapshot, which blocks. The handler must notice, say
/// so, and end with the books of the publisher that is running.
@Suite(.serialized) struct FeedRestartTests {
    typealias Cell = MarketDataCounters

    @Test func aFeedThatStartsPastOneAnswersReRequestsBeforeItsFirstMessageAsBeforeTheHistory() throws {
        var configuration = SnapshotTestRig.defaultConfiguration()
        configuration.firstSequence = 1_000
        configuration.snapshotLoginRequired = false
        let rig = try SnapshotTestRig(configuration: configuration, commands: 100)
        let client = try FeedRestartTests.client(configuration)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        #expect(agent.publisher.history.oldestSequence == 1_000 && agent.publisher.nextSequence > 1_050)
        #expect(rig.counter(Cell.nextSequence) == agent.publisher.nextSequence)
        // The first live packet is numbered 1000.
        var firstLive: UInt64?
        client.onPacket = { packet, _ in
            if firstLive == nil, case .success(let p) = MoldUDP64.readPacket(packet) { firstLive = p.sequence }
        }
        let requester = try FeedClient(group: 0xEFFF_FFF0, port: UInt16(freeUDPPort()), interface: 0x7F00_0001,
                                       retransmitHost: 0x7F00_0001, retransmitPort: agent.retransmitPort,
                                       instrumentCount: configuration.instruments.count, orderCapacity: 1_000)
        func ask(_ sequence: UInt64, _ count: UInt16) {
            var request = [UInt8](repeating: 0, count: 20)
            _ = request.withUnsafeMutableBytes {
                MoldUDP64.writeRequest(session: configuration.session, sequence: sequence, count: count, to: $0.baseAddress!)
            }
            request.withUnsafeBytes { _ = requester.sendToRetransmitServer($0) }
        }
        let before = rig.counter(Cell.retransmitBeforeHistory)
        for sequence: UInt64 in [1, 500, 999] { ask(sequence, 5) }
        #expect(rig.pump(&agent, []) { _ in rig.counter(Cell.retransmitBeforeHistory) == before + 3 })
        #expect(rig.counter(Cell.retransmitAnswered) == 0)
        ask(1_000, 5)
        #expect(rig.pump(&agent, []) { _ in rig.counter(Cell.retransmitAnswered) == 1 })
        var answer: (sequence: UInt64, count: Int)?
        let deadline = Deadline(seconds: 5)
        while answer == nil && !deadline.hasPassed {
            requester.onAnswer = { packet in
                if case .success(let p) = MoldUDP64.readPacket(packet) { answer = (p.sequence, p.messageCount) }
            }
            requester.poll(timeoutMilliseconds: 10)
        }
        #expect(answer?.sequence == 1_000 && answer?.count == 5)
        // A handler that joins such a feed sees it start at 1000.
        let followed = Deadline(seconds: 5)
        while client.handler.newestSeen < agent.publisher.nextSequence && !followed.hasPassed {
            rig.turns(&agent, 4)
            client.poll(timeoutMilliseconds: 1)
        }
        #expect(firstLive == 1_000)
        // The snapshot service's copy starts at the first sequence: no rebuild, End of Snapshot at the feed's next.
        let snapshot = try SnapshotTestClient(port: agent.snapshotPort)
        snapshot.login()
        #expect(rig.pump(&agent, [snapshot]) { _ in snapshot.hasEndOfSnapshot })
        let end = snapshot.frames.last { $0.type == SoupPacketType.sequencedData }.flatMap { frame in
            frame.payload.withUnsafeBytes { GlimpseSnapshot.readEndOfSnapshot($0) }
        }
        #expect(end == agent.publisher.nextSequence)
        #expect(rig.counter(Cell.snapshotReplicaRebuilds) == 0)
    }

    @Test func aHandlerFollowsANewSessionFromItsFirstMessageWithoutASnapshotAndSaysWhichSessionsChanged() throws {
        let base = SnapshotTestRig.defaultConfiguration()
        var first = base
        first.session = SoupSessionName("MA20261207")!
        var second = base
        second.session = SoupSessionName("MA20261208")!
        let client = try Self.client(base)
        let before = try SnapshotTestRig(configuration: first, commands: 300)
        var agent = try before.makeAgent()
        before.publishAll(&agent)
        #expect(follow(client, before, &agent))
        let previousNext = agent.publisher.nextSequence
        #expect(try Self.sameBooks(client.handler.replica, agent.publisher.replica, base))
        agent.onClose()  // no End of Session: as a crash leaves the feed
        _ = consume agent

        var restarts: [FeedHandler.Restart] = []
        client.onRestart = { restarts.append($0) }
        let after = try SnapshotTestRig(configuration: second, commands: 120)
        var restarted = try after.makeAgent()
        defer { restarted.onClose() }
        after.publishAll(&restarted)
        #expect(follow(client, after, &restarted))
        #expect(restarts == [FeedHandler.Restart(kind: .newSession, previousSession: first.session, previousSequence: previousNext,
                                                 session: second.session, sequence: 1)])
        #expect(restarts.first?.description
            == "the exchange restarted: the feed's session changed from MA20261207 (next sequence \(previousNext)) to MA20261208 (at sequence 1)")
        #expect(client.handler.counters.restarts == 1 && client.restarts == 1)
        #expect(client.handler.incompleteSince == nil)
        #expect(client.handler.session == second.session)
        #expect(client.lastResynchronisation == nil)
        #expect(try Self.sameBooks(client.handler.replica, restarted.publisher.replica, base))
        #expect(client.handler.counters.messageErrors == 0, "\(client.handler.counters.lastError ?? "")")
    }

    @Test func withoutAnAccountAHandlerWhoseSequenceGoesBackStartsAFreshBookAndSaysItIsIncomplete() throws {
        let configuration = SnapshotTestRig.defaultConfiguration()
        let client = try Self.client(configuration)
        let before = try SnapshotTestRig(configuration: configuration, commands: 300)
        var agent = try before.makeAgent()
        before.publishAll(&agent)
        #expect(follow(client, before, &agent))
        let previousNext = agent.publisher.nextSequence
        agent.onClose()
        _ = consume agent

        // The exchange comes back within the session with 40 messages fewer than it had published.
        var lower = configuration
        lower.firstSequence = previousNext - 40
        let after = try SnapshotTestRig(configuration: lower, commands: 80)
        var restarted = try after.makeAgent()
        defer { restarted.onClose() }
        after.publishAll(&restarted)
        #expect(follow(client, after, &restarted))
        let restart = FeedHandler.Restart(kind: .sequenceBackwards, previousSession: configuration.session, previousSequence: previousNext,
                                          session: configuration.session, sequence: previousNext - 40)
        #expect(client.handler.lastRestart == restart)
        #expect(restart.description == "the exchange restarted: session SNAP went back from sequence \(previousNext) to \(previousNext - 40)")
        #expect(client.handler.incompleteSince == restart)
        #expect(client.restarts == 1 && client.lastResynchronisation == nil)
        // The fresh book is exactly what the restarted publisher has published since (its own replica started empty).
        #expect(client.handler.replica.orderCount > 0)
        #expect(try Self.sameBooks(client.handler.replica, restarted.publisher.replica, configuration))
    }

    @Test func withAnAccountAHandlerWhoseSequenceGoesBackRejoinsThroughTheSnapshotAndEndsWithThePublishersBooks() throws {
        let configuration = SnapshotTestRig.defaultConfiguration()
        let client = try Self.client(configuration)
        let before = try SnapshotTestRig(configuration: configuration, commands: 300)
        var agent = try before.makeAgent()
        before.publishAll(&agent)
        #expect(follow(client, before, &agent))
        let previousNext = agent.publisher.nextSequence
        agent.onClose()
        _ = consume agent

        var lower = configuration
        lower.firstSequence = previousNext - 100
        let after = try SnapshotTestRig(configuration: lower, commands: 400)
        // The snapshot fetch blocks: the restarted agent lives on a thread of the test's (its
        // ring's single issuer) from its start to its close.
        let running = try AgentThread(after)
        var restarts = 0
        client.onRestart = { _ in restarts += 1 }
        client.resynchronisation = FeedClient.SnapshotAccount(host: 0x7F00_0001, port: running.snapshotPort,
                                                              username: SoupUsername("ALICE")!, password: SoupPassword("s3cret")!)
        let deadline = Deadline(seconds: 10)
        while client.lastResynchronisation == nil && !deadline.hasPassed { client.poll(timeoutMilliseconds: 5) }
        let noticed = client.lastResynchronisation
        // Then everything the restarted agent publishes, to its last event.
        let followed = Deadline(seconds: 10)
        while !(running.published == UInt64(after.events.count) && client.handler.expected == running.nextSequence
                && !client.handler.isRecovering) && !followed.hasPassed {
            client.poll(timeoutMilliseconds: 1)
        }
        var books = BookReplica(instrumentCount: configuration.instruments.count, orderCapacity: configuration.orderCapacity)
        let mismatches = running.stop(copyingBooksInto: &books)
        #expect(restarts == 1)
        #expect(client.handler.lastRestart?.kind == .sequenceBackwards && client.handler.lastRestart?.sequence == previousNext - 100)
        guard case .success(let continuesAt) = noticed else {
            Issue.record("no resynchronisation: \(String(describing: noticed))")
            return
        }
        #expect(continuesAt >= previousNext - 100)
        #expect(client.handler.incompleteSince == nil)
        #expect(before.counter(Cell.replicaMismatches) == 0 && mismatches == 0)
        #expect(try Self.sameBooks(client.handler.replica, books, configuration))
        #expect(client.handler.replica.orderCount > 0)
        #expect(client.handler.counters.messageErrors == 0, "\(client.handler.counters.lastError ?? "")")
    }

    // MARK: Helpers

    /// A feed client on the rig's group; its re-requests go nowhere useful (each agent has a
    /// port of its own): on loopback nothing is lost, so none is needed.
    static func client(_ configuration: MarketDataConfiguration) throws -> FeedClient {
        try FeedClient(group: configuration.group, port: configuration.port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                       retransmitPort: 9, instrumentCount: configuration.instruments.count, orderCapacity: configuration.orderCapacity)
    }

    /// Turns the agent and polls the client until the client has applied everything the
    /// agent published (bounded: 10 s of the host's time).
    func follow(_ client: FeedClient, _ rig: SnapshotTestRig, _ agent: inout MarketDataAgent<ManualClock>) -> Bool {
        let deadline = Deadline(seconds: 10)
        repeat {
            rig.turns(&agent, 2)
            client.poll(timeoutMilliseconds: 1)
            if client.handler.expected == agent.publisher.nextSequence && !client.handler.isRecovering { return true }
        } while !deadline.hasPassed
        return false
    }

    /// Whether two books hold the same resting orders, in the same order, on every side of
    /// every instrument, and the same halts.
    static func sameBooks(_ a: borrowing BookReplica, _ b: borrowing BookReplica, _ configuration: MarketDataConfiguration) throws -> Bool {
        guard a.orderCount == b.orderCount else { return false }
        for i in 0..<configuration.instruments.count {
            let instrument = InstrumentIndex(i)
            guard a.isHalted(instrument) == b.isHalted(instrument) else { return false }
            for side in [BookSide.bid, .ask] where a.restingOrders(instrument: instrument, side: side)
                != b.restingOrders(instrument: instrument, side: side) {
                return false
            }
        }
        return true
    }
}

/// A rig's agent on a thread of its own for its whole life (its ring's single issuer):
/// started there, turned there (every event pushed) until `stop`, closed there.
final class AgentThread: @unchecked Sendable {
    private(set) var snapshotPort: UInt16 = 0
    private let stopping = StopFlag()
    private let progress = Progress()
    private let done = DispatchSemaphore(value: 0)
    private var mismatches: UInt64 = 0

    final class Progress: Sendable {
        let nextSequence = Atomic<UInt64>(0)
        let published = Atomic<UInt64>(0)
    }

    init(_ rig: SnapshotTestRig) throws {
        let started = DispatchSemaphore(value: 0)
        let port = Atomic<Int>(-1)
        let box = UncheckedBox((rig, self))
        let thread = Thread {
            let (rig, me) = box.value
            guard var agent = try? rig.makeAgent() else {
                me.stopped = true
                started.signal()
                me.done.signal()
                return
            }
            port.store(Int(agent.snapshotPort), ordering: .releasing)
            started.signal()
            while !me.stopping.raised.load(ordering: .acquiring) {
                rig.turns(&agent, 1)
                me.progress.nextSequence.store(agent.publisher.nextSequence, ordering: .releasing)
                me.progress.published.store(rig.counter(MarketDataCounters.events), ordering: .releasing)
            }
            me.copy(agent.publisher.replica)
            me.mismatches = rig.counter(MarketDataCounters.replicaMismatches)
            agent.onClose()
            me.done.signal()
        }
        thread.start()
        started.wait()
        let bound = port.load(ordering: .acquiring)
        guard bound >= 0 else {
            done.wait()
            throw RigError.http(0, "the agent did not start")
        }
        snapshotPort = UInt16(bound)
    }

    private var stopped = false

    /// A test that ends early still leaves no thread behind.
    deinit {
        if !stopped {
            stopping.raised.store(true, ordering: .releasing)
            done.wait()
        }
    }

    /// Where the thread copies the books when it stops (set before the stop flag is raised).
    private var target: UnsafeMutablePointer<BookReplica>?

    private func copy(_ replica: borrowing BookReplica) {
        target?.pointee.copy(from: replica)
    }

    /// The sequence number the agent publishes next, and the book events it has consumed.
    var nextSequence: UInt64 { progress.nextSequence.load(ordering: .acquiring) }
    var published: UInt64 { progress.published.load(ordering: .acquiring) }

    /// Stops the thread (the agent copies its books into `books` and closes); returns the
    /// publisher's replica mismatches.
    func stop(copyingBooksInto books: inout BookReplica) -> UInt64 {
        withUnsafeMutablePointer(to: &books) { pointer in
            target = pointer
            stopping.raised.store(true, ordering: .releasing)
            done.wait()
            target = nil
        }
        stopped = true
        return mismatches
    }
}

final class StopFlag: Sendable {
    let raised = Atomic<Bool>(false)
}

/// Carries non-Sendable references to the pump thread, which alone uses them until joined.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
