/// `durability.sync_method`: how the journal agent makes a batch durable. Parsed by
/// ExchangeConfig, applied by the journal agent (docs/DURABILITY.md, "Group commit").
public enum JournalSyncMethod: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `dsync` with O_DIRECT where the kernel takes RWF_DSYNC (probed at start on the first
    /// segment, and logged), else `fdatasync` (buffered writes keep it: not measured with dsync).
    case auto
    /// One io_uring write with RWF_DSYNC: the kernel makes the write durable before it
    /// completes (on a disk without FUA, as here, a flush after the write, done by the
    /// kernel's own completion work rather than a second io_uring operation).
    case dsync
    /// A write linked to an fdatasync: two io_uring operations per batch.
    case fdatasync

    public var description: String { rawValue }
}
