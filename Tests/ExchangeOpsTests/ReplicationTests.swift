import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

/// Replication between two in-process appliances on loopback (docs/FAILOVER.md,
/// "Replication"): a standby catches up from nothing and from the middle of the day, journals
/// what it receives (its journal verifies and holds the primary's records) and applies it (its
/// state hash is the primary's); in sync an order is not answered while no standby
/// acknowledges it; a standby that claims more than the primary has, and a connection that
/// does not speak the protocol, are refused with the reason.
@Suite(.serialized) struct ReplicationTests {
    /// Temporary directories and counters files of one test, removed at the end.
    final class Place {
        let root = NSTemporaryDirectory() + "rtes-replication-\(getpid())-\(UUID().uuidString)"
        var primaryJournal: String { root + "/primary" }
        var standbyJournal: String { root + "/standby" }
        init() throws { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    /// An appliance that is drained when the test lets go of it, whatever happened.
    final class Running {
        let appliance: Appliance
        let countersPath: String
        private var drained = false

        init(_ configuration: ExchangeConfiguration, countersPath: String) throws {
            self.countersPath = countersPath
            appliance = try Appliance.start(configuration, options: Appliance.Options(countersPath: countersPath, apiKeys: devKeys),
                                            logger: Logger(label: "replication-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        func drain() {
            guard !drained else { return }
            drained = true
            _ = appliance.drain()
            unlink(countersPath)
            unlink(InstanceLock.path(forCounters: countersPath))
        }

        deinit { drain() }

        func counter(_ block: String, _ name: String) -> UInt64 { appliance.counters.snapshot().block(block)?[name] ?? 0 }
    }

    static func configuration(journal: String, mode: String, replication: ReplicationMode, role: ReplicationRole,
                              primaryPort: Int = 0) throws -> ExchangeConfiguration {
        var knobs = ExchangeKnobs()
        knobs.durability = #"{ "mode": "\#(mode)", "directory": "\#(journal)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536 }"#
        var configuration = try ConfigurationLoader.load(json: knobs.json, source: "replication-test.json", environment: [:],
                                                         host: .current()).configuration
        configuration.exchange.tcpPort = 0
        configuration.exchange.metricsPort = 0
        configuration.marketData.retransmitPort = 0
        configuration.marketData.snapshotPort = 0
        configuration.auth.backoffMilliseconds = 0
        configuration.auth.maxBackoffMilliseconds = 0
        configuration.durability.replication = replication
        configuration.replication.role = role
        configuration.replication.listenPort = 0
        configuration.replication.primary = .init(address: IPv4Address("127.0.0.1")!, port: UInt16(primaryPort))
        return configuration
    }

    static func primary(_ place: Place, mode: String = "async", replication: ReplicationMode = .async) throws -> Running {
        try Running(configuration(journal: place.primaryJournal, mode: mode, replication: replication, role: .primary),
                    countersPath: place.root + "/primary.counters")
    }

    static func standby(_ place: Place, of primary: Running, mode: String = "async", replication: ReplicationMode = .async) throws -> Running {
        try Running(configuration(journal: place.standbyJournal, mode: mode, replication: replication, role: .standby,
                                  primaryPort: primary.appliance.replicationPort),
                    countersPath: place.root + "/standby.counters")
    }

    /// `pairs` crossing orders from DEMO1 (buying) and DEMO2 (selling), each answered.
    static func trade(on primary: Running, pairs: Int, tag: String) throws {
        let buyer = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
        defer { buyer.close() }
        let seller = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO2", password: "demo2pass")
        defer { seller.close() }
        for i in 0..<pairs {
            try seller.enter(token: OrderToken("\(tag)S\(i)")!, side: .sell, shares: 100, symbol: Symbol("AAPL")!,
                             price: 2_300_000 + UInt32(i % 7) * 100)
            try buyer.enter(token: OrderToken("\(tag)B\(i)")!, side: .buy, shares: 100 + UInt32(i % 3) * 100, symbol: Symbol("AAPL")!,
                            price: 2_300_000 + UInt32(i % 5) * 100)
        }
        // Each order is answered (Accepted at least): the buyer's last answer means every
        // command before it was processed.
        _ = try seller.nextMessages(pairs, timeout: .seconds(60))
        _ = try buyer.nextMessages(pairs, timeout: .seconds(60))
    }

    /// Waits until the standby has applied, hashed and made durable everything the primary
    /// had made durable when asked. (The primary keeps journaling the passing of time while
    /// idle, so its durable sequence is a moving target: the standby must reach where it was.)
    static func caughtUp(_ standby: Running, with primary: Running) -> Bool {
        let target = primary.counter("journal", "durable_sequence")
        return target > 0 && waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(10)) {
            let replication = standby.appliance.counters.snapshot().block("replication")
            return (replication?["applied_sequence"] ?? 0) >= target && (replication?["state_hash_sequence"] ?? 0) >= target
                && (replication?["acknowledged_durable"] ?? 0) >= target
        }
    }

    /// Every record of a journal directory, checked as `rtes-journal verify` checks them.
    static func records(_ directory: String) throws -> [SequencedCommand] {
        let verification = JournalVerification.run(directory: directory)
        #expect(verification.verdict == .whole, "\(directory): \(verification.verdict)")
        let reader = try JournalReader.open(directory: directory)
        var cursor = reader.records(from: 0)
        var all: [SequencedCommand] = []
        while let record = try cursor.next() { all.append(record) }
        return all
    }

    /// The state hash after the whole journal, computed offline as `rtes-journal replay` does.
    static func stateHash(of records: [SequencedCommand], _ configuration: ExchangeConfiguration) -> UInt64 {
        var replica = DayReplica(configuration: configuration, keys: devKeys, feedSession: SoupSessionName("TESTSESS01")!)
        for record in records { replica.apply(record) }
        return replica.engine.stateHash()
    }

    /// The day's directory under a journal root.
    static func day(_ root: String) throws -> String {
        let days = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.contains(".") }
        return root + "/" + (try #require(days.first))
    }

    @Test func aStandbyCatchesUpFromNothingFollowsLiveAndHoldsThePrimarysJournalAndState() throws {
        let place = try Place()
        let primary = try Self.primary(place)
        defer { primary.drain() }
        try Self.trade(on: primary, pairs: 150, tag: "A")
        // The standby starts after the primary has a day's records: it catches up from the files.
        let standby = try Self.standby(place, of: primary)
        defer { standby.drain() }
        #expect(Self.caughtUp(standby, with: primary), "the standby did not catch up: applied \(standby.counter("replication", "applied_sequence")) of \(primary.counter("journal", "durable_sequence"))")
        #expect(standby.appliance.gatewayPort == 0, "a standby opens no client port")
        // Then live, as records become durable.
        try Self.trade(on: primary, pairs: 150, tag: "B")
        #expect(Self.caughtUp(standby, with: primary))
        #expect(primary.counter("replication", "connected") == 1)
        #expect(primary.counter("replication", "bytes_sent") > 0)
        // The hash and the sequence it was taken after: the same non-zero sequence on both
        // sides of reading the hash (the standby zeroes it while it writes a new hash).
        var liveHash: UInt64 = 0
        var liveSequence: UInt64 = 0
        #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(1)) {
            let before = standby.counter("replication", "state_hash_sequence")
            liveHash = standby.counter("replication", "state_hash")
            liveSequence = standby.counter("replication", "state_hash_sequence")
            return before != 0 && before == liveSequence
        })
        let metrics = httpGet("http://127.0.0.1:\(primary.appliance.admin?.port ?? 0)/metrics", timeout: 5)?.body ?? ""
        #expect(metrics.contains("rtes_replication_connected 1") && metrics.contains("rtes_replication_bytes_sent_total"), "\(metrics.suffix(2_000))")
        let health = httpGet("http://127.0.0.1:\(standby.appliance.admin?.port ?? 0)/health", timeout: 5)?.body ?? ""
        #expect(health.contains("standby: following the primary"), "\(health)")

        standby.drain()
        primary.drain()
        let configuration = try Self.configuration(journal: place.primaryJournal, mode: "async", replication: .async, role: .primary)
        let primaryRecords = try Self.records(try Self.day(place.primaryJournal))
        let standbyRecords = try Self.records(try Self.day(place.standbyJournal))
        #expect(primaryRecords.count > 600)
        // The primary journaled its end of day after the standby had stopped: the standby's
        // journal is the primary's up to where it stopped, and holds what it had caught up with.
        Self.expectPrefix(standbyRecords, of: primaryRecords, atLeast: liveSequence)
        #expect(liveHash == Self.stateHash(of: Array(primaryRecords.prefix(Int(liveSequence))), configuration))
        let final = try #require(standby.appliance.replicationStandby?.finalState)
        #expect(final.sequence == UInt64(standbyRecords.count))
        #expect(final.hash == Self.stateHash(of: standbyRecords, configuration))
    }

    /// `records` are the first records of `all`, at least `count` of them (without printing thousands).
    static func expectPrefix(_ records: [SequencedCommand], of all: [SequencedCommand], atLeast count: UInt64,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(records.count >= Int(count) && records.count <= all.count,
                "the standby holds \(records.count) records, the primary \(all.count), caught up at \(count)", sourceLocation: sourceLocation)
        let same = records.count <= all.count && records == Array(all.prefix(records.count))
        #expect(same, "the standby's journal is not the primary's first \(records.count) records", sourceLocation: sourceLocation)
    }

    @Test func aRestartedStandbyContinuesFromTheMiddleOfTheDay() throws {
        let place = try Place()
        let primary = try Self.primary(place)
        defer { primary.drain() }
        var standby = try Self.standby(place, of: primary)
        try Self.trade(on: primary, pairs: 100, tag: "A")
        #expect(Self.caughtUp(standby, with: primary))
        let held = standby.counter("replication", "applied_sequence")
        standby.drain()
        // The primary goes on without it; the standby comes back holding `held`.
        try Self.trade(on: primary, pairs: 100, tag: "B")
        standby = try Self.standby(place, of: primary)
        defer { standby.drain() }
        #expect(Self.caughtUp(standby, with: primary))
        let caught = standby.counter("replication", "applied_sequence")
        #expect(standby.counter("replication", "connections") == 1)
        #expect(held > 0 && held < caught)

        standby.drain()
        primary.drain()
        let configuration = try Self.configuration(journal: place.primaryJournal, mode: "async", replication: .async, role: .primary)
        let primaryRecords = try Self.records(try Self.day(place.primaryJournal))
        let standbyRecords = try Self.records(try Self.day(place.standbyJournal))
        Self.expectPrefix(standbyRecords, of: primaryRecords, atLeast: caught)
        #expect(try JournalDirectory.segments(in: try Self.day(place.standbyJournal)).count >= 2, "the restarted standby wrote a new segment")
        let final = try #require(standby.appliance.replicationStandby?.finalState)
        #expect(final.hash == Self.stateHash(of: Array(primaryRecords.prefix(Int(final.sequence))), configuration))
    }

    @Test func inSyncAnOrderIsNotAcceptedUntilTheStandbyAcknowledgesIt() throws {
        let place = try Place()
        let primary = try Self.primary(place, mode: "sync", replication: .sync)
        defer { primary.drain() }
        var standby = try Self.standby(place, of: primary, mode: "sync", replication: .sync)
        let client = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
        defer { client.close() }
        // Everything the client received, and how its reading ended, for the failure messages.
        var seen: [String] = []
        func accepted(_ token: String, within timeout: Duration) -> Bool {
            let deadline = ContinuousClock.now + timeout
            repeat {
                do {
                    guard let packet = try client.poll(timeout: .milliseconds(20)) else { continue }
                    seen.append("\(packet)")
                    if case .sequenced(let m) = packet, case .accepted(let a) = m.message, a.token == OrderToken(token)! { return true }
                } catch {
                    seen.append("error: \(error)")
                    return false
                }
            } while ContinuousClock.now < deadline
            return false
        }
        func state() -> String {
            let s = primary.appliance.counters.snapshot()
            return "received \(seen.suffix(20)); replication \(s.block("replication")?.counters.map { "\($0.name)=\($0.value)" } ?? []); "
                + "journal durable \(s.block("journal")?["durable_sequence"] ?? 0); gateway refusing \(s.gateway["refusing_new_orders"] ?? 0)"
        }
        // With the standby: accepted. Until the standby connected, the start of the day waited
        // for it, and past durability.stall_budget_ms the gateway refuses new orders: wait until
        // the standby has acknowledged what there is and the gateway takes orders again.
        #expect(waitUntil(timeout: .seconds(60)) {
            let s = primary.appliance.counters.snapshot()
            let r = s.block("replication")
            return r?["connected"] == 1 && r?["holding"] == 0 && (r?["released_sequence"] ?? 0) > 0
                && (s.gateway["refusing_new_orders"] ?? 1) == 0
        }, "\(state())")
        try client.enter(token: OrderToken("SYNC1")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
        #expect(accepted("SYNC1", within: .seconds(60)), "\(state())")

        // Without it: the order is processed and durable here, and still not answered.
        standby.drain()
        #expect(waitUntil(timeout: .seconds(60)) { primary.counter("replication", "connected") == 0 })
        let before = primary.counter("journal", "durable_sequence")
        try client.enter(token: OrderToken("SYNC2")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
        #expect(waitUntil(timeout: .seconds(60)) { primary.counter("journal", "durable_sequence") > before },
                "the order never became durable on the primary")
        #expect(primary.counter("replication", "holding") == 1)
        #expect(primary.counter("replication", "released_sequence") <= before)
        #expect(!accepted("SYNC2", within: .milliseconds(200)), "accepted although no standby acknowledged it: \(state())")
        let health = primary.appliance.counters.snapshot()
        var evaluator = HealthEvaluator()
        let report = evaluator.evaluate(health, now: 0)
        let check = report.checks.first { $0.name == "replication" }?.check
        #expect(check?.status == .degraded && check?.detail.contains("held") == true, "\(String(describing: check))")

        // The standby returns: the answer follows.
        standby = try Self.standby(place, of: primary, mode: "sync", replication: .sync)
        defer { standby.drain() }
        #expect(accepted("SYNC2", within: .seconds(60)), "no Accepted after the standby returned: \(state())")
        #expect(primary.counter("replication", "released_sequence") > before)
    }

    /// A raw connection to the primary's replication port, sending `bytes` and returning the
    /// refusal's reason (nil when none came within the wait).
    static func refusal(of bytes: [UInt8], port: Int) throws -> String? {
        let socket = try ReplicationSocket.connect(address: 0x7F00_0001, port: UInt16(port), timeoutMilliseconds: 5_000).get()
        defer { socket.close() }
        socket.queue { out in
            for (i, byte) in bytes.enumerated() { out.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
            return bytes.count
        }
        #expect(socket.flush() == nil)
        var reason: String?
        _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
            if case .endOfStream = socket.receive() {}
            if case .success(let frame?) = socket.nextFrame() {
                if frame.kind == .refuse { reason = ReplicationFrame.readRefuse(frame.payload) }
                return true
            }
            return false
        }
        return reason
    }

    static func hello(sequence: UInt64, day: String, epoch: Int64 = 0) -> [UInt8] {
        let out = UnsafeMutableRawPointer.allocate(byteCount: ReplicationFrame.maximumFrameBytes, alignment: 8)
        defer { out.deallocate() }
        let count = ReplicationFrame.writeHello(.init(version: ReplicationFrame.version, lastSequence: sequence, day: day, epoch: epoch), to: out)
        return Array(UnsafeRawBufferPointer(start: out, count: count))
    }

    @Test func aStandbyBeyondThePrimaryAndGarbageAreRefusedWithTheReason() throws {
        let place = try Place()
        let primary = try Self.primary(place)
        defer { primary.drain() }
        let port = primary.appliance.replicationPort
        let day = primary.appliance.tradingDay.name
        let durable = primary.counter("journal", "durable_sequence")

        let beyond = try Self.refusal(of: Self.hello(sequence: durable + 1_000, day: day), port: port)
        #expect(beyond?.contains("beyond the primary's durable") == true, "\(beyond ?? "no refusal")")
        let otherDay = try Self.refusal(of: Self.hello(sequence: 0, day: "1999-01-01"), port: port)
        #expect(otherDay?.contains("trading day") == true, "\(otherDay ?? "no refusal")")
        let http = try Self.refusal(of: Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8), port: port)
        #expect(http?.contains("garbled hello") == true, "\(http ?? "no refusal")")
        var wrongMagic = Self.hello(sequence: 0, day: day)
        wrongMagic[5] = UInt8(ascii: "X")
        let magic = try Self.refusal(of: wrongMagic, port: port)
        #expect(magic?.contains("not an RTES standby") == true, "\(magic ?? "no refusal")")
        let fenced = try Self.refusal(of: Self.hello(sequence: 0, day: day, epoch: 9), port: port)
        #expect(fenced?.contains("fencing token 9, higher than this primary's 0") == true, "\(fenced ?? "no refusal")")
        #expect(waitUntil(timeout: .seconds(30)) { primary.counter("replication", "refused") == 5 })
        #expect(primary.counter("replication", "connected") == 0)

        // A good hello after all that is welcomed.
        let socket = try ReplicationSocket.connect(address: 0x7F00_0001, port: UInt16(port), timeoutMilliseconds: 5_000).get()
        defer { socket.close() }
        let good = Self.hello(sequence: 0, day: day)
        socket.queue { out in
            for (i, byte) in good.enumerated() { out.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
            return good.count
        }
        _ = socket.flush()
        var welcomed = false
        _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
            _ = socket.receive()
            if case .success(let frame?) = socket.nextFrame() { welcomed = frame.kind == .welcome; return true }
            return false
        }
        #expect(welcomed)
    }

    /// A fake primary on a socket of the test's: it welcomes the standby, then streams a
    /// leadership record of token 7 and one of token 5 (a deposed primary's term).
    @Test func aStandbyRefusesALeadershipTermLowerThanTheHighestItHasJournaled() throws {
        let place = try Place()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listener, raw, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, raw, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let standby = try Running(Self.configuration(journal: place.standbyJournal, mode: "async", replication: .async, role: .standby,
                                                     primaryPort: port),
                                  countersPath: place.root + "/standby.counters")
        defer { standby.drain() }
        var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 30_000) == 1, "the standby did not connect")
        let descriptor = accept(listener, nil, nil)
        #expect(descriptor >= 0)
        let link = ReplicationSocket(descriptor: descriptor, peer: "standby")
        defer { link.close() }
        var hello: ReplicationFrame.Hello?
        _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
            _ = link.receive()
            if case .success(let frame?) = link.nextFrame(), frame.kind == .hello { hello = try? ReplicationFrame.readHello(frame.payload).get() }
            return hello != nil
        }
        let said = try #require(hello)
        #expect(said.lastSequence == 0 && said.epoch == 0)
        _ = link.queue { ReplicationFrame.writeWelcome(.init(version: ReplicationFrame.version, durableSequence: 2, day: said.day, epoch: 7), to: $0) }
        _ = link.queue { out in
            var bytes = 0
            let records = [SequencedCommand(sequence: 1, command: .leadership(LeadershipTerm(timestamp: 1, token: 7, name: "new")!)),
                           SequencedCommand(sequence: 2, command: .leadership(LeadershipTerm(timestamp: 2, token: 5, name: "old")!))]
            for record in records { bytes += JournalRecord.encode(record, to: out + ReplicationFrame.recordsStart + bytes) }
            return ReplicationFrame.finishRecords(first: 1, count: records.count, recordBytes: bytes, at: out)
        }
        #expect(link.flush() == nil)
        var reason: String?
        _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
            _ = link.receive()
            while case .success(let frame?) = link.nextFrame() {
                if frame.kind == .refuse { reason = ReplicationFrame.readRefuse(frame.payload) }
            }
            return reason != nil
        }
        #expect(reason?.contains("fencing token 5, lower than 7") == true, "\(reason ?? "no refusal")")
        // The record of the higher term was taken (the counter follows the refusal); the lower one was not.
        #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) { standby.counter("replication", "applied_sequence") >= 1 })
        #expect(standby.counter("replication", "applied_sequence") == 1)
    }

    @Test func framesRoundTripAndBadOnesAreNamed() {
        let out = UnsafeMutableRawPointer.allocate(byteCount: ReplicationFrame.maximumFrameBytes, alignment: 8)
        defer { out.deallocate() }
        let count = ReplicationFrame.writeAcknowledge(received: 7, durable: 5, to: out)
        guard case .frame(let frame, let bytes) = ReplicationFrame.parse(UnsafeRawBufferPointer(start: out, count: count)) else {
            Issue.record("an acknowledge frame does not parse")
            return
        }
        #expect(bytes == count && frame.kind == .acknowledge)
        #expect(ReplicationFrame.readAcknowledge(frame.payload) == (7, 5))
        if case .incomplete = ReplicationFrame.parse(UnsafeRawBufferPointer(start: out, count: count - 1)) {} else {
            Issue.record("a partial frame is not incomplete")
        }
        out.storeBytes(of: UInt32(18).littleEndian, as: UInt32.self)
        guard case .invalid(let reason) = ReplicationFrame.parse(UnsafeRawBufferPointer(start: out, count: count)) else {
            Issue.record("an acknowledge of the wrong size parses")
            return
        }
        #expect(reason.contains("a frame of type acknowledge with 17 payload bytes (it has 16)"), "\(reason)")
        out.storeBytes(of: UInt32(1 << 20).littleEndian, as: UInt32.self)
        guard case .invalid(let large) = ReplicationFrame.parse(UnsafeRawBufferPointer(start: out, count: count)) else {
            Issue.record("a huge frame parses")
            return
        }
        #expect(large.contains("1048576 bytes"))
    }
}
