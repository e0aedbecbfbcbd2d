import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Testing

/// The follower of a journal that is still being written: records up to the durable limit,
/// each once, across segment rolls; the not-yet-written tail is never damage.
@Suite struct JournalFollowerTests {
    /// Every record the follower gives up to `limit`, until it says none yet.
    static func drain(_ follower: inout JournalFollower, upTo limit: UInt64) throws(JournalError) -> [UInt64] {
        var sequences: [UInt64] = []
        while let record = try follower.next(upTo: limit) { sequences.append(record.sequence) }
        return sequences
    }

    @Test func followsTheLimitAcrossSegments() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 150, perSegment: 50, capacity: 64 * 1024)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        #expect(try Self.drain(&follower, upTo: 0).isEmpty)
        #expect(try Self.drain(&follower, upTo: 10) == Array(1...10))
        #expect(try Self.drain(&follower, upTo: 10).isEmpty)
        #expect(try Self.drain(&follower, upTo: 120) == Array(11...120))
        #expect(follower.segment?.firstSequence == 101)
        #expect(try Self.drain(&follower, upTo: 150) == Array(121...150))
        #expect(try Self.drain(&follower, upTo: 150).isEmpty)
        // Each record decodes to what was written.
        var again = JournalFollower(directory: fixture.directory, from: 1, readBytes: 1)
        var records: [SequencedCommand] = []
        while let record = try again.next(upTo: 150) { records.append(record) }
        #expect(records == (1...150).map { JournalFixture.command(UInt64($0)) })
    }

    @Test func startsAtASequenceInsideTheDay() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 150, perSegment: 50, capacity: 64 * 1024)
        var follower = JournalFollower(directory: fixture.directory, from: 120)
        #expect(try Self.drain(&follower, upTo: 119).isEmpty)
        #expect(try Self.drain(&follower, upTo: 150) == Array(120...150))
        var atTheEnd = JournalFollower(directory: fixture.directory, from: 151)
        #expect(try Self.drain(&atTheEnd, upTo: 150).isEmpty)
    }

    /// Half a record after the durable ones, then zeros: the writer is mid-batch. The follower
    /// stops before it, and reads it once the whole record is there and the limit covers it —
    /// even though its buffer held the half record from the earlier poll.
    @Test func theUnwrittenTailIsNotDamage() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let records = (1...10).map { JournalFixture.command(UInt64($0)) }
        let whole = JournalFixture.segmentBytes(firstSequence: 1, index: 0, records: records, capacity: 64 * 1024)
        let name = JournalSegmentHeader.fileName(firstSequence: 1)
        var partial = whole.bytes
        let cut = whole.offsets[5] + 20
        for i in cut..<partial.count { partial[i] = 0 }
        try fixture.write(name, partial)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        #expect(try Self.drain(&follower, upTo: 5) == Array(1...5))
        #expect(try Self.drain(&follower, upTo: 5).isEmpty)
        try fixture.write(name, whole.bytes)
        #expect(try Self.drain(&follower, upTo: 8) == Array(6...8))
        #expect(try Self.drain(&follower, upTo: 10) == Array(9...10))
    }

    /// The next segment appears only when the journal rolls; until then the follower waits at
    /// the end of the current one.
    @Test func followsASegmentThatAppearsLater() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let first = JournalFixture.segmentBytes(firstSequence: 1, index: 0,
                                                records: (1...50).map { JournalFixture.command(UInt64($0)) }, capacity: 64 * 1024)
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 1), first.bytes)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        #expect(try Self.drain(&follower, upTo: 50) == Array(1...50))
        #expect(try Self.drain(&follower, upTo: 50).isEmpty)
        let second = JournalFixture.segmentBytes(firstSequence: 51, index: 1,
                                                 records: (51...60).map { JournalFixture.command(UInt64($0)) }, capacity: 64 * 1024)
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 51), second.bytes)
        #expect(try Self.drain(&follower, upTo: 60) == Array(51...60))
    }

    @Test func anEmptyDirectoryHasNothingYet() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        #expect(try Self.drain(&follower, upTo: 0).isEmpty)
        #expect(throws: JournalError.noSegments(directory: fixture.directory)) { _ = try follower.next(upTo: 1) }
    }

    @Test func aDurableRecordThatDoesNotReadBackIsCorruption() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 20, perSegment: 20, capacity: 64 * 1024)
        var bytes = try fixture.read(segments[0].name)
        bytes[segments[0].offsets[12] + 20] ^= 1
        try fixture.write(segments[0].name, bytes)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        #expect(try Self.drain(&follower, upTo: 12) == Array(1...12))
        let found = corruption { _ = try Self.drain(&follower, upTo: 13) }
        #expect(found?.sequence == 13)
        #expect(found?.offset == segments[0].offsets[12])
    }

    @Test func aDurableRecordMissingFromTheDirectoryIsCorruption() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 20, perSegment: 20, capacity: 64 * 1024)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        let found = corruption { _ = try Self.drain(&follower, upTo: 21) }
        #expect(found?.sequence == 21)
        #expect(found?.reason.contains("no segment starts with it") == true)
    }

    @Test func refusesToStartBeforeARetiredSegment() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 20, perSegment: 20, capacity: 64 * 1024, first: 51)
        var follower = JournalFollower(directory: fixture.directory, from: 1)
        let found = corruption { _ = try follower.next(upTo: 60) }
        #expect(found?.reason.contains("retired") == true)
        var fromThere = JournalFollower(directory: fixture.directory, from: 51)
        #expect(try Self.drain(&fromThere, upTo: 70) == Array(51...70))
    }
}
