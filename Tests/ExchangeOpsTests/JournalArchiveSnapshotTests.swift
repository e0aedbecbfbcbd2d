import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

/// The journal archive starts from the newest day snapshot at or below the messages asked
/// for: once the day's first segments are retired it still serves a session's messages and
/// the feed's after that snapshot, byte for byte what a replay of the whole day gives; what
/// lies before every snapshot it can no longer serve, and says so.
@Suite struct JournalArchiveSnapshotTests {
    /// An archive agent on `directory`, driven by the test (no thread), closed as a runner
    /// closes it.
    final class Rig {
        var archive: JournalArchive
        var sessions: SessionArchiveChannel.Client
        var feed: FeedArchiveChannel.Client
        let durable: DurablePosition

        init(directory: String, durableThrough: UInt64, configuration: ExchangeConfiguration, keys: APIKeys) {
            durable = DurablePosition(initial: durableThrough)
            let sessionChannel = SessionArchiveChannel(chunks: 1, chunkBytes: 4 << 20)
            let feedChannel = FeedArchiveChannel(chunks: 1, chunkBytes: 1 << 20)
            sessions = sessionChannel.makeClient()
            feed = feedChannel.makeClient()
            archive = JournalArchive(directory: directory, day: DaySnapshotTests.day, durable: durable, configuration: configuration, keys: keys,
                                     gateway: sessionChannel.makePort(), feed: feedChannel.makePort(),
                                     feedConfiguration: MarketDataConfiguration(configuration: configuration, session: DaySnapshotTests.session),
                                     logger: Logger(label: "archive-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        deinit {
            archive.onClose()
            durable.deallocate()
        }

        /// A session's messages `from`…: each Sequenced Data packet's bytes; nil when refused.
        func session(account: Int, from: UInt64) -> [[UInt8]]? {
            let posted = sessions.post(SessionArchiveRequest(account: Int32(account), chunk: 0, from: from, through: .max))
            #expect(posted)
            for _ in 0..<1_000_000 {
                _ = archive.doWork()
                guard let reply = sessions.nextReply() else { continue }
                guard reply.failure == .none else { return nil }
                var packets: [[UInt8]] = []
                let chunk = sessions.chunk(0)
                var offset = 0
                while offset < Int(reply.bytes) {
                    let length = Int(chunk.loadUnaligned(fromByteOffset: offset, as: UInt16.self).bigEndian) + 2
                    packets.append(Array(UnsafeRawBufferPointer(start: chunk + offset, count: length)))
                    offset += length
                }
                #expect(packets.count == Int(reply.count))
                return packets
            }
            Issue.record("the archive never answered")
            return nil
        }

        /// The feed's messages `sequence`…`sequence + count - 1` as MoldUDP64 blocks; nil when not served.
        func feedMessages(from sequence: UInt64, count: Int) -> [UInt8]? {
            let posted = feed.post(FeedArchiveRequest(chunk: 0, port: 1, address: 0x7F00_0001, sequence: sequence, count: UInt32(count), maxBytes: 1 << 20))
            #expect(posted)
            for _ in 0..<1_000_000 {
                _ = archive.doWork()
                guard let reply = feed.nextReply() else { continue }
                guard reply.count > 0 else { return nil }
                #expect(reply.count == UInt32(count) && reply.sequence == sequence)
                return Array(UnsafeRawBufferPointer(start: feed.chunk(0), count: Int(reply.bytes)))
            }
            Issue.record("the archive never answered")
            return nil
        }
    }

    @Test func afterTheFirstSegmentsAreRetiredTheArchiveServesFromTheSnapshotByteForByte() throws {
        let (configuration, keys) = try DaySnapshotTests.inputs()
        let commands = DaySnapshotTests.commands(configuration, keys: keys, count: 5_999, seed: 43)
        let directory = try DaySnapshotTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SnapshotAgentTests.writeJournal(commands, perSegment: 1_000, day: DaySnapshotTests.day, into: directory)
        let last = commands.last!.sequence

        // The state after record 3,000: each session's next sequence and the feed's.
        var replica = DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session)
        for command in commands.prefix(3_000) { replica.apply(command) }
        let atSnapshot = replica.gatewayState().nextSequences
        let feedState = replica.feedState()
        let feedAtSnapshot = try #require(feedState).nextSequence

        // What a replay of the whole day gives: every message of every session, and the feed's
        // messages from the snapshot's next sequence on.
        let whole = Rig(directory: directory, durableThrough: last, configuration: configuration, keys: keys)
        var reference: [[[UInt8]]] = []
        for account in keys.accounts.indices {
            let messages = whole.session(account: account, from: 1)
            reference.append(try #require(messages, "account \(account)"))
        }
        let feedCount = 200
        let feedMessages = whole.feedMessages(from: feedAtSnapshot, count: feedCount)
        let feedReference = try #require(feedMessages)
        let busiest = try #require(keys.accounts.indices.max { reference[$0].count - Int(atSnapshot[$0]) < reference[$1].count - Int(atSnapshot[$1]) })
        try #require(reference[busiest].count > Int(atSnapshot[busiest]) + 10, "the day gives the busiest account too few messages after the snapshot")

        // The snapshot at 3,000, then the segments it covers wholly are retired.
        _ = try DaySnapshot.write(replica, day: DaySnapshotTests.day, directory: directory)
        for segment in try JournalDirectory.segments(in: directory) where segment.firstSequence <= 2_001 {
            try FileManager.default.removeItem(atPath: directory + "/" + JournalSegmentHeader.fileName(firstSequence: segment.firstSequence))
        }
        #expect(try JournalDirectory.segments(in: directory).map(\.firstSequence) == [3_001, 4_001, 5_001])

        let retired = Rig(directory: directory, durableThrough: last, configuration: configuration, keys: keys)
        // Every session from its sequence at the snapshot, and from a few messages later.
        var quiet = 0  // sessions with no message after the snapshot: nothing to serve
        for account in keys.accounts.indices {
            let from = atSnapshot[account]
            let got = retired.session(account: account, from: from)
            let expected = Array(reference[account].dropFirst(Int(from) - 1))
            if expected.isEmpty {
                quiet += 1
                #expect(got == nil, "account \(account): nothing after the snapshot, yet served")
            } else {
                let same = got == expected
                #expect(same, "account \(account) from \(from): \(got.map { "\($0.count) messages" } ?? "refused"), not the \(expected.count) the whole day gives")
            }
        }
        let later = atSnapshot[busiest] + 7
        let fromLater = retired.session(account: busiest, from: later)
        let laterSame = fromLater == Array(reference[busiest].dropFirst(Int(later) - 1))
        #expect(laterSame, "from \(later): \(fromLater?.count ?? -1) messages")
        let feedAgain = retired.feedMessages(from: feedAtSnapshot, count: feedCount)
        let feedSame = feedAgain == feedReference
        #expect(feedSame, "the feed from \(feedAtSnapshot): \(feedAgain?.count ?? -1) bytes, not the \(feedReference.count) the whole day gives")

        // Before the snapshot: the records are gone, and no snapshot is old enough.
        let fromOne = retired.session(account: busiest, from: 1)
        #expect(fromOne == nil, "served \(fromOne?.count ?? 0) messages from before every snapshot")
        let feedFromOne = retired.feedMessages(from: 1, count: 10)
        #expect(feedFromOne == nil, "served \(feedFromOne?.count ?? 0) feed bytes from before every snapshot")
        let failures = retired.archive.failures
        #expect(failures == UInt64(quiet + 2))
    }
}

/// The same on a day with FIX sessions (a FIX session bound, a drop copy, their journaled
/// facts among the orders): the snapshot carries a `fix` section and the archive starts from
/// it all the same, serving every session's messages byte for byte as from the day's first
/// record.
@Suite struct JournalArchiveFIXDaySnapshotTests {
    @Test func onADayWithFIXSessionsTheArchiveServesFromTheSnapshotAsFromTheFirstRecord() throws {
        let (configuration, plainKeys) = try DaySnapshotTests.inputs()
        var keys = plainKeys
        keys.accounts[1].dropCopy = true
        let commands = FIXDaySnapshotTests.commands(configuration, keys: keys, count: 5_999)
        #expect(commands.contains { if case .fixSession = $0.command { true } else { false } })
        let directory = try DaySnapshotTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SnapshotAgentTests.writeJournal(commands, perSegment: 1_000, day: DaySnapshotTests.day, into: directory)
        let last = commands.last!.sequence

        var replica = DayReplica(configuration: configuration, keys: keys, feedSession: DaySnapshotTests.session,
                                 fix: FIXDaySnapshotTests.fixSettings(), fixEpochMidnight: FIXDaySnapshotTests.midnight)
        for command in commands.prefix(3_000) { replica.apply(command) }
        #expect(replica.gatewayState().fixSessions == 1)
        let atSnapshot = replica.gatewayState().nextSequences

        // From the day's first record (no snapshot in the directory yet).
        let whole = JournalArchiveSnapshotTests.Rig(directory: directory, durableThrough: last, configuration: configuration, keys: keys)
        var reference: [[[UInt8]]] = []
        for account in keys.accounts.indices {
            let all = whole.session(account: account, from: 1) ?? []
            reference.append(Array(all.dropFirst(Int(atSnapshot[account]) - 1)))
        }
        #expect(reference.contains { $0.count > 10 }, "no session has messages after the snapshot")

        // The snapshot (with its fix section), then the segments before it retired: only a
        // start from the snapshot can answer.
        let written = try DaySnapshot.write(replica, day: DaySnapshotTests.day, directory: directory)
        #expect(try DaySnapshot.load(path: written.path, day: DaySnapshotTests.day, needsFeed: true).fixBytes != nil)
        for segment in try JournalDirectory.segments(in: directory) where segment.firstSequence <= 2_001 {
            try FileManager.default.removeItem(atPath: directory + "/" + JournalSegmentHeader.fileName(firstSequence: segment.firstSequence))
        }
        let retired = JournalArchiveSnapshotTests.Rig(directory: directory, durableThrough: last, configuration: configuration, keys: keys)
        for account in keys.accounts.indices where !reference[account].isEmpty {
            let got = retired.session(account: account, from: atSnapshot[account])
            let same = got == reference[account]
            let served = got.map { "\($0.count) messages" } ?? "refused"
            #expect(same, "account \(account) from \(atSnapshot[account]): \(served), from the first record \(reference[account].count)")
        }
        #expect(retired.archive.failures == 0)
    }
}
