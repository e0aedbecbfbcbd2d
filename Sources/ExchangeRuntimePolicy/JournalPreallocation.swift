/// `durability.preallocate`: how a journal segment's space is reserved before records go in.
/// Parsed by ExchangeConfig, applied by the journal agent (docs/DURABILITY.md, "Segments").
public enum JournalPreallocation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// fallocate only (the default): the blocks are reserved but unwritten, so the first write
    /// into each makes the filesystem convert its extent, metadata that fdatasync must also
    /// make durable.
    case fallocate
    /// fallocate, then zeros written over the whole segment (off the journal's thread, ahead of
    /// need): the records then overwrite written blocks, and an fdatasync has only data to
    /// flush — half the fdatasync latency in fio here, no gain in the exchange's own sync p50
    /// (docs/DURABILITY.md says why), and each segment written twice.
    case zeros

    public var description: String { rawValue }
}
