import CExchangeShim

/// The kind of pages a `MemoryRegion` ended up on, best first.
public enum PageKind: Sendable, Hashable, CustomStringConvertible {
    /// Reserved hugepages through libhugetlbfs (`get_huge_pages` on a mounted hugetlbfs).
    case hugetlbfs
    /// Reserved 2 MiB hugepages through an anonymous `mmap` with `MAP_HUGETLB`.
    case hugeTLB
    /// Ordinary memory, 2 MiB aligned, advised `MADV_HUGEPAGE`: the kernel backs it with
    /// transparent hugepages when it can (THP mode "madvise" or "always").
    case transparentHuge
    /// Ordinary 4 KiB pages.
    case normal

    /// Pages from the reserved hugepage pool (vm.nr_hugepages): never split or swapped.
    public var isReservedHugePage: Bool { self == .hugetlbfs || self == .hugeTLB }

    public var description: String {
        switch self {
        case .hugetlbfs: "hugetlbfs"
        case .hugeTLB: "MAP_HUGETLB"
        case .transparentHuge: "transparent hugepages"
        case .normal: "normal pages"
        }
    }

    init(shimKind: Int32) {
        switch shimKind {
        case RTES_PAGE_HUGETLBFS: self = .hugetlbfs
        case RTES_PAGE_HUGETLB: self = .hugeTLB
        case RTES_PAGE_TRANSPARENT_HUGE: self = .transparentHuge
        default: self = .normal
        }
    }
}
