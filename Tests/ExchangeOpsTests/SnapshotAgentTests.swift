import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

/// The snapshot agent on its thread: it follows a journal only up to the durable sequence,
/// writes a snapshot when asked (covering exactly what was durable), keeps the two newest and
/// retires the segments the older one covers beyond `retain`, never one it does not cover.
@Suite struct SnapshotAgentTests {
    /// `commands` as segments of `perSegment` records (file ends after the last record).
    static func writeJournal(_ commands: [SequencedCommand], perSegment: Int, day: String, into directory: String) throws {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: JournalSegmentHeader.bytes, alignment: 8)
        defer { scratch.deallocate() }
        var start = 0
        var index: UInt64 = 0
        while start < commands.count {
            let records = commands[start..<min(commands.count, start + perSegment)]
            var bytes = [UInt8]()
            JournalSegmentHeader(firstSequence: records.first!.sequence, segmentIndex: index, createdAt: 0, capacity: 0, day: day)
                .encode(to: scratch)
            bytes += UnsafeRawBufferPointer(start: scratch, count: JournalSegmentHeader.bytes)
            for record in records {
                let length = JournalRecord.encode(record, to: scratch)
                bytes += UnsafeRawBufferPointer(start: scratch, count: length)
            }
            let path = directory + "/" + JournalSegmentHeader.fileName(firstSequence: records.first!.sequence)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            start += perSegment
            index += 1
        }
    }

    @Test func writesWhatIsDurableWhenAskedKeepsTwoAndRetiresWhatTheOlderCovers() throws {
        let (configuration, keys) = try DaySnapshotTests.inputs()
        let commands = DaySnapshotTests.commands(configuration, keys: keys, count: 5_999, seed: 31)
        let directory = try DaySnapshotTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.writeJournal(commands, perSegment: 1_000, day: DaySnapshotTests.day, into: directory)

        let durable = DurablePosition(initial: 2_500)
        defer { durable.deallocate() }
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let settings = SnapshotAgent.Settings(
            directory: directory, day: DaySnapshotTests.day, intervalSeconds: 0, retainSegments: 1,
            configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session, pollMicroseconds: 200)
        let agent = try SnapshotAgent(settings: settings, durable: durable, cells: counters.cells,
                                      logger: Logger(label: "snapshot-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        agent.start()
        defer { agent.stop() }
        func written() -> UInt64 { agent.counters.load(SnapshotCounters.written) }
        func snapshots() -> [UInt64] { ((try? SnapshotDirectory.list(directory)) ?? []).map(\.coveredSequence) }
        func segments() -> [UInt64] { ((try? JournalDirectory.segments(in: directory)) ?? []).map(\.firstSequence) }

        // Asked for one: it covers exactly the durable sequence; one snapshot retires nothing.
        agent.request()
        #expect(waitUntil(timeout: .seconds(60)) { written() == 1 })
        #expect(snapshots() == [2_500])
        #expect(agent.counters.load(SnapshotCounters.lastSequence) == 2_500)
        #expect(segments() == [1, 1_001, 2_001, 3_001, 4_001, 5_001])

        // More becomes durable; two snapshots: the segments wholly before 2,501 go, the one
        // holding 2,501 stays.
        durable.publish(4_200)
        agent.request()
        #expect(waitUntil(timeout: .seconds(60)) { written() == 2 })
        #expect(snapshots() == [2_500, 4_200])
        #expect(segments() == [2_001, 3_001, 4_001, 5_001])
        #expect(agent.counters.load(SnapshotCounters.segmentsRetired) == 2)

        // A third: the oldest snapshot goes, and what 4,200 covers beyond the newest segment.
        durable.publish(6_000)
        agent.request()
        #expect(waitUntil(timeout: .seconds(60)) { written() == 3 })
        #expect(snapshots() == [4_200, 6_000])
        #expect(segments() == [4_001, 5_001])
        #expect(agent.counters.load(SnapshotCounters.failures) == 0)

        // What is left recovers to the whole day's state.
        let found = DaySnapshot.newestUsable(in: directory, day: DaySnapshotTests.day, needsFeed: true, covers: 4_000...6_000,
                                             accounts: keys.accounts.count, instruments: configuration.symbols.count)
        let newest = try #require(found.snapshot)
        #expect(newest.coveredSequence == 6_000)
        var whole = DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session)
        for command in commands { whole.apply(command) }
        let restored = try DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session, snapshot: newest)
        let got = DaySnapshotTests.state(restored)
        let expected = DaySnapshotTests.state(whole)
        #expect(got == expected)
    }
}
