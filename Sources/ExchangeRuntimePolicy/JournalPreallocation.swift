/// `durability.preallocate`: how a journal segment's space is reserved before records go in.
/// Parsed by ExchangeConfig, applied by the journal agent (docs/DURABILITY.md, "Segments").
public enum JournalPreallocation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// fallocate, then zeros written over the whole segment (off the journal's thread, ahead of
    /// need): the records then overwrite written blocks, and an fdatasync has only data to
    /// flush. On ext4 this halved fdatasync latency (docs/DURABILITY.md).
    case zeros
    /// fallocate only: the blocks are reserved but unwritten, so the first write to each makes
    /// the filesystem convert its extent, metadata every fdatasync must also make durable.
    case fallocate

    public var description: String { rawValue }
}
