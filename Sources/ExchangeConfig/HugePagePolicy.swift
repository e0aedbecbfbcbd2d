/// `performance.hugepages`: how hard a memory region tries for hugepages. The one policy
/// type: the configuration parses it and the runtime's `MemoryRegion` applies it.
public enum HugePagePolicy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Ordinary pages; nothing else is tried.
    case off
    /// hugetlbfs, then MAP_HUGETLB, then transparent hugepages, then ordinary pages (logged,
    /// never fatal).
    case auto
    /// hugetlbfs or MAP_HUGETLB, or the allocation (and so start-up) fails with ENOMEM.
    case require

    public var description: String { rawValue }
}
