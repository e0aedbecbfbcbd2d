import ExchangeEngine

/// Follows a journal directory that a journal agent is still writing: returns its records in
/// order, each once, but only those at or below a limit the caller passes — the durable
/// sequence the journal agent published (`DurablePosition`, counter `journal.durable_sequence`).
/// A record at or below it has been written and synced, so it is whole on the disk; anything
/// above it may be half written, or not yet written (the preallocated zeros of the segment's
/// tail), and is never read as damage: `next(upTo:)` returns nil and the caller polls again.
///
/// It keeps its place: one open segment, a read position and a buffer. A poll reads from the
/// position on (64 KiB while it is caught up, the whole buffer while it catches up), never the
/// segment again from its start. When the current segment's records end (zeros or the end of
/// the file) and the limit says the next record is durable, it lists the directory for the
/// segment that starts with that sequence (the journal agent renames a segment into place
/// before it publishes any record in it) and checks its header: the same day, the next index.
///
/// Every record is checked as `JournalCursor` checks it (CRC, fields) and must carry the
/// previous one's sequence + 1. A record at or below the limit that does not read back, or a
/// segment that should be there and is not, is damage: `JournalError.corrupt`. Cold path: the
/// snapshot agent, the journal archive, `rtes-dropcopy`, a standby — never the engine's or the gateway's thread.
///
/// ```
/// var follower = JournalFollower(directory: dayDirectory, from: snapshot.sequence + 1)
/// while running {
///     while let record = try follower.next(upTo: durable.sequence) { replica.apply(record) }
///     park()
/// }
/// ```
public struct JournalFollower: ~Copyable {
    /// The read size while the follower is caught up: a poll of an idle journal reads this.
    public static let pollBytes = 64 << 10
    public static let defaultReadBytes = 1 << 20

    public let directory: String
    /// Records below it are read (their sequence checked) but not returned.
    public let from: UInt64
    let buffer: UnsafeMutableRawPointer
    let capacity: Int
    var file: JournalReaderFile?
    /// The open segment's header (nil before the first segment is found).
    public private(set) var segment: JournalSegment?
    /// The file offset of `buffer[0]`, the bytes in the buffer, and the read position in it.
    var bufferOffset = 0
    var bufferCount = 0
    var position = 0
    /// Whether the last poll ended with nothing new: the next refill reads `pollBytes`.
    var idle = false
    /// The sequence the next record must carry; nil until the first segment is open.
    public private(set) var expected: UInt64?
    /// The limit when the buffer was last filled: its records up to this one are whole.
    var trustedLimit: UInt64 = 0

    /// Follows `directory` from sequence `from` (records below it are skipped; the segment
    /// holding it is found on the first `next`). Touches nothing until then, so the directory
    /// may not have a segment yet.
    public init(directory: String, from: UInt64, readBytes: Int = defaultReadBytes) {
        self.directory = directory
        self.from = max(from, 1)
        capacity = max(readBytes, Self.pollBytes, 4 * JournalRecord.maximumBytes)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4_096)
    }

    deinit {
        file?.close()
        buffer.deallocate()
    }

    /// The next record at or above `from` whose sequence is at most `limit`; nil when there is
    /// none yet (call again later with the same or a higher limit).
    public mutating func next(upTo limit: UInt64) throws(JournalError) -> SequencedCommand? {
        if file == nil {
            guard try openFirstSegment(limit: limit) else { return nil }
        }
        while true {
            guard let expected, expected <= limit else {
                // Bytes past the last record returned were read under an older limit: they
                // may be zeros or half a record that is whole by the next poll. Read again.
                bufferCount = position
                idle = true
                return nil
            }
            if expected > trustedLimit || bufferCount &- position < JournalRecord.maximumBytes {
                // Read again from the position: bytes read under an older limit are not trusted.
                bufferCount = position
                try refill()
                trustedLimit = limit
            }
            let bytes = UnsafeRawBufferPointer(start: buffer + position, count: bufferCount &- position)
            if bytes.count < 8 || JournalRecord.isEnd(bytes) {
                // The records written so far end here, and `expected` is durable: it must be
                // the first record of the next segment.
                guard try openNextSegment() else {
                    throw corrupt(at: bufferOffset &+ position,
                                  "sequence \(expected) is durable (limit \(limit)) but the segment's records end here and no segment starts with it")
                }
                continue
            }
            switch JournalRecord.decode(bytes) {
            case .success(let decoded):
                guard decoded.command.sequence == expected else {
                    let found = decoded.command.sequence
                    throw corrupt(at: bufferOffset &+ position,
                                  found < expected ? "sequence \(found) repeats (expected \(expected))"
                                                   : "sequence gap: \(found) follows \(expected &- 1)")
                }
                position &+= decoded.length
                self.expected = expected &+ 1
                idle = false
                if decoded.command.sequence < from { continue }
                return decoded.command
            case .failure(let error):
                throw corrupt(at: bufferOffset &+ position, "sequence \(expected) is durable (limit \(limit)) but \(error.description)")
            }
        }
    }

    func corrupt(at offset: Int?, _ reason: String) -> JournalError {
        .corrupt(JournalCorruption(file: segment?.path ?? directory, offset: offset, sequence: expected, reason: reason))
    }

    /// Opens the segment that holds `from` (the last one starting at or below it, else the
    /// first). False when the directory holds no segment yet and nothing is durable.
    mutating func openFirstSegment(limit: UInt64) throws(JournalError) -> Bool {
        let entries = try JournalDirectory.segments(in: directory)
        guard !entries.isEmpty else {
            if limit >= from { throw .noSegments(directory: directory) }
            return false
        }
        guard entries[0].firstSequence <= from else {
            throw .corrupt(JournalCorruption(
                file: entries[0].path, offset: nil, sequence: from,
                reason: "the journal starts at sequence \(entries[0].firstSequence), after \(from) (its earlier segments were retired)"))
        }
        var chosen = entries[0]
        for entry in entries where entry.firstSequence <= from { chosen = entry }
        try open(chosen, previous: nil)
        return true
    }

    /// Opens the segment that starts with `expected`, after the current one; false when the
    /// directory holds none.
    mutating func openNextSegment() throws(JournalError) -> Bool {
        guard let expected, let current = segment else { return false }
        let entries = try JournalDirectory.segments(in: directory)
        guard let entry = entries.first(where: { $0.firstSequence == expected }) else { return false }
        try open(entry, previous: current)
        return true
    }

    mutating func open(_ entry: JournalDirectory.Entry, previous: JournalSegment?) throws(JournalError) {
        let opened = try JournalReaderFile(path: entry.path)
        var keep = false
        defer { if !keep { opened.close() } }
        let count = try opened.read(into: buffer, count: JournalSegmentHeader.bytes, at: 0)
        func corrupt(_ reason: String) -> JournalError {
            .corrupt(JournalCorruption(file: entry.path, offset: 0, sequence: entry.firstSequence, reason: reason))
        }
        guard count == JournalSegmentHeader.bytes else {
            throw corrupt("segment header is \(count) bytes, needs \(JournalSegmentHeader.bytes)")
        }
        let header: JournalSegmentHeader
        switch JournalSegmentHeader.decode(UnsafeRawBufferPointer(start: buffer, count: count)) {
        case .success(let decoded): header = decoded
        case .failure(let error): throw corrupt(error.description)
        }
        guard header.firstSequence == entry.firstSequence else {
            throw corrupt("header's first sequence \(header.firstSequence) differs from the file name's \(entry.firstSequence)")
        }
        if let previous {
            guard header.segmentIndex == previous.header.segmentIndex &+ 1 else {
                throw corrupt("segment index \(header.segmentIndex) follows \(previous.header.segmentIndex) (\(previous.name))")
            }
            guard header.day == previous.header.day else {
                throw corrupt("trading day \"\(header.day)\" differs from \(previous.name)'s \"\(previous.header.day)\"")
            }
        }
        file?.close()
        file = opened
        keep = true
        segment = JournalSegment(path: entry.path, name: entry.name, header: header, fileBytes: opened.size)
        expected = header.firstSequence
        bufferOffset = JournalSegmentHeader.bytes
        bufferCount = 0
        position = 0
        trustedLimit = 0
        idle = false
    }

    /// Moves what is left to the front of the buffer and reads on from the file. The file
    /// may have grown since it was opened (a buffered segment is preallocated, but a test or
    /// a tool may append), so the read is not bounded by the size seen at open.
    mutating func refill() throws(JournalError) {
        guard let file else { return }
        let remaining = bufferCount &- position
        if remaining > 0 && position > 0 { buffer.copyMemory(from: buffer + position, byteCount: remaining) }
        bufferOffset &+= position
        position = 0
        bufferCount = remaining
        let want = min(capacity &- remaining, idle ? Self.pollBytes : capacity)
        guard want > 0 else { return }
        bufferCount &+= try file.read(into: buffer + remaining, count: want, at: bufferOffset &+ remaining)
    }
}
