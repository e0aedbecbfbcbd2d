import CExchangeShim

/// How hard a `MemoryRegion` tries for hugepages. The runtime's own enum: the
/// configuration module has its own and maps onto this one.
public enum HugePagePolicy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Ordinary pages; nothing else is tried.
    case off
    /// hugetlbfs, then MAP_HUGETLB, then transparent hugepages, then ordinary pages.
    case auto
    /// hugetlbfs or MAP_HUGETLB, or the allocation fails with ENOMEM.
    case require

    public var description: String { rawValue }

    var shimValue: Int32 {
        switch self {
        case .off: RTES_HUGEPAGES_OFF
        case .auto: RTES_HUGEPAGES_AUTO
        case .require: RTES_HUGEPAGES_REQUIRE
        }
    }
}
