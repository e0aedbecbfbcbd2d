import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
@testable import ExchangeOps
import ExchangeRisk
import ExchangeWire
import ExchangeTestSupport
import Foundation
import OrderFlow
import Testing

/// Day snapshots in process: the replica that follows the journal, a snapshot of it at a
/// sequence, and the replica restored from that snapshot and given the rest of the journal,
/// which must end exactly where a replica given the whole journal ends — engine (state hash),
/// sessions, tokens, feed (sequence, phase, every resting order in priority). A damaged
/// newest snapshot falls back to the previous one; one that does not fit is passed over.
@Suite struct DaySnapshotTests {
    static let configurationJSON = ThreeSymbolDay.configurationJSON(name: "SNAPSHOT-TEST")

    static let keysJSON = ThreeSymbolDay.keysJSON()

    static let day = "2026-12-07"
    static let session = SoupSessionName("MA20261207")!

    static func inputs() throws -> (ExchangeConfiguration, APIKeys) {
        let configuration = try ConfigurationLoader.load(json: configurationJSON, source: "t.json", environment: [:],
                                                         host: HostFacts(cpuCount: 2)).configuration
        let keys = try APIKeys.parse(json: keysJSON, source: "keys.json")
        return (configuration, keys)
    }

    /// A start of day, then `count` commands of the realistic profile (orders that rest and
    /// cross, cancels, replaces, refusals, halts, kill switches), sequenced from 1.
    static func commands(_ configuration: ExchangeConfiguration, keys: APIKeys, count: Int, seed: UInt64) -> [SequencedCommand] {
        var engine = configuration.makeRiskCheckedEngine(keys: keys)
        var generator = OrderFlowGenerator(profile: .realistic(
            instruments: configuration.symbols, clients: keys.accounts.count,
            limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 40_000_000 * 10_000)), seed: seed)
        var out = [SequencedCommand(sequence: 1, command: .startOfDay(34_200_000_000_000))]
        _ = engine.process(.startOfDay(34_200_000_000_000))
        engine.clearEvents()
        for i in 0..<count {
            let command = generator.next()
            out.append(SequencedCommand(sequence: UInt64(i + 2), command: command))
            var status = engine.process(command)
            while true {
                for event in engine.events { generator.observe(event) }
                engine.clearEvents()
                guard status == .suspended else { break }
                status = engine.resume()
            }
        }
        return out
    }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/rtes-daysnap-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: try #require(made))
    }

    struct State: Equatable {
        var hash: UInt64
        var gateway: [UInt8]
        var feed: [UInt8]?
    }

    static func state(_ replica: borrowing DayReplica) -> State {
        State(hash: replica.engine.stateHash(), gateway: replica.gatewayState().encoded(), feed: replica.feedState()?.encoded())
    }

    @Test func aSnapshotAndTheRecordsAfterItEndWhereTheWholeDayEnds() throws {
        let (configuration, keys) = try Self.inputs()
        let commands = Self.commands(configuration, keys: keys, count: 6_000, seed: 17)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var whole = DayReplica(configuration: configuration, keys: keys, feedSession: Self.session)
        var written: [DaySnapshot.Written] = []
        for command in commands {
            whole.apply(command)
            if command.sequence == 2_500 || command.sequence == 4_000 {
                written.append(try DaySnapshot.write(whole, day: Self.day, directory: directory))
            }
        }
        let expected = Self.state(whole)
        let resting = whole.feedState()?.orders.count ?? 0
        let tokens = whole.gatewayState().tokens.count
        #expect(resting > 10, "the day should leave orders resting")
        #expect(tokens > 1_000)
        #expect(written.map(\.coveredSequence) == [2_500, 4_000])

        for (index, snapshot) in written.enumerated() {
            let loaded = try DaySnapshot.load(path: snapshot.path, day: Self.day, needsFeed: true)
            var restored = try DayReplica(configuration: configuration, keys: keys, feedSession: Self.session, snapshot: loaded)
            let at = restored.sequence
            let hash = restored.engine.stateHash()
            #expect(at == snapshot.coveredSequence)
            #expect(hash == loaded.file.stateHash)
            for command in commands[Int(snapshot.coveredSequence)...] { restored.apply(command) }
            let got = Self.state(restored)
            #expect(got == expected, "restored from snapshot \(index) differs from the whole day")
        }
    }

    @Test func aDamagedNewestSnapshotFallsBackToThePreviousOne() throws {
        let (configuration, keys) = try Self.inputs()
        let commands = Self.commands(configuration, keys: keys, count: 3_000, seed: 23)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var replica = DayReplica(configuration: configuration, keys: keys, feedSession: Self.session)
        var paths: [String] = []
        for command in commands {
            replica.apply(command)
            if command.sequence == 1_000 || command.sequence == 2_000 {
                paths.append(try DaySnapshot.write(replica, day: Self.day, directory: directory).path)
            }
        }
        func newest() -> (DaySnapshot.Loaded?, [(path: String, reason: String)]) {
            let found = DaySnapshot.newestUsable(in: directory, day: Self.day, needsFeed: true, covers: 0...3_001,
                                                 accounts: keys.accounts.count, instruments: configuration.symbols.count)
            return (found.snapshot, found.rejected)
        }
        #expect(newest().0?.coveredSequence == 2_000)
        #expect(newest().1.isEmpty)

        // One flipped byte in the newest.
        let fd = open(paths[1], O_RDWR)
        try #require(fd >= 0)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, 300) == 1)
        byte ^= 0x40
        #expect(pwrite(fd, &byte, 1, 300) == 1)
        close(fd)
        let (fallback, rejected) = newest()
        #expect(fallback?.coveredSequence == 1_000)
        #expect(rejected.map(\.path) == [paths[1]])
        #expect(rejected.first?.reason.isEmpty == false)

        // Replayed from the fallback, the day ends as the whole replay does.
        let base = try #require(fallback)
        var restored = try DayReplica(configuration: configuration, keys: keys, feedSession: Self.session, snapshot: base)
        for command in commands[1_000...] { restored.apply(command) }
        let got = Self.state(restored)
        let expected = Self.state(replica)
        #expect(got == expected)

        // A snapshot that covers more than the journal holds, of another day, or for other
        // accounts, is passed over too.
        #expect(DaySnapshot.newestUsable(in: directory, day: Self.day, needsFeed: true, covers: 0...999, accounts: 4, instruments: 3)
            .snapshot == nil)
        #expect(DaySnapshot.newestUsable(in: directory, day: "2026-12-08", needsFeed: true, covers: 0...3_001, accounts: 4, instruments: 3)
            .rejected.last?.reason.contains("not of 2026-12-08") == true)
        #expect(DaySnapshot.newestUsable(in: directory, day: Self.day, needsFeed: true, covers: 0...3_001, accounts: 5, instruments: 3)
            .snapshot == nil)
    }

    @Test func dayStateSectionsRoundTripAndRefuseDamage() throws {
        let (configuration, keys) = try Self.inputs()
        var replica = DayReplica(configuration: configuration, keys: keys, feedSession: Self.session)
        for command in Self.commands(configuration, keys: keys, count: 1_500, seed: 5) { replica.apply(command) }
        var gateway = replica.gatewayState()
        #expect(gateway.fixSessions == 0)
        gateway.fixSessions = 3
        let gatewayBytes = gateway.encoded()
        #expect(gatewayBytes.withUnsafeBytes { try? GatewayDayState.decode($0).get() } == gateway)
        // A version 1 section (before FIX sessions were journaled) still reads, with none.
        var version1 = gatewayBytes
        version1[0] = 1
        for i in 12..<16 { version1[i] = 0 }
        var expected = gateway
        expected.fixSessions = 0
        #expect(version1.withUnsafeBytes { try? GatewayDayState.decode($0).get() } == expected)
        version1[12] = 1
        #expect(version1.withUnsafeBytes { try? GatewayDayState.decode($0).get() } == nil, "a version 1 section with FIX sessions")
        let maybeFeed = replica.feedState()
        let feed = try #require(maybeFeed)
        let feedBytes = feed.encoded()
        #expect(feedBytes.withUnsafeBytes { try? FeedDayState.decode($0).get() } == feed)
        // Every truncation is refused with a reason, never a crash.
        for cut in stride(from: 0, to: gatewayBytes.count, by: max(1, gatewayBytes.count / 97)) {
            #expect(Array(gatewayBytes[..<cut]).withUnsafeBytes { try? GatewayDayState.decode($0).get() } == nil)
        }
        for cut in stride(from: 0, to: feedBytes.count, by: max(1, feedBytes.count / 97)) {
            #expect(Array(feedBytes[..<cut]).withUnsafeBytes { try? FeedDayState.decode($0).get() } == nil)
        }
    }
}
