import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Glibc
import Testing

/// A temporary journal directory the tests write segments into with the record and header
/// encoders alone (not the journal agent), and remove afterwards.
struct JournalFixture {
    let directory: String

    init() throws {
        var template = Array("/tmp/rtes-journal-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        directory = String(cString: try #require(made))
    }

    /// Removes the directory and every file in it.
    func remove() {
        if let stream = opendir(directory) {
            while let entry = readdir(stream) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(stream)
        }
        rmdir(directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A command of a rotating kind for `sequence` (every kind appears).
    static func command(_ sequence: UInt64) -> SequencedCommand {
        // Without the operator notes (OperatorNoteTests has them): the fixture's days keep their shape.
        let all = JournalRecordTests.commands.filter { if case .operatorNote = $0 { false } else { true } }
        return SequencedCommand(sequence: sequence, command: all[Int(sequence % UInt64(all.count))])
    }

    /// A segment's bytes: the header, the records back to back, zeros up to `capacity`
    /// (when given; else the file ends after the last record). Returns the bytes and each
    /// record's offset.
    static func segmentBytes(firstSequence: UInt64, index: UInt64, records: [SequencedCommand], capacity: Int? = nil,
                             day: String = "2026-12-07") -> (bytes: [UInt8], offsets: [Int]) {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: JournalSegmentHeader.bytes, alignment: 8)
        defer { scratch.deallocate() }
        let end = JournalSegmentHeader.bytes + records.reduce(0) { $0 + JournalRecord.Kind($1.command).recordBytes }
        let size = max(capacity ?? end, end)
        JournalSegmentHeader(firstSequence: firstSequence, segmentIndex: index, createdAt: 1_765_000_000_000_000_000,
                             capacity: UInt64(size), day: day).encode(to: scratch)
        var bytes = Array(UnsafeRawBufferPointer(start: scratch, count: JournalSegmentHeader.bytes))
        var offsets: [Int] = []
        for record in records {
            offsets.append(bytes.count)
            let length = JournalRecord.encode(record, to: scratch)
            bytes += UnsafeRawBufferPointer(start: scratch, count: length)
        }
        bytes += [UInt8](repeating: 0, count: size - bytes.count)
        return (bytes, offsets)
    }

    /// Writes `bytes` as the file `name` (replacing it).
    func write(_ name: String, _ bytes: [UInt8]) throws {
        let fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        try #require(written == bytes.count)
    }

    func read(_ name: String) throws -> [UInt8] {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var st = Glibc.stat()
        try #require(fstat(fd, &st) == 0)
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        try #require(got == bytes.count)
        return bytes
    }

    /// Writes segments of `perSegment` records each for sequences `1...count` (the last
    /// segment may be shorter), preallocated to `capacity`. Returns each segment's name and
    /// record offsets.
    @discardableResult
    func writeJournal(count: Int, perSegment: Int, capacity: Int? = nil, first: UInt64 = 1) throws -> [(name: String, offsets: [Int])] {
        var written: [(name: String, offsets: [Int])] = []
        var sequence = first
        var index: UInt64 = 0
        let end = first + UInt64(count)
        repeat {
            let n = min(perSegment, Int(end - sequence))
            let records = (0..<UInt64(n)).map { Self.command(sequence + $0) }
            let segment = Self.segmentBytes(firstSequence: sequence, index: index, records: records, capacity: capacity)
            let name = JournalSegmentHeader.fileName(firstSequence: sequence)
            try write(name, segment.bytes)
            written.append((name, segment.offsets))
            sequence += UInt64(n)
            index += 1
        } while sequence < end
        return written
    }
}

/// All the records a reader yields from `sequence`.
func readAll(_ reader: JournalReader, from sequence: UInt64 = 0, readBytes: Int = JournalReader.defaultReadBytes) throws(JournalError) -> [SequencedCommand] {
    var cursor = reader.records(from: sequence, readBytes: readBytes)
    var records: [SequencedCommand] = []
    while let record = try cursor.next() { records.append(record) }
    return records
}

/// The corruption `body` throws, nil (and a recorded issue) when it throws none or another error.
func corruption(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> JournalCorruption? {
    do {
        try body()
        Issue.record("expected a corruption error, got none", sourceLocation: sourceLocation)
    } catch JournalError.corrupt(let corruption) {
        return corruption
    } catch {
        Issue.record("expected a corruption error, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
