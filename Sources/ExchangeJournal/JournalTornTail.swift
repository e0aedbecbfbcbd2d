/// The end of the last segment cut by a crash mid-write: after the last whole record, a
/// record that is cut short or fails its CRC, followed only by zeros (the preallocated
/// file's) or by the end of the file. Nothing after `wholeEnd` was ever durable, so nothing
/// after it was ever acknowledged in `sync`; recovery discards it
/// (`JournalReader.repairTornTail(directory:)`) and reports it.
public struct JournalTornTail: Equatable, Sendable, CustomStringConvertible {
    /// The last segment's path.
    public var file: String
    /// The offset where the last whole record ends: everything before it is kept.
    public var wholeEnd: Int
    /// The offset after the last non-zero byte of the damaged record (or the end of the
    /// file when the file ends inside it): the bytes from `wholeEnd` to here are discarded.
    public var damagedEnd: Int
    /// The sequence of the last whole record, nil when the segment holds none.
    public var lastWholeSequence: UInt64?
    /// What is wrong with the bytes at `wholeEnd`.
    public var reason: String

    public init(file: String, wholeEnd: Int, damagedEnd: Int, lastWholeSequence: UInt64?, reason: String) {
        self.file = file
        self.wholeEnd = wholeEnd
        self.damagedEnd = damagedEnd
        self.lastWholeSequence = lastWholeSequence
        self.reason = reason
    }

    public var discardedBytes: Int { damagedEnd - wholeEnd }

    public var description: String {
        let last = lastWholeSequence.map { "after sequence \($0)" } ?? "before the first record"
        return "torn tail in \(file): \(discardedBytes) bytes from offset \(wholeEnd) to \(damagedEnd), \(last) (\(reason))"
    }
}
