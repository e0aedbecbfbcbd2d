import ExchangeClock
import ExchangeConfig
import ExchangeGateway
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// Sessions older than their in-memory history (`gateway.session_history_messages`, 64 here),
/// served from the day's journal by the journal archive (docs/DURABILITY.md, "The journal
/// archive"): byte for byte what the live gateway sent, then the live stream with nothing
/// missing or repeated — also after a restart; without a journal the login is refused and
/// says why; the archive's bounds hold, each with its reason.
@Suite(.serialized) struct SessionArchiveTests {
    /// A temporary journal root, removed at the end.
    final class JournalRoot {
        let path = NSTemporaryDirectory() + "rtes-archive-\(getpid())-\(UUID().uuidString)"
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func knobs(journal: String?, chunkBytes: Int = 4_096, maxRequests: Int = 4) -> ExchangeKnobs {
        var knobs = ExchangeKnobs(sessionHistoryMessages: 64)
        if let journal {
            knobs.durability = #"{ "mode": "async", "directory": "\#(journal)", "segment_bytes": 4194304, "#
                + #""group_commit_max_bytes": 65536, "archive_chunk_bytes": \#(chunkBytes), "archive_max_requests": \#(maxRequests) }"#
        }
        return knobs
    }

    /// `rounds` trades between DEMO1 (buying) and DEMO2 (selling, resting first): each gives
    /// DEMO1 an Accepted and an Executed.
    static func trade(_ buyer: SoupTestClient, _ seller: SoupTestClient, rounds: Int, tag: String) {
        for i in 0..<rounds {
            seller.send(Client.order("\(tag)S\(i)", "S", 100, "AAPL", price(230)))
            buyer.send(Client.order("\(tag)B\(i)", "B", 100, "AAPL", price(230)))
        }
    }

    /// Reads until `client` holds `count` sequenced messages (or `timeout`); true when it does.
    @discardableResult
    static func read(_ client: SoupTestClient, until count: Int, timeout: Double = 10) -> Bool {
        let deadline = Deadline(seconds: timeout)
        while client.sequenced.count < count && !deadline.hasPassed {
            switch client.next(timeout: min(0.2, deadline.remainingSeconds)) {
            case .closed, .reset: return client.sequenced.count >= count
            case .packet, .timeout: continue
            }
        }
        return client.sequenced.count >= count
    }

    /// Reads whatever `client` is sent for `seconds` (heartbeats and all).
    static func drain(_ client: SoupTestClient, seconds: Double) {
        let deadline = Deadline(seconds: seconds)
        while !deadline.hasPassed { _ = client.next(timeout: deadline.remainingSeconds) }
    }

    static func waitForSessions(_ exchange: TestExchange, _ count: UInt64) -> Bool {
        exchange.waitFor(.seconds(5)) { $0.gatewayCount("active_sessions") == count }
    }

    /// What DEMO1 was sent live: the start of day and `rounds` trades.
    static func liveDay(_ exchange: TestExchange, rounds: Int, tag: String) throws -> (bytes: [[UInt8]], seller: SoupTestClient) {
        let buyer = try SoupTestClient.loggedIn(port: exchange.port, .demo1, sequence: 1)
        let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo2, sequence: 0)
        trade(buyer, seller, rounds: rounds, tag: tag)
        #expect(read(buyer, until: 1 + 2 * rounds), "live: \(buyer.sequenced.count) of \(1 + 2 * rounds) messages")
        #expect(buyer.sequenced.map(\.sequence) == (1...UInt64(max(1, buyer.sequenced.count))).prefix(buyer.sequenced.count).map { $0 })
        let bytes = buyer.sequenced.map(\.packet.bytes)
        buyer.close()
        #expect(waitForSessions(exchange, 1))
        return (bytes, seller)
    }

    @Test
    func aSessionOlderThanItsHistoryGetsEveryMessageOfTheDayFromTheJournalByteForByteThenTheLiveOnes() throws {
        let root = JournalRoot()
        let exchange = try TestExchange(Self.knobs(journal: root.path))
        defer { exchange.drain() }
        let (live, seller) = try Self.liveDay(exchange, rounds: 60, tag: "L")
        #expect(live.count == 121)

        // Logs in again from 1: 121 messages, the history holds 64. While the archive serves
        // the older ones (a chunk of 4 KiB at a time), 40 more trades go into the session's
        // log, which wraps meanwhile.
        let again = try SoupTestClient(port: exchange.port)
        #expect(again.login(.demo1, sequence: 1).packet?.loginAccepted?.sequence == 1)
        Self.trade(again, seller, rounds: 40, tag: "M")
        #expect(Self.read(again, until: 121 + 80), "\(again.sequenced.count) of 201 messages")
        #expect(again.sequenced.map(\.sequence) == (1...UInt64(max(1, again.sequenced.count))).prefix(again.sequenced.count).map { $0 }, "a gap or a repeat")
        #expect(Array(again.sequenced.prefix(121).map(\.packet.bytes)) == live, "not byte for byte what went out live")
        // 40 Accepted and 40 Executed (the two clients' orders of a round may reach the gateway
        // in either order, so an Accepted need not be followed at once by its Executed).
        let later = again.sequenced.dropFirst(121).map { Character(UnicodeScalar($0.packet.payload[0])) }
        #expect(later.count == 80 && later.filter { $0 == "A" }.count == 40 && later.filter { $0 == "E" }.count == 40, "\(String(later))")
        // Nothing more.
        Self.drain(again, seconds: 0.3)
        #expect(again.sequenced.count == 201)

        let counters = exchange.snapshot()
        #expect(counters.gatewayCount("archive_sessions") == 1)
        #expect(counters.gatewayCount("archive_requests") >= 2, "4 KiB chunks: more than one")
        #expect(counters.gatewayCount("archive_messages") >= 121 - 64)
        #expect(counters.gatewayCount("archive_failures") == 0)
        again.close()
        seller.close()
    }

    @Test func afterARestartTheSessionStillGetsEveryMessageOfTheDayFromTheJournal() throws {
        let root = JournalRoot()
        var live: [[UInt8]] = []
        do {
            let exchange = try TestExchange(Self.knobs(journal: root.path))
            let day = try Self.liveDay(exchange, rounds: 50, tag: "R")
            live = day.bytes
            day.seller.close()
            exchange.drain()
        }
        #expect(live.count == 101)
        // The day continues: its end (the clean stop) and a new start follow in the session.
        let exchange = try TestExchange(Self.knobs(journal: root.path))
        defer { exchange.drain() }
        let client = try SoupTestClient(port: exchange.port)
        #expect(client.login(.demo1, sequence: 1).packet?.loginAccepted?.sequence == 1)
        #expect(Self.read(client, until: 103))
        #expect(client.sequenced.map(\.sequence) == (1...UInt64(max(1, client.sequenced.count))).prefix(client.sequenced.count).map { $0 })
        #expect(Array(client.sequenced.prefix(101).map(\.packet.bytes)) == live, "not byte for byte what went out before the restart")
        let events = client.sequenced.dropFirst(101).map { $0.packet.payload }
        #expect(events.count == 2 && events.allSatisfy { $0.first == UInt8(ascii: "S") })
        #expect(events.map { $0.count > 9 ? $0[9] : 0 } == [UInt8(ascii: "E"), UInt8(ascii: "S")])
        // Then live, from 104.
        let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo2, sequence: 0)
        Self.trade(client, seller, rounds: 1, tag: "Z")
        #expect(Self.read(client, until: 105))
        #expect(client.sequenced.map(\.sequence) == Array(1...105))
        #expect(exchange.snapshot().gatewayCount("archive_sessions") == 1)
        client.close()
        seller.close()
    }

    @Test func withoutAJournalALoginOlderThanTheHistoryIsRefusedAndToldWhy() throws {
        let exchange = try TestExchange(Self.knobs(journal: nil))
        defer { exchange.drain() }
        let (live, seller) = try Self.liveDay(exchange, rounds: 40, tag: "N")
        #expect(live.count == 81)
        let again = try SoupTestClient(port: exchange.port)
        again.send(Client.login(.demo1, sequence: 1))
        let (packets, end) = again.readUntilClosed()
        let debug = packets.first { $0.isDebug }?.text ?? ""
        #expect(debug.contains("older than the session history kept") && debug.contains("no journal is configured"), "\(debug)")
        #expect(packets.contains { $0.loginRejected == "S" })
        #expect(end == .closed)
        // Within the history it is served as ever.
        let recent = try SoupTestClient(port: exchange.port)
        #expect(recent.login(.demo1, sequence: 81 - 63).packet?.loginAccepted?.sequence == 18)
        #expect(Self.read(recent, until: 64))
        #expect(recent.sequenced.map(\.packet.bytes) == Array(live.suffix(64)))
        recent.close()
        seller.close()
    }
}

/// The archive's bounds at the gateway, with the test in the archive's place (it answers
/// when it chooses, or never).
@Suite struct SessionArchiveBounds {
    static func rig(_ channel: SessionArchiveChannel) throws -> GatewayEngineRig<ManualClock> {
        let configuration = try StalledEngine.configuration(ExchangeKnobs(sessionHistoryMessages: 64))
        return try GatewayEngineRig(configuration: configuration, clock: ManualClock(), archive: channel)
    }

    /// DEMO1 and DEMO2 trade 40 times: each session holds 81 messages, more than its history.
    static func fill(_ rig: inout GatewayEngineRig<ManualClock>) throws {
        let buyer = try SoupTestClient(port: rig.port)
        buyer.send(Client.login(.demo1))
        #expect(rig.next(buyer).packet?.loginAccepted != nil)
        let seller = try SoupTestClient(port: rig.port)
        seller.send(Client.login(.demo2))
        #expect(rig.next(seller).packet?.loginAccepted != nil)
        SessionArchiveTests.trade(buyer, seller, rounds: 40, tag: "F")
        rig.run(seconds: 0.3)
        buyer.close()
        seller.close()
        rig.run(seconds: 0.1)
    }

    static func login(_ rig: inout GatewayEngineRig<ManualClock>, _ who: Credentials) throws -> (SoupTestClient, [ServerPacket]) {
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(who, sequence: 1))
        var packets: [ServerPacket] = []
        while case .packet(let p) = rig.next(client, seconds: 0.5) {
            packets.append(p)
            if p.loginAccepted != nil || p.loginRejected != nil { break }
        }
        return (client, packets)
    }

    @Test func aSessionWhoseEarlierArchiveRequestIsStillOutstandingIsRefusedWithAReason() throws {
        let channel = SessionArchiveChannel(chunks: 4, chunkBytes: 4_096)
        var rig = try Self.rig(channel)
        let memory = rig.memory
        var archive = channel.makePort()
        try Self.fill(&rig)
        let (first, accepted) = try Self.login(&rig, .demo1)
        #expect(accepted.last?.loginAccepted?.sequence == 1)
        rig.run(seconds: 0.05)
        let taken = archive.nextRequest()
        let request = try #require(taken)
        #expect(request.account == 0 && request.from == 1 && request.through == 81)
        // The connection goes before the archive answers; the session logs in again.
        first.close()
        rig.run(seconds: 0.05)
        let (second, refused) = try Self.login(&rig, .demo1)
        #expect(refused.contains { $0.isDebug && $0.text.contains("earlier journal archive request is still being served") })
        #expect(refused.last?.loginRejected == "S")
        second.close()
        // Once answered (the connection has gone: the chunk is freed), the session may ask again.
        archive.reply(SessionArchiveReply(chunk: request.chunk, count: 0, bytes: 0, from: 1))
        rig.run(seconds: 0.05)
        let (third, again) = try Self.login(&rig, .demo1)
        #expect(again.last?.loginAccepted?.sequence == 1)
        rig.run(seconds: 0.05)
        let again2 = archive.nextRequest()
        #expect(again2?.from == 1)
        third.close()
        rig.shutDown()
        memory.release()
    }

    @Test func sessionsBeyondTheArchivesShareAreRefusedWithAReason() throws {
        let channel = SessionArchiveChannel(chunks: 1, chunkBytes: 4_096)
        var rig = try Self.rig(channel)
        let memory = rig.memory
        var archive = channel.makePort()
        try Self.fill(&rig)
        let (first, accepted) = try Self.login(&rig, .demo1)
        #expect(accepted.last?.loginAccepted?.sequence == 1)
        let (second, refused) = try Self.login(&rig, .demo2)
        #expect(refused.contains { $0.isDebug && $0.text.contains("serving as many sessions as it may") })
        #expect(refused.last?.loginRejected == "S")
        rig.run(seconds: 0.05)
        let first2 = archive.nextRequest()
        let none = archive.nextRequest()
        #expect(first2?.account == 0)
        #expect(none == nil)
        first.close()
        second.close()
        rig.shutDown()
        memory.release()
    }

    @Test func aFailedArchiveRequestClosesTheSessionWithAReason() throws {
        let channel = SessionArchiveChannel(chunks: 2, chunkBytes: 4_096)
        var rig = try Self.rig(channel)
        let memory = rig.memory
        var archive = channel.makePort()
        try Self.fill(&rig)
        let (client, accepted) = try Self.login(&rig, .demo1)
        #expect(accepted.last?.loginAccepted?.sequence == 1)
        rig.run(seconds: 0.05)
        let taken = archive.nextRequest()
        let request = try #require(taken)
        archive.reply(SessionArchiveReply(chunk: request.chunk, failure: .journalUnreadable, count: 0, bytes: 0, from: 1))
        var packets: [ServerPacket] = []
        while case .packet(let p) = rig.next(client, seconds: 0.5) { packets.append(p) }
        #expect(packets.contains { $0.isDebug && $0.text.contains("journal archive could not serve") })
        client.close()
        rig.shutDown()
        memory.release()
    }
}
