import ExchangeEngine

/// One trading day's journal directory, opened for recovery and for `rtes-journal`.
///
/// `open` reads every segment's header (validating it, the segment index chain and the
/// first sequences) and the last segment's records, which gives the last sequence and any
/// torn tail without reading the whole day. The other segments' records are validated as
/// a `JournalCursor` reads them (CRC, sequence continuity within and across segments);
/// `verify()` reads them all. Reads are large `pread`s into one buffer, so replay costs no
/// system call per record.
public struct JournalReader: Sendable {
    /// The default size of a cursor's read buffer: 4 MiB, large enough that replay is
    /// bound by decoding, not by `pread`.
    public static let defaultReadBytes = 4 << 20

    public let directory: String
    /// The segments in sequence order (never empty).
    public let segments: [JournalSegment]
    /// The sequence of the first record the directory holds (the first segment's; earlier
    /// segments may have been retired once a snapshot covered them).
    public var firstSequence: UInt64 { segments[0].firstSequence }
    /// The sequence of the last whole record; nil when no segment holds a record.
    public let lastSequence: UInt64?
    /// The sequence the next record appended must carry.
    public var nextSequence: UInt64 { lastSequence.map { $0 &+ 1 } ?? segments[segments.count - 1].firstSequence }
    /// The last segment's torn tail, if a crash left one.
    public let tornTail: JournalTornTail?
    /// Where the last segment's whole records end: where a writer resuming the segment
    /// appends (after `repairTornTail` when there is a torn tail).
    public let lastSegmentEnd: Int
    /// The trading day the segments' headers name.
    public var day: String { segments[0].header.day }

    /// Opens `directory`: its segments' headers and its last segment's records. Throws
    /// `.noSegments` for a directory without segments and `.corrupt` for damage anywhere it
    /// looked; a torn tail is not an error (`tornTail`).
    public static func open(directory: String, readBytes: Int = defaultReadBytes) throws(JournalError) -> JournalReader {
        let entries = try JournalDirectory.segments(in: directory)
        guard !entries.isEmpty else { throw .noSegments(directory: directory) }
        var segments: [JournalSegment] = []
        segments.reserveCapacity(entries.count)
        let headerBuffer = UnsafeMutableRawPointer.allocate(byteCount: JournalSegmentHeader.bytes, alignment: 8)
        defer { headerBuffer.deallocate() }
        for entry in entries {
            let file = try JournalReaderFile(path: entry.path)
            defer { file.close() }
            let count = try file.read(into: headerBuffer, count: JournalSegmentHeader.bytes, at: 0)
            func corrupt(_ reason: String) throws(JournalError) -> JournalError {
                // A file of zeros (or empty) was created but never written: say so, rather
                // than only that its header does not decode.
                if try file.isAllZeros(buffer: headerBuffer, capacity: JournalSegmentHeader.bytes) {
                    return .corrupt(JournalCorruption(
                        file: entry.path, offset: 0, sequence: nil,
                        reason: "\(reason): all \(file.size) bytes are zero, a segment created but never written "
                            + "(a crash while creating it?); nothing in it was ever durable"))
                }
                return .corrupt(JournalCorruption(file: entry.path, offset: 0, sequence: nil, reason: reason))
            }
            guard count == JournalSegmentHeader.bytes else {
                throw try corrupt("segment header is \(count) bytes, needs \(JournalSegmentHeader.bytes)")
            }
            let header: JournalSegmentHeader
            switch JournalSegmentHeader.decode(UnsafeRawBufferPointer(start: headerBuffer, count: count)) {
            case .success(let decoded): header = decoded
            case .failure(let error): throw try corrupt(error.description)
            }
            guard header.firstSequence == entry.firstSequence else {
                throw try corrupt("header's first sequence \(header.firstSequence) differs from the file name's \(entry.firstSequence)")
            }
            guard header.firstSequence >= 1 else { throw try corrupt("first sequence 0 (sequences start at 1)") }
            if let previous = segments.last {
                guard header.segmentIndex == previous.header.segmentIndex &+ 1 else {
                    throw try corrupt("segment index \(header.segmentIndex) follows \(previous.header.segmentIndex) (\(previous.name))")
                }
                guard header.day == previous.header.day else {
                    throw try corrupt("trading day \"\(header.day)\" differs from \(previous.name)'s \"\(previous.header.day)\"")
                }
            }
            segments.append(JournalSegment(path: entry.path, name: entry.name, header: header, fileBytes: file.size))
        }
        // The last segment's records: the last sequence and the torn tail.
        var cursor = JournalCursor(segments: segments, startIndex: segments.count - 1, from: 0, readBytes: readBytes)
        var last: UInt64?
        while let record = try cursor.next() { last = record.sequence }
        return JournalReader(directory: directory, segments: segments, lastSequence: last,
                             tornTail: cursor.tornTail, lastSegmentEnd: cursor.segmentEnd)
    }

    /// The records from `sequence` on (from the first when `sequence` is at or below
    /// `firstSequence`), skipping the segments wholly below it without reading them.
    public func records(from sequence: UInt64 = 0, readBytes: Int = defaultReadBytes) -> JournalCursor {
        var start = 0
        while start + 1 < segments.count && segments[start + 1].firstSequence <= sequence { start += 1 }
        return JournalCursor(segments: segments, startIndex: start, from: sequence, readBytes: readBytes)
    }

    /// Reads every record of every segment, checking every CRC and the sequence continuity;
    /// returns how many whole records there are. Throws `.corrupt` at the first damage.
    @discardableResult
    public func verify(readBytes: Int = defaultReadBytes) throws(JournalError) -> Int {
        var cursor = records(readBytes: readBytes)
        var count = 0
        while try cursor.next() != nil { count += 1 }
        return count
    }
}
