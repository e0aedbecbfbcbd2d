/// One segment file of a journal directory as the reader found it: where it is and its
/// decoded header. The records are read by a `JournalCursor`.
public struct JournalSegment: Equatable, Sendable {
    public var path: String
    public var name: String
    public var header: JournalSegmentHeader
    /// The file's size in bytes (its preallocated capacity, or less when it was not).
    public var fileBytes: Int

    public var firstSequence: UInt64 { header.firstSequence }
}
