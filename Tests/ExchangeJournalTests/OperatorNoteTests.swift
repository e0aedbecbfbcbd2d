import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Testing

/// An operator's note of who took an action and why: split into records that each fit a
/// command, checked as it is made and as it is read, joined again for `rtes-journal dump`.
@Suite struct OperatorNoteTests {
    @Test func aNoteSplitsIntoRecordsAndJoinsAgain() throws {
        let reason = "runaway algo on LOAD1: 40,000 orders in a minute; see ticket INC-4512 \"urgent\""
        let notes = try #require(OperatorNote.records(action: .killFirm, subject: UInt64(Firm("LODS")!.rawValue), who: "ops.one",
                                                     reason: reason, timestamp: 5))
        #expect(notes.count == (7 + reason.utf8.count + OperatorNote.chunkBytes - 1) / OperatorNote.chunkBytes)
        #expect(notes.allSatisfy { Int($0.parts) == notes.count && $0.whoLength == 7 })
        #expect(notes.map(\.part) == Array(0..<UInt8(notes.count)))
        var assembler = OperatorNote.Assembler()
        var whole: OperatorNote.Assembler.Whole?
        for (i, note) in notes.enumerated() {
            whole = assembler.add(note)
            #expect((whole != nil) == (i == notes.count - 1))
        }
        #expect(whole == .init(action: .killFirm, subject: UInt64(Firm("LODS")!.rawValue), who: "ops.one", reason: reason))

        // A line for the dump: quotes escaped, the subject as a firm.
        let last = SequencedCommand(sequence: 12, command: .operatorNote(notes.last!))
        let line = JournalRecord.text(try #require(whole), first: 10, last: last)
        #expect(line.hasPrefix("12 00:00:00.000000005 operator who=ops.one action=kill_firm subject=LODS reason=\"runaway algo"), "\(line)")
        #expect(line.hasSuffix(#"ticket INC-4512 \"urgent\"" records=10-12"#), "\(line)")
        #expect(JournalRecord.text(last).contains("operator_note action=kill_firm subject=LODS part=3/3 text="))
    }

    @Test func aReasonMustBePrintableASCIIAndBounded() {
        #expect(OperatorNote.records(action: .halt, subject: 0, who: "ops1", reason: "") == nil)
        #expect(OperatorNote.records(action: .halt, subject: 0, who: "ops1", reason: "café") == nil)
        #expect(OperatorNote.records(action: .halt, subject: 0, who: "ops1", reason: "line\nbreak") == nil)
        #expect(OperatorNote.records(action: .halt, subject: 0, who: "ops1",
                                     reason: String(repeating: "x", count: OperatorNote.maximumReasonBytes + 1)) == nil)
        #expect(OperatorNote.records(action: .halt, subject: 0, who: String(repeating: "o", count: 33), reason: "x") == nil)
        let longest = OperatorNote.records(action: .halt, subject: 0, who: String(repeating: "o", count: OperatorNote.maximumWhoBytes),
                                           reason: String(repeating: "x", count: OperatorNote.maximumReasonBytes))
        #expect(longest?.count == OperatorNote.maximumParts)
    }

    @Test func anAssemblerDropsANoteMissingAPart() throws {
        let a = try #require(OperatorNote.records(action: .killAccount, subject: 3, who: "ops1", reason: String(repeating: "a", count: 100)))
        let b = try #require(OperatorNote.records(action: .reinstateAccount, subject: 3, who: "ops1", reason: "ok"))
        var assembler = OperatorNote.Assembler()
        #expect(assembler.add(a[0]) == nil)
        #expect(assembler.add(a[2]) == nil)  // part 1 missing: dropped
        #expect(assembler.add(b[0])?.reason == "ok")
    }

    @Test func aDamagedNoteRecordIsNamed() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.maximumBytes, alignment: 8)
        defer { buffer.deallocate() }
        var note = try #require(OperatorNote.records(action: .halt, subject: 0, who: "ops1", reason: "x")?.first)
        note.part = 2  // of 1
        let length = JournalRecord.encode(SequencedCommand(sequence: 1, command: .operatorNote(note)), to: buffer)
        let decoded = JournalRecord.decode(UnsafeRawBufferPointer(start: buffer, count: length))
        #expect(decoded.failure == .invalidField("operator note part", 2))
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { f } else { nil } }
}
