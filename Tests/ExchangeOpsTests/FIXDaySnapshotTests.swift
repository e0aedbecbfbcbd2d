import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
@testable import ExchangeOps
import ExchangeTestSupport
import Foundation
import Testing

/// Day snapshots of a day with FIX sessions (docs/DURABILITY.md, the `fix` section): the
/// replica keeps the FIX sessions through the gateway's replay code — a FIX order-entry
/// session bound by a journaled fact, and a drop copy of every event of a firm — writes them
/// into its snapshot files, and a replica restored from a file and given the rest of the
/// journal ends with the same FIX state, byte for byte, as one given the whole day. (The
/// gateway's side, with live FIX clients: ExchangeGatewayTests/FIXDayStateTests.swift.)
@Suite struct FIXDaySnapshotTests {
    static let midnight: UInt64 = 1_796_601_600_000_000_000  // 2026-12-07T00:00:00Z

    static func fixSettings() -> FIXSettings {
        var fix = FIXSettings()
        fix.maxSessions = 2
        fix.resendStoreMessages = 512
        fix.maxClOrdIDs = 64
        fix.dropCopyPort = 1
        fix.dropCopyOrders = 8_192
        return fix
    }

    /// The realistic day of `DaySnapshotTests`, with account 0's FIX session bound after the
    /// start of day and a Logon answer each for it and account 1's drop copy (as the gateway
    /// journals them), renumbered.
    static func commands(_ configuration: ExchangeConfiguration, keys: APIKeys, count: Int) -> [SequencedCommand] {
        let day = DaySnapshotTests.commands(configuration, keys: keys, count: count, seed: 29).map(\.command)
        var out: [EngineCommand] = [day[0]]
        out.append(.fixSession(.bind(timestamp: 34_200_000_000_001, client: 0, tokenBase: 0, execIDPrefix: 7)))
        out.append(.fixSession(.outbound(timestamp: 34_200_000_000_001, client: (1 << 30) + 1, first: 1,
                                         count: 1, execIDs: 0, nextInbound: 2, reset: false)))
        out.append(.fixSession(.outbound(timestamp: 34_200_000_000_001, client: 0, first: 1, count: 1, execIDs: 0, nextInbound: 2,
                                         reset: false)))
        out += day.dropFirst()
        return out.enumerated().map { SequencedCommand(sequence: UInt64($0.offset + 1), command: $0.element) }
    }

    @Test func aSnapshotHoldsTheFIXSessionsAndTheRecordsAfterItEndWhereTheWholeDayEnds() throws {
        let (configuration, plainKeys) = try DaySnapshotTests.inputs()
        var keys = plainKeys
        keys.accounts[1].dropCopy = true
        let commands = Self.commands(configuration, keys: keys, count: 4_000)
        let directory = try DaySnapshotTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func replica() -> DayReplica {
            DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session, fix: Self.fixSettings(),
                       fixEpochMidnight: Self.midnight)
        }

        var whole = replica()
        var written: [DaySnapshot.Written] = []
        for command in commands {
            whole.apply(command)
            if command.sequence == 1_500 || command.sequence == 3_000 {
                written.append(try DaySnapshot.write(whole, day: DaySnapshotTests.day, directory: directory))
            }
        }
        let expected = whole.fix.encoded()
        #expect(whole.fix.sessionsBound == 1)
        #expect(whole.fix.replayMismatches == 0)
        #expect(whole.gatewayState().fixSessions == 1)
        #expect(expected.count > 20_000, "the drop copy should have kept many reports (\(expected.count) B)")

        for snapshot in written {
            let loaded = try DaySnapshot.load(path: snapshot.path, day: DaySnapshotTests.day, needsFeed: true)
            let section = try #require(loaded.fixBytes, "the snapshot has no fix section")
            #expect(FIXDayReplica.epochMidnight(ofSection: section) == Self.midnight)
            var restored = try DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session,
                                          snapshot: loaded, fix: Self.fixSettings(), fixEpochMidnight: Self.midnight)
            #expect(restored.fix.encoded() == Array(section), "the section read back and written again differs")
            for command in commands[Int(snapshot.coveredSequence)...] { restored.apply(command) }
            #expect(restored.fix.encoded() == expected, "restored from the snapshot of \(snapshot.coveredSequence): the FIX state differs")
            #expect(restored.engine.stateHash() == whole.engine.stateHash())
        }

        // A replica of another midnight does not take the section: it says why.
        let loaded = try DaySnapshot.load(path: written[0].path, day: DaySnapshotTests.day, needsFeed: true)
        do throws(DaySnapshotError) {
            _ = try DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session, snapshot: loaded,
                               fix: Self.fixSettings(), fixEpochMidnight: Self.midnight + 86_400_000_000_000)
            Issue.record("a snapshot of another UTC midnight was restored")
        } catch {
            #expect(error.reason.contains("another UTC day"), "\(error)")
        }
        // Offline (`rtes-journal snapshot`): the base snapshot's midnight, else the day's UTC midnight.
        #expect(DaySnapshot.fixEpochMidnight(day: DaySnapshotTests.day, base: nil) == Self.midnight)
        #expect(DaySnapshot.fixEpochMidnight(day: "2024-02-29", base: nil) == 1_709_164_800_000_000_000)
        #expect(DaySnapshot.fixEpochMidnight(day: "not a day", base: nil) == 0)
        #expect(DaySnapshot.fixEpochMidnight(day: "2024-02-29", base: loaded) == Self.midnight)
        // A replica without FIX settings writes no fix section.
        var plain = DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session)
        for command in commands.prefix(100) { plain.apply(command) }
        let path = try DaySnapshot.write(plain, day: DaySnapshotTests.day, directory: directory).path
        #expect(try DaySnapshot.load(path: path, day: DaySnapshotTests.day, needsFeed: true).fixBytes == nil)
    }
}
