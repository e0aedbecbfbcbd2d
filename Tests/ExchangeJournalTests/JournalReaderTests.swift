import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Testing

/// The journal's read side: segments read back in order, torn tails told apart from
/// corruption, and the repair that discards a torn tail.
@Suite struct JournalReaderTests {
    @Test func readsSegmentsBackInSequenceOrder() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 150, perSegment: 50, capacity: 64 * 1024)
        let reader = try JournalReader.open(directory: fixture.directory)
        #expect(reader.segments.map(\.name) == segments.map(\.name))
        #expect(reader.firstSequence == 1)
        #expect(reader.lastSequence == 150)
        #expect(reader.nextSequence == 151)
        #expect(reader.tornTail == nil)
        #expect(reader.day == "2026-12-07")
        #expect(reader.lastSegmentEnd == segments[2].offsets[49] + JournalRecord.Kind(JournalFixture.command(150).command).recordBytes)
        let expected = (1...150).map { JournalFixture.command(UInt64($0)) }
        #expect(try readAll(reader) == expected)
        // A buffer barely larger than a few records: every record straddles a refill somewhere.
        #expect(try readAll(reader, readBytes: 1) == expected)
        #expect(try reader.verify() == 150)
    }

    @Test func readsFromASequenceSkippingSegmentsBelowIt() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 150, perSegment: 50)
        let reader = try JournalReader.open(directory: fixture.directory)
        var cursor = reader.records(from: 120)
        let first = try cursor.next()
        #expect(first?.sequence == 120)
        #expect(cursor.recordSegment == 2)
        #expect(cursor.recordOffset == segments[2].offsets[19])
        #expect(try readAll(reader, from: 51).map(\.sequence) == Array(51...150))
        #expect(try readAll(reader, from: 151).isEmpty)
        // Damage in a segment wholly below the start is never read.
        var bytes = try fixture.read(segments[0].name)
        bytes[segments[0].offsets[10] + 20] ^= 1
        try fixture.write(segments[0].name, bytes)
        #expect(try readAll(reader, from: 60).count == 91)
    }

    @Test func aSegmentWithoutRecordsStartsTheNextSequence() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 0, perSegment: 10, capacity: 8192, first: 77)
        let reader = try JournalReader.open(directory: fixture.directory)
        #expect(reader.firstSequence == 77)
        #expect(reader.lastSequence == nil)
        #expect(reader.nextSequence == 77)
        #expect(reader.lastSegmentEnd == JournalSegmentHeader.bytes)
        #expect(try readAll(reader).isEmpty)
    }

    /// Cut the journal at every byte of its last two records, as a crash mid-write leaves it
    /// (zeros after the cut in a preallocated segment, or the end of the file): a torn tail
    /// named at the last whole record, which the repair zeroes, after which the reader yields
    /// exactly the whole records.
    @Test(arguments: [true, false]) func aTailCutAtEveryByteIsTornAndRepaired(preallocated: Bool) throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let total = 40
        let segments = try fixture.writeJournal(count: total, perSegment: 25, capacity: preallocated ? 16 * 1024 : nil)
        let last = segments[1]
        let whole = try fixture.read(last.name)
        let recordEnd = { (i: Int) in last.offsets[i] + JournalRecord.Kind(JournalFixture.command(UInt64(26 + i)).command).recordBytes }
        let lastIndex = last.offsets.count - 1
        let start = last.offsets[lastIndex - 1]
        for cut in start..<recordEnd(lastIndex) {
            var bytes = whole
            if preallocated {
                for i in cut..<recordEnd(lastIndex) { bytes[i] = 0 }
            } else {
                bytes.removeSubrange(cut...)
            }
            try fixture.write(last.name, bytes)
            // The record the cut falls in, and whether any of its bytes survived.
            let torn = cut < last.offsets[lastIndex] ? lastIndex - 1 : lastIndex
            let tornStart = last.offsets[torn]
            let survived = bytes[tornStart..<cut].contains { $0 != 0 }
            // Zeros written over bytes that were zero (a record's reserved or padding bytes)
            // leave a preallocated record whole.
            let intact = preallocated && whole[cut..<recordEnd(torn)].allSatisfy { $0 == 0 }
            let wholeRecords = 25 + torn + (intact ? 1 : 0)
            let reader = try JournalReader.open(directory: fixture.directory)
            #expect(reader.lastSequence == UInt64(wholeRecords), "cut at \(cut)")
            #expect(reader.lastSegmentEnd == (intact ? recordEnd(torn) : tornStart), "cut at \(cut)")
            if survived && !intact {
                let tail = try #require(reader.tornTail, "cut at \(cut)")
                #expect(tail.file == fixture.path(last.name))
                #expect(tail.wholeEnd == tornStart)
                #expect(tail.damagedEnd > tornStart && tail.damagedEnd <= cut)
                #expect(tail.lastWholeSequence == UInt64(wholeRecords))
                let repaired = try JournalReader.repairTornTail(directory: fixture.directory)
                #expect(repaired == tail)
                let after = try fixture.read(last.name)
                #expect(after.count == bytes.count)
                #expect(after[tornStart...].allSatisfy { $0 == 0 }, "cut at \(cut)")
                #expect(after[..<tornStart] == bytes[..<tornStart])
            } else {
                #expect(reader.tornTail == nil, "cut at \(cut)")
                #expect(try JournalReader.repairTornTail(directory: fixture.directory) == nil)
            }
            let again = try JournalReader.open(directory: fixture.directory)
            #expect(again.tornTail == nil)
            #expect(try readAll(again) == (1...wholeRecords).map { JournalFixture.command(UInt64($0)) }, "cut at \(cut)")
        }
    }

    @Test func aFlippedBitInTheMiddleIsCorruptionNamingFileAndOffset() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 60, perSegment: 30, capacity: 16 * 1024)
        // In the last segment, followed by whole records: not a torn tail.
        var bytes = try fixture.read(segments[1].name)
        let offset = segments[1].offsets[10]
        bytes[offset + 17] ^= 0x10
        try fixture.write(segments[1].name, bytes)
        let found = corruption { _ = try JournalReader.open(directory: fixture.directory) }
        #expect(found?.file == fixture.path(segments[1].name))
        #expect(found?.offset == offset)
        #expect(found?.sequence == 41)
        #expect(found?.reason.contains("CRC-32C mismatch") == true)
        #expect(found?.reason.contains("followed by more data") == true)
        // The repair refuses it and writes nothing.
        #expect(corruption { _ = try JournalReader.repairTornTail(directory: fixture.directory) } != nil)
        #expect(try fixture.read(segments[1].name) == bytes)
    }

    @Test func damageInASegmentThatIsNotTheLastIsCorruptionEvenAtItsEnd() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 60, perSegment: 30, capacity: 16 * 1024)
        var bytes = try fixture.read(segments[0].name)
        let offset = segments[0].offsets[29]
        bytes[offset + 30] ^= 0x01
        try fixture.write(segments[0].name, bytes)
        // Open reads only the last segment's records; a full read finds it.
        let reader = try JournalReader.open(directory: fixture.directory)
        #expect(reader.lastSequence == 60)
        let found = corruption { _ = try reader.verify() }
        #expect(found?.file == fixture.path(segments[0].name))
        #expect(found?.offset == offset)
        #expect(found?.reason.contains("not the last") == true)
        #expect(corruption { _ = try JournalReader.repairTornTail(directory: fixture.directory) } != nil)
    }

    @Test func aSequenceGapOrRepeatIsCorruption() throws {
        for (label, sequences) in [("gap", [1, 2, 3, 5, 6]), ("repeat", [1, 2, 3, 3, 4])] {
            let fixture = try JournalFixture()
            defer { fixture.remove() }
            let records = sequences.map { JournalFixture.command(UInt64($0)) }
            let segment = JournalFixture.segmentBytes(firstSequence: 1, index: 0, records: records, capacity: 8192)
            try fixture.write(JournalSegmentHeader.fileName(firstSequence: 1), segment.bytes)
            let found = corruption { _ = try JournalReader.open(directory: fixture.directory) }
            #expect(found?.offset == segment.offsets[3], "\(label)")
            #expect(found?.sequence == 4, "\(label)")
            #expect(found?.reason.contains(label) == true, "\(label): \(String(describing: found))")
        }
    }

    @Test func aGapBetweenSegmentsIsCorruptionNamingTheLaterSegment() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let first = JournalFixture.segmentBytes(firstSequence: 1, index: 0, records: (1...10).map { JournalFixture.command($0) })
        let second = JournalFixture.segmentBytes(firstSequence: 12, index: 1, records: (12...20).map { JournalFixture.command($0) })
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 1), first.bytes)
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 12), second.bytes)
        let reader = try JournalReader.open(directory: fixture.directory)
        let found = corruption { _ = try reader.verify() }
        #expect(found?.file == fixture.path(JournalSegmentHeader.fileName(firstSequence: 12)))
        #expect(found?.offset == 0)
        #expect(found?.reason.contains("starts at sequence 12 but the previous segment's records end at 10") == true)
    }

    @Test func aDamagedHeaderIsCorruption() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 20, perSegment: 10)
        let name = segments[0].name
        let good = try fixture.read(name)
        // A flipped bit in a checked field; the magic; a truncated header.
        var flipped = good
        flipped[20] ^= 4
        var magic = good
        magic[0] = 0x58
        for (bytes, reason) in [(flipped, "CRC-32C"), (magic, "magic"), (Array(good[..<100]), "header is 100 bytes")] {
            try fixture.write(name, bytes)
            let found = corruption { _ = try JournalReader.open(directory: fixture.directory) }
            #expect(found?.file == fixture.path(name))
            #expect(found?.offset == 0)
            #expect(found?.reason.contains(reason) == true, "\(String(describing: found))")
        }
        // A segment created but never written (all zeros) is named as such.
        try fixture.write(name, [UInt8](repeating: 0, count: 8_192))
        let unwritten = corruption { _ = try JournalReader.open(directory: fixture.directory) }
        #expect(unwritten?.reason.contains("all 8192 bytes are zero, a segment created but never written") == true,
                "\(String(describing: unwritten))")
        // A header whose first sequence is not the file name's.
        try fixture.write(name, good)
        let renamed = JournalSegmentHeader.fileName(firstSequence: 2)
        try fixture.write(renamed, JournalFixture.segmentBytes(firstSequence: 3, index: 0, records: []).bytes)
        let mismatch = corruption { _ = try JournalReader.open(directory: fixture.directory) }
        #expect(mismatch?.reason.contains("file name") == true)
    }

    @Test func aBrokenSegmentIndexChainIsCorruption() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 1),
                          JournalFixture.segmentBytes(firstSequence: 1, index: 0, records: (1...5).map { JournalFixture.command($0) }).bytes)
        try fixture.write(JournalSegmentHeader.fileName(firstSequence: 6),
                          JournalFixture.segmentBytes(firstSequence: 6, index: 2, records: (6...9).map { JournalFixture.command($0) }).bytes)
        let found = corruption { _ = try JournalReader.open(directory: fixture.directory) }
        #expect(found?.reason.contains("segment index 2 follows 0") == true)
    }

    @Test func anEmptyOrMissingDirectoryIsNamed() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        do {
            _ = try JournalReader.open(directory: fixture.directory)
            Issue.record("an empty directory opened")
        } catch {
            #expect(error == .noSegments(directory: fixture.directory))
        }
        do {
            _ = try JournalReader.open(directory: fixture.path("absent"))
            Issue.record("a missing directory opened")
        } catch {
            guard case .io(let system) = error else { Issue.record("\(error)"); return }
            #expect(system.call == "opendir")
            #expect(system.errno == 2)
            #expect(error.description.contains(fixture.path("absent")))
        }
    }

    @Test func filesThatAreNotSegmentsAreLeftAloneOrNamed() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 10, perSegment: 10)
        try fixture.write("notes.txt", Array("not a segment".utf8))
        try fixture.write("00000000000000000001.rtj.tmp", [1, 2, 3])
        #expect(try JournalReader.open(directory: fixture.directory).lastSequence == 10)
        try fixture.write("garbage.rtj", Array("not a segment".utf8))
        let found = corruption { _ = try JournalReader.open(directory: fixture.directory) }
        #expect(found?.file == fixture.path("garbage.rtj"))
        #expect(found?.reason.contains("20 digits") == true)
    }

    /// Whatever the bytes after a valid header, the reader returns records, a torn tail or
    /// a corruption error; it never crashes. Seeded, bounded.
    @Test func arbitraryBytesNeverCrashTheReader() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let name = JournalSegmentHeader.fileName(firstSequence: 1)
        let base = JournalFixture.segmentBytes(firstSequence: 1, index: 0, records: (1...20).map { JournalFixture.command($0) }, capacity: 8192)
        for _ in 0..<300 {
            var bytes = base.bytes
            for _ in 0..<(1 + Int(random() % 6)) {
                let at = JournalSegmentHeader.bytes + Int(random() % UInt64(bytes.count - JournalSegmentHeader.bytes))
                bytes[at] = UInt8(truncatingIfNeeded: random())
            }
            try fixture.write(name, bytes)
            do {
                let reader = try JournalReader.open(directory: fixture.directory)
                _ = try reader.verify()
            } catch .corrupt {
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
