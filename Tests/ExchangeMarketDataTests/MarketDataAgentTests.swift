import ExchangeAccess
import ExchangeConfig
import Logging
import CExchangeShim
import CMallocCounter
import ExchangeBookReplica
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeFeed
import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestRig
import ExchangeWire
import Foundation
import Glibc
import OrderFlow
import Testing

@Suite(.serialized) struct MarketDataAgentTests {
    typealias Cell = MarketDataCounters

    /// Malformed requests, a wrong session, requests outside the history and a flood from one
    /// requester: each gets its outcome and counter, and a well-behaved receiver losing
    /// packets at the same time still recovers everything.
    @Test func answersMalformedRequestsAndFloodsWithTheirOutcomesWithoutDisturbingOtherReceivers() throws {
        let rig = try FeedRig(commandCount: 20_000, seed: 99, rate: 20_000, history: 16_384, requestsPerSecond: 400)
        let receiver = try rig.receiver()
        var random = SplitMix64(seed: 11)
        receiver.drop = { _, _ in random.next() % 50 == 0 }
        let flooder = try rig.receiver()
        try rig.start()
        #expect(pump([receiver, flooder], seconds: 10) { receiver.handler.expected > 5_000 })

        func send(_ bytes: [UInt8]) { bytes.withUnsafeBytes { _ = flooder.sendToRetransmitServer($0) } }
        func request(_ session: SoupSessionName, _ sequence: UInt64, _ count: UInt16) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 20)
            _ = out.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: session, sequence: sequence, count: count, to: $0.baseAddress!) }
            return out
        }
        send([1, 2, 3])
        send(request(rig.session, 1, 1) + [0])
        send(request(rig.session, 0, 5))
        send(request(rig.session, 5, 0))
        send(request(SoupSessionName("NOTOURS")!, 10, 5))
        send(request(rig.session, 1_000_000_000, 1))
        #expect(pump([receiver, flooder], seconds: 10) { rig.counter(Cell.historyOldest) > 1 })
        send(request(rig.session, 1, 10))
        // The flood: 20,000 valid requests in bursts of 200 while the feed runs.
        for _ in 0..<100 {
            let flood = request(rig.session, max(2, rig.counter(Cell.nextSequence)) - 1, 20)
            for _ in 0..<200 { send(flood) }
            _ = pump([receiver, flooder], seconds: 0.005) { false }
        }

        let done = pump([receiver, flooder], seconds: 30) {
            rig.commandsConsumed == UInt64(rig.commands.count)
                && receiver.handler.expected == rig.counter(Cell.nextSequence) && !receiver.handler.isRecovering
        }
        #expect(done, "receiver \(receiver.handler.counters) answers \(receiver.answers) expected \(receiver.handler.expected) oldest \(rig.counter(Cell.historyOldest)) next \(rig.counter(Cell.nextSequence)) answered \(rig.counter(Cell.retransmitAnswered)) limited \(rig.counter(Cell.retransmitRateLimited)) flooder answers \(flooder.answers)")
        _ = pump([receiver, flooder], seconds: 0.3) { false }
        #expect(rig.counter(Cell.retransmitMalformed) == 4)
        #expect(rig.counter(Cell.retransmitWrongSession) == 1)
        #expect(rig.counter(Cell.retransmitNotYetPublished) == 1)
        #expect(rig.counter(Cell.retransmitBeforeHistory) >= 1)
        #expect(rig.counter(Cell.retransmitRateLimited) > 15_000)
        let answered = rig.counter(Cell.retransmitAnswered)
        // The flooder gets at most its quarter (100/s, plus one second's burst) over the run.
        #expect(flooder.answers <= 100 + 100 * 3)
        #expect(receiver.handler.counters.gaps > 0)
        #expect(receiver.handler.counters.messageErrors == 0)
        #expect(answered > UInt64(flooder.answers))
        let differences = try rig.differences(receiver.handler.replica)
        #expect(differences.isEmpty, "\(differences)")
        rig.stop()
    }

    @Test func rejectsSnapshotLoginsWithAWrongPasswordOrSessionAndServesTheRightOne() throws {
        let account = try APIKeys.parse(json: #"{"accounts": [{"username": "ALICE", "password": "s3cret", "firm": "ALCE"}]}"#, source: "test")
        let rig = try FeedRig(commandCount: 2_000, seed: 5, rate: 50_000, accounts: account)
        let receiver = try rig.receiver()
        try rig.start()
        func settled() -> Bool {
            rig.commandsConsumed == UInt64(rig.commands.count) && receiver.handler.expected == rig.counter(Cell.nextSequence)
        }
        #expect(pump([receiver], seconds: 10) { settled() })
        _ = pump([receiver], seconds: 0.05) { false }
        #expect(settled())
        let wrong = SnapshotClient.fetch(host: 0x7F00_0001, port: rig.snapshotPort, username: SoupUsername("ALICE")!,
                                         password: SoupPassword("guess")!, timeoutMilliseconds: 3_000)
        #expect(wrong.failureValue == .rejected(SoupLoginRejectReason.notAuthorized))
        let session = SnapshotClient.fetch(host: 0x7F00_0001, port: rig.snapshotPort, username: SoupUsername("ALICE")!,
                                           password: SoupPassword("s3cret")!, session: SoupSessionName("OLDSESSION")!,
                                           timeoutMilliseconds: 3_000)
        #expect(session.failureValue == .rejected(SoupLoginRejectReason.sessionNotAvailable))
        let good = SnapshotClient.fetch(host: 0x7F00_0001, port: rig.snapshotPort, username: SoupUsername("ALICE")!,
                                        password: SoupPassword("s3cret")!, timeoutMilliseconds: 3_000)
        let snapshot = try good.get()
        #expect(snapshot.session == rig.session)
        #expect(snapshot.nextSequence == rig.counter(Cell.nextSequence))
        // System Event, four directories, four trading actions, then the orders.
        #expect(snapshot.messages.count >= 9)
        #expect(snapshot.messages[0][0] == ITCH.MessageType.systemEvent)
        #expect(snapshot.messages[1...4].allSatisfy { $0[0] == ITCH.MessageType.stockDirectory })
        #expect(snapshot.messages[5...8].allSatisfy { $0[0] == ITCH.MessageType.tradingAction })
        #expect(snapshot.messages.dropFirst(9).allSatisfy { $0[0] == ITCH.MessageType.addOrder || $0[0] == ITCH.MessageType.addOrderAttributed })
        // A client that never logs in, and one that sends garbage.
        let silent = try connectTCP(port: rig.snapshotPort)
        let garbage = try connectTCP(port: rig.snapshotPort)
        _ = write(garbage, [0, 3, 0x51, 1, 2], 5)
        #expect(pump([receiver], seconds: 3) { rig.counter(Cell.snapshotProtocolErrors) == 1 })
        #expect(rig.counter(Cell.snapshotLoginsRejected) == 2)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        #expect(readUntilClosed(garbage, seconds: 2))
        close(garbage)
        // A list of snapshot services (primary, backup): one refusing connections is passed over.
        let backup = SnapshotClient.fetch(from: [FeedServiceAddress(host: 0x7F00_0001, port: UInt16(freePort())),
                                                 FeedServiceAddress(host: 0x7F00_0001, port: rig.snapshotPort)],
                                          username: SoupUsername("ALICE")!, password: SoupPassword("s3cret")!, timeoutMilliseconds: 3_000)
        #expect(try backup.get().nextSequence == snapshot.nextSequence)
        // A refusal of the credentials is an answer, not a reason to try the next service.
        let refused = SnapshotClient.fetch(from: [FeedServiceAddress(host: 0x7F00_0001, port: rig.snapshotPort),
                                                  FeedServiceAddress(host: 0x7F00_0001, port: UInt16(freePort()))],
                                           username: SoupUsername("ALICE")!, password: SoupPassword("guess")!, timeoutMilliseconds: 3_000)
        #expect(refused.failureValue == .rejected(SoupLoginRejectReason.notAuthorized))
        rig.stop()
        close(silent)
    }

    /// The agent's steady state — events in, packets out, re-requests answered — touches no heap.
    @Test func publishesAndAnswersReRequestsWithoutTouchingTheHeap() throws {
        let instruments = FeedRig.makeInstruments()
        let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: 20_000, maxClients: 16, priceLevels: 4_096)
        let limits = RiskLimits(maxOrderShares: 100_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var streamEngine = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: .realistic(instruments: instruments, clients: 8), seed: 3, count: 20_000) {
            streamEngine.runCollecting($0)
        }
        let events = commands.flatMap { engine.runCollecting($0) }.filter(\.isBookEvent)
        var ring = SPSCRing<SequencedEvent>(capacity: 4_096)
        let counters = UnsafeMutableRawPointer.allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        defer { counters.deallocate() }
        counters.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        let group = FeedRig.uniqueGroup() &+ 1
        let port = UInt16(freeUDPPort())
        let session = SoupSessionName("ALLOC")!
        let md = MarketDataConfiguration(
            session: session, instruments: instruments, orderCapacity: 20_000, group: group, port: port, interface: 0x7F00_0001,
            ttl: 0, loopback: true, sendBufferBytes: 4 << 20, maxPayloadBytes: 1_400, heartbeatIntervalNanoseconds: 1_000_000,
            bindAddress: 0x7F00_0001, retransmitPort: 0, retransmitHistoryMessages: 1 << 16, retransmitMaxRequestsPerSecond: 1_000_000,
            snapshotPort: 0, snapshotLoginRequired: false)
        var producer = ring.makeProducer()
        let clock = ManualClock()
        var agent = try MarketDataAgent(configuration: md, clock: clock, events: ring.makeConsumer(),
                                        logins: LoginChannel(service: "snapshot", capacity: 16).makeClient(), cells: CounterCells(base: counters),
                                        upstreamFinished: { true })
        try agent.onStart()
        let requester = try FeedClient(group: group, port: port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                       retransmitPort: agent.retransmitPort, instrumentCount: instruments.count, orderCapacity: 20_000)
        var request = [UInt8](repeating: 0, count: 20)
        _ = request.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: session, sequence: 3, count: 30, to: $0.baseAddress!) }
        var next = 0
        func step(_ agent: inout MarketDataAgent<ManualClock>) {
            while next < events.count && producer.tryPush(SequencedEvent(sequence: UInt64(next + 1), event: events[next])) { next += 1 }
            _ = agent.doWork()
        }
        while next < events.count / 2 { step(&agent) }  // warm-up: start, opening, first packets
        for _ in 0..<20 { request.withUnsafeBytes { _ = requester.sendToRetransmitServer($0) } }
        for _ in 0..<100 { step(&agent) }
        rtes_malloc_counter_start()
        while next < events.count { step(&agent) }
        for _ in 0..<20 { request.withUnsafeBytes { _ = requester.sendToRetransmitServer($0) } }
        for _ in 0..<2_000 { step(&agent) }
        clock.advance(milliseconds: 1)
        for _ in 0..<10 { step(&agent) }  // idle: the packets seen, timers
        clock.advance(milliseconds: 2)
        for _ in 0..<2_000 { step(&agent) }  // idle: heartbeats, timers
        let counts = rtes_malloc_counter_stop()
        #expect(counts.allocations == 0)
        let cells = CounterCells(base: counters)
        #expect(try cells.register(MarketDataCounters.block).load(Cell.events) == UInt64(events.count))
        #expect(try cells.register(MarketDataCounters.block).load(Cell.retransmitAnswered) == 40)
        #expect(try cells.register(MarketDataCounters.block).load(Cell.heartbeats) > 0)
        agent.onClose()
        _ = consume agent
    }
}

func connectTCP(port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = MarketDataSockets.socketAddress(0x7F00_0001, port)
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw RigError.http(0, "connect: errno \(errno)") }
    return fd
}

/// Whether the peer closes the connection within `seconds`.
func readUntilClosed(_ fd: Int32, seconds: Int) -> Bool {
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var buffer = [UInt8](repeating: 0, count: 256)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
    }
}
