import ExchangeEngine

/// Reads a journal's records in order, from a `JournalReader`: one segment at a time,
/// through one buffer filled by large `pread`s, decoding each record in place. Every record
/// is checked (CRC, kind, fields) and must carry the previous record's sequence + 1, within a
/// segment and across segments. Damage throws `JournalError.corrupt` naming the file, the
/// offset and the expected sequence — except a torn tail in the last segment, which ends the
/// iteration and is reported in `tornTail`.
///
/// ```
/// var cursor = reader.records(from: snapshot.sequence + 1)
/// while let record = try cursor.next() { engine.apply(record.command) }
/// ```
public struct JournalCursor: ~Copyable {
    let segments: [JournalSegment]
    let from: UInt64
    let buffer: UnsafeMutableRawPointer
    let capacity: Int
    /// The segment being read (`segments.count` once finished).
    var index: Int
    var file: JournalReaderFile?
    /// The file offset of `buffer[0]`, the bytes in the buffer, and the read position in it.
    var bufferOffset = 0
    var bufferCount = 0
    var position = 0
    /// The sequence the next record must carry.
    var expected: UInt64

    /// The torn tail that ended the iteration, if one did.
    public private(set) var tornTail: JournalTornTail?
    /// Where the whole records read so far in the current (or last finished) segment end.
    public private(set) var segmentEnd = JournalSegmentHeader.bytes
    /// The segment (an index into `JournalReader.segments`) and the byte offset of the
    /// record `next()` returned last, and its length.
    public private(set) var recordSegment = 0
    public private(set) var recordOffset = 0
    public private(set) var recordLength = 0

    init(segments: [JournalSegment], startIndex: Int, from: UInt64, readBytes: Int) {
        self.segments = segments
        self.from = from
        capacity = max(readBytes, 4 * JournalRecord.maximumBytes)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4_096)
        index = startIndex
        expected = segments.isEmpty ? 1 : segments[startIndex].firstSequence
    }

    deinit {
        file?.close()
        buffer.deallocate()
    }

    /// The next record at or above the cursor's starting sequence; nil at the end of the
    /// journal (or of its whole records, when the tail is torn).
    public mutating func next() throws(JournalError) -> SequencedCommand? {
        while index < segments.count {
            if file == nil { try openSegment() }
            if bufferCount &- position < JournalRecord.maximumBytes { try refill() }
            let offset = bufferOffset &+ position
            let bytes = UnsafeRawBufferPointer(start: buffer + position, count: bufferCount &- position)
            if bytes.isEmpty {
                try endSegment(at: offset)
                continue
            }
            if bytes.count >= 8 && JournalRecord.isEnd(bytes) {
                if let dataEnd = try nonZeroEnd(from: offset) {
                    try damaged(at: offset, extent: JournalRecord.maximumBytes, dataEnd: dataEnd,
                                reason: "non-zero bytes after a zero length word")
                } else {
                    try endSegment(at: offset)
                }
                continue
            }
            switch JournalRecord.decode(bytes) {
            case .success(let decoded):
                guard decoded.command.sequence == expected else {
                    let found = decoded.command.sequence
                    throw corrupt(at: offset, found < expected ? "sequence \(found) repeats (expected \(expected))"
                                                               : "sequence gap: \(found) follows \(expected &- 1)")
                }
                position &+= decoded.length
                expected &+= 1
                segmentEnd = offset &+ decoded.length
                if decoded.command.sequence < from { continue }
                recordSegment = index
                recordOffset = offset
                recordLength = decoded.length
                return decoded.command
            case .failure(let error):
                guard let dataEnd = try nonZeroEnd(from: offset) else {
                    // Fewer than 8 bytes left before the end of the file, all zero.
                    try endSegment(at: offset)
                    continue
                }
                let claimed = bytes.count >= 8 ? Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) : 0
                let plausible = claimed >= JournalRecord.headerBytes && claimed % 8 == 0 && claimed <= JournalRecord.maximumBytes
                try damaged(at: offset, extent: plausible ? claimed : JournalRecord.maximumBytes, dataEnd: dataEnd,
                            reason: error.description)
            }
        }
        return nil
    }

    func corrupt(at offset: Int?, _ reason: String) -> JournalError {
        .corrupt(JournalCorruption(file: segments[min(index, segments.count - 1)].path, offset: offset, sequence: expected, reason: reason))
    }

    mutating func openSegment() throws(JournalError) {
        file = try JournalReaderFile(path: segments[index].path)
        bufferOffset = JournalSegmentHeader.bytes
        bufferCount = 0
        position = 0
        segmentEnd = JournalSegmentHeader.bytes
    }

    /// Moves what is left to the front of the buffer and fills the rest from the file.
    mutating func refill() throws(JournalError) {
        guard let file else { return }
        let remaining = bufferCount &- position
        if remaining > 0 && position > 0 { buffer.copyMemory(from: buffer + position, byteCount: remaining) }
        bufferOffset &+= position
        position = 0
        bufferCount = remaining
        guard bufferOffset &+ remaining < file.size else { return }
        bufferCount &+= try file.read(into: buffer + remaining, count: capacity &- remaining, at: bufferOffset &+ remaining)
    }

    /// The offset after the last non-zero byte from `offset` to the end of the file; nil
    /// when it is all zeros. Uses (and spoils) the buffer: the segment ends here either way.
    mutating func nonZeroEnd(from offset: Int) throws(JournalError) -> Int? {
        guard let file else { return nil }
        var end: Int?
        var at = offset
        while at < file.size {
            let n = try file.read(into: buffer, count: capacity, at: at)
            if n == 0 { break }
            if let last = Self.lastNonZero(buffer, n) { end = at &+ last &+ 1 }
            at &+= n
        }
        bufferOffset = offset
        bufferCount = 0
        position = 0
        return end
    }

    static func lastNonZero(_ p: UnsafeMutableRawPointer, _ count: Int) -> Int? {
        var i = count
        while i % 8 != 0 {
            i &-= 1
            if p.load(fromByteOffset: i, as: UInt8.self) != 0 { return i }
        }
        while i > 0 {
            i &-= 8
            if p.load(fromByteOffset: i, as: UInt64.self) != 0 {
                var j = i &+ 7
                while p.load(fromByteOffset: j, as: UInt8.self) == 0 { j &-= 1 }
                return j
            }
        }
        return nil
    }

    /// A record that does not decode at `offset`, with non-zero bytes up to `dataEnd`: a torn
    /// tail when it is in the last segment and nothing follows the record's `extent`;
    /// corruption otherwise.
    mutating func damaged(at offset: Int, extent: Int, dataEnd: Int, reason: String) throws(JournalError) {
        let isLast = index == segments.count - 1
        guard isLast else { throw corrupt(at: offset, "\(reason), in a segment that is not the last") }
        guard dataEnd <= offset &+ extent else {
            throw corrupt(at: offset, "\(reason), followed by more data (non-zero bytes up to offset \(dataEnd))")
        }
        let first = segments[index].firstSequence
        tornTail = JournalTornTail(file: segments[index].path, wholeEnd: offset, damagedEnd: dataEnd,
                                   lastWholeSequence: expected > first ? expected &- 1 : nil, reason: reason)
        segmentEnd = offset
        file?.close()
        file = nil
        index = segments.count
    }

    /// The current segment's records end at `offset`; the next segment must start with the
    /// sequence that follows.
    mutating func endSegment(at offset: Int) throws(JournalError) {
        segmentEnd = offset
        file?.close()
        file = nil
        index &+= 1
        if index < segments.count && segments[index].firstSequence != expected {
            let next = segments[index]
            throw .corrupt(JournalCorruption(
                file: next.path, offset: 0, sequence: expected,
                reason: "segment starts at sequence \(next.firstSequence) but the previous segment's records end at \(expected &- 1)"))
        }
    }
}
