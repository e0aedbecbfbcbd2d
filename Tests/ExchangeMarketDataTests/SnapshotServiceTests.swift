import ExchangeAccess
import ExchangeConfig
import Logging
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import OrderFlow
import Testing

/// The snapshot service and the feed's timers on the test's own thread, with a
/// `ManualClock`: every timeout and heartbeat happens because the test moved time, never
/// because the host was slow. Waits are bounded and only for the kernel to move bytes; the
/// condition waited for is then asserted.
@Suite(.serialized) struct SnapshotServiceTests {
    typealias Cell = MarketDataCounters

    @Test func sendsAMoldUDP64HeartbeatOnlyOnceTheIntervalPassedWithoutAPacket() throws {
        // The feed opens with the day (the engine's start-of-day event) and is silent before.
        let rig = try SnapshotTestRig(heartbeat: 1_000_000_000,
                                      events: [.systemEvent(SystemEventOccurred(timestamp: 0, event: .startOfDay))])
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.turns(&agent, 20)  // the opening packets
        rig.clock.advance(milliseconds: 1)
        rig.turns(&agent, 5)  // the timers see the opening's packets: silence starts now
        let before = rig.counter(Cell.heartbeats)
        rig.clock.advance(milliseconds: 999)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.heartbeats) == before)
        rig.clock.advance(milliseconds: 1)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.heartbeats) == before + 1)
        // The heartbeat is a packet: the next one waits a whole interval again.
        rig.clock.advance(milliseconds: 1)
        rig.turns(&agent, 5)
        rig.clock.advance(milliseconds: 999)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.heartbeats) == before + 1)
        rig.clock.advance(milliseconds: 1)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.heartbeats) == before + 2)
    }

    @Test func closesAConnectionThatDoesNotLogInWithinTheLoginTimeout() throws {
        let rig = try SnapshotTestRig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [client]) { _ in rig.counter(Cell.snapshotConnections) == 1 })
        rig.clock.advance(nanoseconds: rig.configuration.snapshotLoginTimeoutNanoseconds)
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.snapshotTimeouts) == 0)
        #expect(!client.closed)
        rig.clock.advance(milliseconds: 1)
        #expect(rig.pump(&agent, [client]) { _ in client.closed })
        #expect(rig.counter(Cell.snapshotTimeouts) == 1)
        #expect(rig.pump(&agent, []) { _ in rig.counter(Cell.snapshotConnectionsOpen) == 0 })
    }

    @Test func servesTheSnapshotThenSendsHeartbeatsWhileWaitingAndClosesAnIdleClient() throws {
        let rig = try SnapshotTestRig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        client.login()
        #expect(rig.pump(&agent, [client]) { _ in client.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        #expect(client.frames.first?.type == SoupPacketType.loginAccepted)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        let slot = try #require((0..<agent.snapshots.capacity).first { agent.snapshots.table.state($0) == .open })
        let heartbeats = { client.frames.filter { $0.type == SoupPacketType.serverHeartbeat }.count }
        rig.clock.advance(milliseconds: 999)
        rig.turns(&agent, 5)
        #expect(heartbeats() == 0)
        rig.clock.advance(milliseconds: 1)
        // Once its send has completed (the next is timed from then).
        #expect(rig.pump(&agent, [client]) { a in heartbeats() == 1 && !a.snapshots.table.isSending(slot) })
        rig.clock.advance(seconds: 1)
        #expect(rig.pump(&agent, [client]) { a in heartbeats() == 2 && !a.snapshots.table.isSending(slot) })
        // A client heartbeat keeps the connection alive; silence for the idle timeout ends it.
        client.send { SoupBinTCP.clientHeartbeat(to: $0) }
        #expect(rig.pump(&agent, [client]) { a in a.snapshots.sessions[slot].receivedAt == rig.clock.now() })
        rig.clock.advance(nanoseconds: rig.configuration.snapshotIdleTimeoutNanoseconds)
        rig.turns(&agent, 5)
        #expect(!client.closed)
        #expect(rig.counter(Cell.snapshotTimeouts) == 0)
        rig.clock.advance(milliseconds: 1)
        #expect(rig.pump(&agent, [client]) { _ in client.closed })
        #expect(rig.counter(Cell.snapshotTimeouts) == 1)
    }

    @Test func refusesAndCountsAConnectionWhenEverySlotIsTaken() throws {
        var configuration = SnapshotTestRig.defaultConfiguration()
        configuration.maxSnapshotConnections = 2
        configuration.maxSnapshotPreLoginConnections = 2
        let rig = try SnapshotTestRig(configuration: configuration)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let first = try SnapshotTestClient(port: agent.snapshotPort)
        let second = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [first, second]) { _ in rig.counter(Cell.snapshotConnections) == 2 })
        let third = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [first, second, third]) { _ in third.closed })
        #expect(rig.counter(Cell.snapshotRefused) == 1)
        let check1 = agent.snapshots.table.stats.refusedTableFull == 1
        #expect(check1)
        #expect(!first.closed && !second.closed)
        #expect(rig.counter(Cell.snapshotConnectionsOpen) == 2)
    }

    /// Silent sockets hold at most the pre-login share: one beyond it is refused at once, a
    /// logged-in client keeps its slot, and once the login timeout has closed the silent
    /// ones a late joiner is served.
    @Test func silentConnectionsHoldOnlyThePreLoginShareAndALateJoinerIsServedAfterTheirLoginTimeout() throws {
        var configuration = SnapshotTestRig.defaultConfiguration()
        configuration.maxSnapshotConnections = 4
        configuration.maxSnapshotPreLoginConnections = 2
        let rig = try SnapshotTestRig(configuration: configuration)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let early = try SnapshotTestClient(port: agent.snapshotPort)
        early.login()
        #expect(rig.pump(&agent, [early]) { _ in early.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        let silent = [try SnapshotTestClient(port: agent.snapshotPort), try SnapshotTestClient(port: agent.snapshotPort)]
        #expect(rig.pump(&agent, silent) { _ in rig.counter(Cell.snapshotConnections) == 3 })
        let third = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, silent + [third]) { _ in third.closed })
        let check2 = agent.snapshots.table.stats.refusedPreLoginFull == 1
        #expect(check2)
        #expect(rig.counter(Cell.snapshotRefused) == 1)
        let check3 = agent.snapshots.table.preLoginCount == 2
        #expect(check3)
        // Past the login timeout (the logged-in client keeps talking, so it stays).
        early.send { SoupBinTCP.clientHeartbeat(to: $0) }
        rig.clock.advance(nanoseconds: rig.configuration.snapshotLoginTimeoutNanoseconds + 1_000_000)
        #expect(rig.pump(&agent, silent + [early]) { _ in silent.allSatisfy(\.closed) })
        #expect(rig.counter(Cell.snapshotTimeouts) == 2)
        #expect(!early.closed)
        let late = try SnapshotTestClient(port: agent.snapshotPort)
        late.login()
        #expect(rig.pump(&agent, [late, early]) { _ in late.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 2 })
        #expect(rig.counter(Cell.snapshotsServed) == 2)
        #expect(!early.closed)
    }

    /// A completion for an earlier occupant of a slot (closed, slot reused by a new
    /// connection) is ignored: it neither closes nor disturbs the new connection.
    /// More silent sockets from one host than the service has slots: the host holds its
    /// address's share of the pre-login slots, the rest are closed at once (counted), and a
    /// late joiner from another address logs in and is served at once.
    @Test func silentSocketsFromOneHostDoNotBlockALateJoiner() throws {
        let configuration = SnapshotTestRig.defaultConfiguration()  // 16 slots, 8 before login, 4 per address
        let rig = try SnapshotTestRig(configuration: configuration)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let silent = try (0..<20).map { _ in try SnapshotTestClient(port: agent.snapshotPort, source: 0x7F00_0001) }
        #expect(rig.pump(&agent, silent) { _ in rig.counter(Cell.snapshotRefused) == 16 })
        let check1 = agent.snapshots.table.stats.refusedAddressLimit == 16 && agent.snapshots.table.preLoginCount == 4
        #expect(check1, "the host holds 4 slots")
        #expect(silent.filter(\.closed).count == 16)
        let late = try SnapshotTestClient(port: agent.snapshotPort, source: 0x7F00_0002)
        late.login()
        #expect(rig.pump(&agent, silent + [late]) { _ in late.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        #expect(rig.counter(Cell.snapshotConnectionsOpen) == 5)
    }

    @Test func ignoresAStaleCompletionForASlotThatWasReused() throws {
        let rig = try SnapshotTestRig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let first = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [first]) { _ in rig.counter(Cell.snapshotConnections) == 1 })
        let slot = try #require((0..<agent.snapshots.capacity).first { agent.snapshots.table.state($0) == .open })
        let oldGeneration = agent.snapshots.table.generation(slot)
        first.send { SoupBinTCP.logoutRequest(to: $0) }
        #expect(rig.pump(&agent, [first]) { a in a.snapshots.table.state(slot) == .free })
        let second = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [second]) { a in a.snapshots.table.state(slot) == .open })
        let check4 = agent.snapshots.table.generation(slot) != oldGeneration
        #expect(check4)
        // What the kernel could still post for the first occupant: its receive ending, a send failing.
        let base = SnapshotService.tagBase
        agent.handle(Completion(tag: CompletionTag(kind: .init(rawValue: base + 1), index: slot, generation: oldGeneration), result: 0))
        agent.handle(Completion(tag: CompletionTag(kind: .init(rawValue: base + 2), index: slot, generation: oldGeneration),
                                result: -EPIPE))
        let check5 = agent.snapshots.table.stats.staleCompletions == 2
        #expect(check5)
        let check6 = agent.snapshots.table.state(slot) == .open
        #expect(check6)
        second.login()
        #expect(rig.pump(&agent, [second]) { _ in second.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        #expect(!second.closed)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
    }

    /// A reader that stops reading holds its pass while a late joiner waits: the stall rule
    /// closes it (`stalled`) while its chunk is still in the kernel; the pass stays its own
    /// until the slot is released, and only then does the next pass start — whole and correct.
    @Test func closesASlowReaderWithAChunkInFlightAndServesTheNextClientAWholeSnapshot() throws {
        var configuration = SnapshotTestRig.defaultConfiguration()
        configuration.snapshotWorkPerTurn = 4_096
        let rig = try SnapshotTestRig(configuration: configuration, commands: 40_000)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let (slow, slot) = try rig.stalledReader(&agent, sending: false)
        // The slow reader's send stays in flight: the kernel has no room for it, and no
        // further chunk is encoded for it.
        rig.turns(&agent, 100)
        let chunks = rig.counter(Cell.snapshotChunks)
        rig.turns(&agent, 100)
        #expect(rig.counter(Cell.snapshotChunks) == chunks)
        let check7 = agent.snapshots.table.isSending(slot)
        #expect(check7)
        let next = try SnapshotTestClient(port: agent.snapshotPort)
        next.login()
        #expect(rig.pump(&agent, [next]) { a in
            (0..<a.snapshots.capacity).contains { a.snapshots.isServing($0) && a.snapshots.sessions[$0].phase == .waitingForBuffer }
        })
        rig.clock.advance(nanoseconds: MarketDataAgent<ManualClock>.snapshotStallNanoseconds + 1_000_000)
        // The turn whose timers close it: its chunk is still in flight, so the slot is closing
        // and the pass is still the slow reader's.
        var turns = 0
        while rig.counter(Cell.snapshotStalled) == 0 && turns < 1_000 {
            rig.turns(&agent, 1)
            turns += 1
        }
        #expect(rig.counter(Cell.snapshotStalled) == 1)
        #expect(rig.counter(Cell.snapshotTimeouts) == 0)
        let check9 = agent.snapshots.table.state(slot) == .closing
        #expect(check9)
        let check10 = agent.snapshots.table.isSending(slot)
        #expect(check10)
        let check11 = agent.snapshots.sessions[slot].inPass
        #expect(check11)
        #expect(rig.pump(&agent, [next]) { _ in next.hasEndOfSnapshot && rig.counter(Cell.snapshotsServed) == 1 })
        let check12 = agent.snapshots.table.state(slot) != .closing
        #expect(check12)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        #expect(next.frames.first?.type == SoupPacketType.loginAccepted)
        #expect(next.frames.dropFirst().allSatisfy { $0.type == SoupPacketType.sequencedData || $0.type == SoupPacketType.serverHeartbeat })
        let book = try SnapshotBook(next, configuration: configuration)
        #expect(book.sequence == agent.publisher.nextSequence)
        #expect(book.differences(from: agent.publisher.replica) == 0)
    }

    /// `onClose` with a snapshot connection mid-send, one not logged in and re-request
    /// receives armed: every operation drained, every descriptor of the agent's closed.
    @Test func closesEveryDescriptorAndDrainsWhatIsInFlightOnClose() throws {
        let rig = try SnapshotTestRig(commands: 40_000)
        var agent = try rig.makeAgent()
        rig.publishAll(&agent)
        let slow = try SnapshotTestClient(port: agent.snapshotPort, receiveBuffer: 4_096, reads: false)
        let silent = try SnapshotTestClient(port: agent.snapshotPort)
        #expect(rig.pump(&agent, [slow, silent]) { _ in rig.counter(Cell.snapshotConnections) == 2 })
        var size: Int32 = 4_096
        var descriptors = [agent.feedFD, agent.retransmitFD, agent.snapshots.table.listenerDescriptor]
        for slot in 0..<agent.snapshots.capacity where agent.snapshots.table.state(slot) == .open {
            descriptors.append(agent.snapshots.table.descriptor(slot))
            _ = setsockopt(agent.snapshots.table.descriptor(slot), SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        slow.login()
        #expect(rig.pump(&agent, [slow]) { a in a.snapshots.pass.active })
        rig.turns(&agent, 100)
        let owner = try #require((0..<agent.snapshots.capacity).first { agent.snapshots.sessions[$0].inPass })
        let sending = agent.snapshots.table.isSending(owner)
        #expect(sending)
        // Other tests run beside this one and may reuse a number: a descriptor counts as
        // closed when it is gone or names another socket.
        let identities = descriptors.map(descriptorIdentity)
        #expect(identities.allSatisfy { $0 != nil })
        agent.onClose()
        let occupied = agent.snapshots.table.occupied
        #expect(occupied == 0)
        let inFlight = agent.operationsInFlight
        #expect(inFlight == 0)
        for (fd, identity) in zip(descriptors, identities) { #expect(descriptorIdentity(fd) != identity, "descriptor \(fd)") }
        // The listener is closed: its descriptor is gone (checked above with the others). Not
        // by connecting to its port: a test beside this one may have been given that port since.
        #expect(agent.snapshots.table.listenerDescriptor == -1)
        silent.poll()
        #expect(silent.closed)
        _ = consume agent
    }
}

/// What a descriptor names ("socket:[inode]"), nil when it is not open (try?: the error of
/// reading the link of a closed descriptor is that answer).
func descriptorIdentity(_ fd: Int32) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
}

/// An agent on a `ManualClock`, driven by the test's thread.
final class SnapshotTestRig {
    let clock = ManualClock()
    let configuration: MarketDataConfiguration
    let countersMemory: UnsafeMutableRawPointer
    let cells: CounterCells
    var ring: SPSCRing<SequencedEvent>
    var producer: SPSCRing<SequencedEvent>.Producer
    let events: [EngineEvent]
    var next = 0
    /// Events pushed at most (nil: all).
    var limit: Int?

    static func defaultConfiguration(heartbeat: UInt64 = 1_000_000_000) -> MarketDataConfiguration {
        var c = MarketDataConfiguration(
            session: SoupSessionName("SNAP")!, instruments: FeedRig.makeInstruments(), orderCapacity: 100_000,
            group: FeedRig.uniqueGroup() &+ 2, port: UInt16(freeUDPPort()), interface: 0x7F00_0001, ttl: 0, loopback: true,
            sendBufferBytes: 1 << 20, maxPayloadBytes: 1_400, heartbeatIntervalNanoseconds: heartbeat, bindAddress: 0x7F00_0001,
            retransmitPort: 0, retransmitHistoryMessages: 1 << 16, retransmitMaxRequestsPerSecond: 1_000, snapshotPort: 0,
            snapshotLoginRequired: true)
        c.snapshotLoginTimeoutNanoseconds = 5_000_000_000
        c.snapshotIdleTimeoutNanoseconds = 15_000_000_000
        return c
    }

    init(configuration: MarketDataConfiguration = SnapshotTestRig.defaultConfiguration(), heartbeat: UInt64? = nil,
         commands: Int = 0, events given: [EngineEvent]? = nil) throws {
        var c = configuration
        if let heartbeat { c.heartbeatIntervalNanoseconds = heartbeat }
        self.configuration = c
        countersMemory = .allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        cells = CounterCells(base: countersMemory)
        ring = SPSCRing<SequencedEvent>(capacity: 4_096)
        producer = ring.makeProducer()
        if let given {
            events = given
        } else if commands > 0 {
            let instruments = c.instruments
            let engineConfiguration = EngineConfiguration(instruments: instruments, orderPoolSize: c.orderCapacity, maxClients: 16,
                                                          priceLevels: 4_096)
            let limits = RiskLimits(maxOrderShares: 100_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000,
                                    priceCollarsEnabled: true)
            var engine = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
            var recorder = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
            var profile = OrderFlowProfile.realistic(instruments: instruments, clients: 8)
            profile.weights.cancel = 0
            profile.weights.aggressive = 0
            profile.weights.market = 0
            profile.depthTarget = 1_000_000
            let stream = OrderFlowGenerator.record(profile: profile, seed: 21, count: commands) { recorder.runCollecting($0) }
            events = stream.flatMap { engine.runCollecting($0) }.filter(\.isBookEvent)
        } else {
            events = []
        }
    }

    var authenticator: AuthenticatorBox?

    deinit { countersMemory.deallocate() }

    /// ALICE / s3cret, checked by an authenticator this rig turns with the agent.
    static let keys = try! APIKeys.parse(
        json: #"{"accounts": [{"username": "ALICE", "secret": "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "firm": "ALCE"}]}"#,
        source: "snapshot-test")

    func makeAgent() throws -> MarketDataAgent<ManualClock> {
        let logins = LoginChannel(service: "snapshot", capacity: 16)
        authenticator = AuthenticatorBox(try Authenticator(
            keys: Self.keys, policy: LoginThrottle.Policy(maxFailures: 1_000, backoff: 0, maxBackoff: 0, lockout: 1_000_000_000,
                                                          trackedAddresses: 16),
            channels: [logins], clock: clock, cells: cells, logger: Logger(label: "snapshot-rig")))
        var agent = try MarketDataAgent(configuration: configuration, clock: clock, events: ring.makeConsumer(), logins: logins.makeClient(),
                                        cells: cells,
                                        upstreamFinished: { true })
        try agent.onStart()
        return agent
    }

    func counter(_ cell: CounterCell) -> UInt64 { try! cells.register(MarketDataCounters.block).load(cell) }

    /// `count` duty cycles, the clock standing still.
    func turns(_ agent: inout MarketDataAgent<ManualClock>, _ count: Int) {
        for _ in 0..<count {
            while next < min(events.count, limit ?? .max) && producer.tryPush(SequencedEvent(sequence: UInt64(next + 1), event: events[next])) { next += 1 }
            _ = authenticator?.agent.doWork()
            _ = agent.doWork()
            agent.publishCounters()  // every turn, so the test reads them at once (the agent: once a millisecond)
        }
    }

    /// Every recorded book event, published.
    func publishAll(_ agent: inout MarketDataAgent<ManualClock>) {
        let deadline = Deadline(after: .seconds(30))
        let total = min(events.count, limit ?? .max)
        while (next < total || counter(Cell.events) < UInt64(total)) && !deadline.hasPassed {
            turns(&agent, 16)
            clock.advance(milliseconds: 1)  // lets the counters be published
        }
        #expect(next == total && counter(Cell.events) >= UInt64(total),
                "published \(counter(Cell.events)) of \(total) book events in 30 s")
    }

    typealias Cell = MarketDataCounters

    /// Turns the agent and reads the clients until `done` holds, for at most `seconds` of
    /// the host's time (the kernel moving bytes); the clock stands still.
    func pump(_ agent: inout MarketDataAgent<ManualClock>, _ clients: [SnapshotTestClient], seconds: Double = 5,
              until done: (borrowing MarketDataAgent<ManualClock>) -> Bool) -> Bool {
        let deadline = Deadline(seconds: seconds)
        repeat {
            turns(&agent, 1)
            for c in clients { c.poll() }
            if done(agent) { return true }
        } while !deadline.hasPassed
        return false
    }

    /// A client that logs in and never reads, with small socket buffers on both sides so
    /// that the chunks cannot all sit in the kernel: returned once its connection is in a
    /// pass (and, with `sending`, once a send of it is in flight), with its slot.
    func stalledReader(_ agent: inout MarketDataAgent<ManualClock>, sending: Bool) throws -> (client: SnapshotTestClient, slot: Int) {
        let slow = try SnapshotTestClient(port: agent.snapshotPort, receiveBuffer: 4_096, reads: false)
        #expect(pump(&agent, [slow]) { _ in self.counter(Cell.snapshotConnections) == 1 })
        let slot = try #require((0..<agent.snapshots.capacity).first { agent.snapshots.table.state($0) == .open })
        var size: Int32 = 4_096
        #expect(setsockopt(agent.snapshots.table.descriptor(slot), SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size)) == 0)
        slow.login()
        #expect(pump(&agent, [slow]) { a in a.snapshots.sessions[slot].inPass && (!sending || a.snapshots.table.isSending(slot)) })
        return (slow, slot)
    }
}

/// Holds the rig's authenticator (a noncopyable agent) so the rig can turn it.
final class AuthenticatorBox {
    var agent: Authenticator<ManualClock>
    init(_ agent: consuming Authenticator<ManualClock>) { self.agent = agent }
}

/// A SoupBinTCP client of the snapshot service over a non-blocking loopback socket.
final class SnapshotTestClient {
    let fd: Int32
    let reads: Bool
    private(set) var closed = false
    private var bytes: [UInt8] = []
    private(set) var frames: [(type: UInt8, payload: [UInt8])] = []

    /// `source`: a loopback address (127.x.y.z, host byte order) to connect from.
    init(port: UInt16, receiveBuffer: Int? = nil, reads: Bool = true, source: UInt32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        if var size = receiveBuffer.map(Int32.init) {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = MarketDataSockets.socketAddress(source, 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw RigError.http(0, "bind \(source): errno \(errno)")
            }
        }
        var address = MarketDataSockets.socketAddress(0x7F00_0001, port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw RigError.http(0, "connect: errno \(errno)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.reads = reads
    }

    deinit { close(fd) }

    func send(_ write: (UnsafeMutableRawPointer) -> Int) {
        var out = [UInt8](repeating: 0, count: 128)
        let n = out.withUnsafeMutableBytes { write($0.baseAddress!) }
        _ = Glibc.send(fd, out, n, Int32(MSG_NOSIGNAL))
    }

    func login(username: String = "ALICE", password: String = "s3cret") {
        send { SoupBinTCP.loginRequest(username: SoupUsername(username)!, password: SoupPassword(password)!, to: $0) }
    }

    /// Reads what arrived (unless this client is the one that does not read), splits frames.
    func poll() {
        guard reads, !closed else { return }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if n > 0 {
                bytes += chunk[0..<n]
                continue
            }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { closed = true }
            break
        }
        while bytes.count >= 2 {
            let length = Int(bytes[0]) << 8 | Int(bytes[1])
            guard bytes.count >= 2 + length, length >= 1 else { break }
            frames.append((bytes[2], Array(bytes[3..<(2 + length)])))
            bytes.removeFirst(2 + length)
        }
    }

    var hasEndOfSnapshot: Bool {
        frames.contains { $0.type == SoupPacketType.sequencedData && $0.payload.first == GlimpseSnapshot.endOfSnapshotType }
    }

    /// Bytes of the Sequenced Data frames (headers included).
    var sequencedBytes: Int {
        frames.filter { $0.type == SoupPacketType.sequencedData }.reduce(0) { $0 + SoupBinTCP.headerLength + $1.payload.count }
    }
}
