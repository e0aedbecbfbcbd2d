/// `performance.hugepages`: how hard a memory region tries for hugepages. The one policy
/// type: ExchangeConfig parses it and ExchangeRuntime's `MemoryRegion` applies it; it lives
/// here, in a target that depends on nothing, so that neither imports the other.
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
