import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeTools
import Foundation
import Testing

/// What `rtes-journal` prints and how it exits: the library functions it is made of, and the
/// built executable itself (`swift build --build-tests` builds it).
@Suite struct JournalToolTests {
    static let enter = SequencedCommand(sequence: 1, command: .enter(EnterOrder(
        timestamp: 34_200_000_000_001, client: 7, token: OrderToken("T1")!, side: .buy, orderType: .limit, shares: 100,
        symbol: Symbol("AAPL")!, price: 2_301_500, timeInForce: .marketHours, firm: Firm("ABCD")!, display: .anonymous,
        capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, customerType: .retail)))

    @Test func anEnterPrintsEveryFieldReadably() {
        #expect(JournalRecord.text(Self.enter)
            == "1 09:30:00.000000001 enter client=7 token=T1 side=buy shares=100 symbol=AAPL price=230.1500 tif=99998 firm=ABCD "
            + "display=anonymous type=limit capacity=agency iso=notEligible min_qty=0 cross=continuous customer=retail")
        #expect(JournalRecord.text(SequencedCommand(sequence: 9, command: .endOfDay(57_600_000_000_000)))
            == "9 16:00:00.000000000 end_of_day")
        // Text fields are external bytes: anything not printable (and the backslash, and an
        // inner space) is written as \xNN, never sent raw to a terminal.
        var odd = Self.enter
        if case .enter(var order) = odd.command {
            order.token = OrderToken(high: 0x4142_0A1B_5C20_4344, low: 0x4520_2020_2020_0000)
            order.symbol = Symbol(rawValue: 0x4141_504C_FF20_2020)
            odd.command = .enter(order)
        }
        let line = JournalRecord.text(odd)
        #expect(line.contains(#" token=AB\x0A\x1B\x5C\x20CDE "#), "\(line)")
        #expect(line.contains(#" symbol=AAPL\xFF "#), "\(line)")
        for command in JournalRecordTests.commands {
            let line = JournalRecord.text(SequencedCommand(sequence: 5, command: command))
            #expect(line.hasPrefix("5 ") && line.contains(" \(JournalRecord.Kind(command)) ") || line.hasSuffix(" \(JournalRecord.Kind(command))"))
        }
    }

    @Test func theFilterSelectsByAccountTokenSymbolSequenceAndKind() {
        let records = (1...32).map { JournalFixture.command(UInt64($0)) }
        func selected(_ filter: JournalRecordFilter) -> [UInt64] { records.filter(filter.matches).map(\.sequence) }
        #expect(selected(JournalRecordFilter()).count == 32)
        #expect(selected(JournalRecordFilter(fromSequence: 10, toSequence: 12)) == [10, 11, 12])
        #expect(selected(JournalRecordFilter(kinds: [.enter])) == records.filter { JournalRecord.Kind($0.command) == .enter }.map(\.sequence))
        // The fixture's enter is client 7; its halt and resume name AAPL too, and its phase
        // commands name AAPL or every symbol.
        let aapl = selected(JournalRecordFilter(symbol: Symbol("AAPL")!))
        #expect(Set(aapl.map { JournalRecord.Kind(JournalFixture.command($0).command) })
            == [.enter, .haltInstrument, .resumeInstrument, .tradingPhase])
        #expect(selected(JournalRecordFilter(account: 7)).allSatisfy { JournalRecord.Kind(JournalFixture.command($0).command) == .enter })
        // TOKEN-0000042 is the Enter's, the Replace's old token, the Cancel's, the Modify's and the Refusal's.
        let token = selected(JournalRecordFilter(token: OrderToken("TOKEN-0000042")!))
        #expect(Set(token.map { JournalRecord.Kind(JournalFixture.command($0).command) }) == [.enter, .replace, .cancel, .modify, .refuse])
        #expect(selected(JournalRecordFilter(token: OrderToken("TOKEN-0000043")!)).allSatisfy {
            JournalRecord.Kind(JournalFixture.command($0).command) == .replace })
        #expect(JournalRecordFilter.kind(named: "cancel_all") == .cancelAll)
        #expect(JournalRecordFilter.kind(named: "bogus") == nil)
    }

    @Test func statisticsCountRecordsKindsBytesAndTime() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 48, perSegment: 20, capacity: 16_384)
        let statistics = try JournalStatistics.gather(try JournalReader.open(directory: fixture.directory))
        #expect(statistics.segments == 3)
        #expect(statistics.fileBytes == 3 * 16_384)
        #expect(statistics.records == 48)
        let commands = (1...48).map { JournalFixture.command(UInt64($0)).command }
        #expect(statistics.recordBytes == commands.reduce(0) { $0 + JournalRecord.Kind($1).recordBytes })
        #expect(statistics.recordsPerKind.values.reduce(0, +) == 48)
        let enters = commands.filter { JournalRecord.Kind($0) == .enter }.count
        #expect(enters >= 2 && statistics.recordsPerKind[.enter] == enters)
        #expect(statistics.firstSequence == 1 && statistics.lastSequence == 48)
        #expect(statistics.firstTimestamp == commands[0].timestamp && statistics.lastTimestamp == commands[47].timestamp)
        #expect(statistics.text.contains("records: 48"))
        #expect(statistics.text.contains("sequences: 1 to 48"))
        #expect(statistics.text.contains("  enter: \(enters) records, \(enters * JournalRecord.Kind.enter.recordBytes) bytes"))
    }

    @Test func verificationSaysWholeTornOrCorruptWithItsStatus() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 30, perSegment: 30, capacity: 8_192)
        let whole = JournalVerification.run(directory: fixture.directory)
        #expect(whole.verdict == .whole && whole.status == 0 && whole.records == 30)
        #expect(whole.text.contains("whole: 1 segments, 30 records, sequences 1 to 30"))
        var bytes = try fixture.read(segments[0].name)
        for i in (segments[0].offsets[29] + 20)..<bytes.count { bytes[i] = 0 }  // a cut inside the last record
        try fixture.write(segments[0].name, bytes)
        let torn = JournalVerification.run(directory: fixture.directory)
        #expect(torn.status == JournalVerification.Status.tornTail && torn.records == 29)
        #expect(torn.text.contains("rtes-journal repair"))
        bytes[segments[0].offsets[3] + 35] ^= 0x80
        try fixture.write(segments[0].name, bytes)
        let corrupt = JournalVerification.run(directory: fixture.directory)
        #expect(corrupt.status == JournalVerification.Status.corrupt)
        #expect(corrupt.text.contains("offset \(segments[0].offsets[3])"))
        let missing = JournalVerification.run(directory: fixture.path("none"))
        #expect(missing.status == JournalVerification.Status.corrupt)
    }

    // MARK: The executable

    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("rtes-journal").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("rtes-journal")
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   errors: String(decoding: errors, as: UTF8.self))
    }

    @Test(.enabled(if: built, "rtes-journal is not built: run `swift build --build-tests`"))
    func theExecutableVerifiesDumpsSummarisesAndRepairsWithItsExitCodes() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let segments = try fixture.writeJournal(count: 40, perSegment: 25, capacity: 8_192)
        let version = try Self.run(["--version"])
        #expect(version.status == 0 && version.output.trimmingCharacters(in: .whitespacesAndNewlines) == RTESVersion.current)

        let verify = try Self.run(["verify", fixture.directory])
        #expect(verify.status == 0, "\(verify.errors)")
        #expect(verify.output.contains("whole: 2 segments, 40 records, sequences 1 to 40"))

        let dump = try Self.run(["dump", fixture.directory, "--kind", "enter", "--from", "2"])
        #expect(dump.status == 0, "\(dump.errors)")
        let expected = (2...40).map { JournalFixture.command(UInt64($0)) }.filter { JournalRecord.Kind($0.command) == .enter }
        #expect(dump.output == expected.map { JournalRecord.text($0) + "\n" }.joined())

        let stats = try Self.run(["stats", fixture.directory])
        #expect(stats.status == 0 && stats.output.contains("records: 40") && stats.output.contains("trading day 2026-12-07"))

        let usage = try Self.run(["dump", fixture.directory, "--kind", "bogus"])
        #expect(usage.status == 64 && usage.errors.contains("unknown kind \"bogus\""), "\(usage.errors)")

        // A torn tail: exit 1 everywhere, then repaired (exit 0), then whole.
        var bytes = try fixture.read(segments[1].name)
        let last = segments[1].offsets.last!
        for i in (last + 20)..<bytes.count { bytes[i] = 0 }
        try fixture.write(segments[1].name, bytes)
        let torn = try Self.run(["verify", fixture.directory])
        #expect(torn.status == 1 && torn.output.contains("torn tail"), "\(torn.output) \(torn.errors)")
        let tornDump = try Self.run(["dump", fixture.directory])
        #expect(tornDump.status == 1 && tornDump.output.split(separator: "\n").count == 39 && tornDump.errors.contains("torn tail"))
        let repair = try Self.run(["repair", fixture.directory])
        #expect(repair.status == 0 && repair.output.contains("repaired: zeroed") && repair.output.contains("at sequence 39"), "\(repair.output)")
        #expect(try Self.run(["verify", fixture.directory]).status == 0)
        #expect(try Self.run(["repair", fixture.directory]).output.contains("nothing changed"))

        // Corruption: exit 2, and repair refuses it, changing nothing.
        bytes = try fixture.read(segments[0].name)
        bytes[segments[0].offsets[5] + 33] ^= 1
        try fixture.write(segments[0].name, bytes)
        let corrupt = try Self.run(["verify", fixture.directory])
        #expect(corrupt.status == 2 && corrupt.errors.contains(fixture.path(segments[0].name)) && corrupt.errors.contains("offset \(segments[0].offsets[5])"))
        let refused = try Self.run(["repair", fixture.directory])
        #expect(refused.status == 2 && refused.errors.contains("refused, nothing changed"))
        #expect(try fixture.read(segments[0].name) == bytes)
        #expect(try Self.run(["stats", fixture.directory]).status == 2)
        #expect(try Self.run(["verify", fixture.path("absent")]).status == 2)
    }
}
