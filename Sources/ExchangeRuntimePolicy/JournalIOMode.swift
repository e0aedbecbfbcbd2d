/// `durability.io`: how the journal agent writes its segments. Parsed by ExchangeConfig,
/// applied by the journal agent; it lives here, beside `DurabilityMode`, so that neither
/// imports the other.
public enum JournalIOMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// O_DIRECT when the journal's filesystem accepts it (probed at start, and logged),
    /// else buffered.
    case auto
    /// O_DIRECT, or refuse to start where the filesystem does not accept it (ramfs does not; tmpfs has accepted it since Linux 6.6).
    case direct
    /// Through the page cache, made durable by fdatasync.
    case buffered

    public var description: String { rawValue }
}
