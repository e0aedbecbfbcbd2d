import CExchangeShim

/// The persistent hugepage pool of one page size
/// (/sys/kernel/mm/hugepages/hugepages-<size>kB/).
public struct HugePageCounts: Sendable, Hashable {
    /// Page size in bytes.
    public var pageSize: Int
    /// Pages in the pool (vm.nr_hugepages for the default size).
    public var total: Int
    /// Pages not in use.
    public var free: Int
    /// Free pages already promised to mappings that have not faulted them yet.
    public var reserved: Int
    /// Pages allocated beyond `total` under overcommit.
    public var surplus: Int
    /// How many surplus pages may exist (vm.nr_overcommit_hugepages for the default size).
    public var overcommit: Int

    /// Pages a new mapping can still get.
    public var obtainable: Int { max(0, free - reserved + max(0, overcommit - surplus)) }

    /// The pool for `pageSize` bytes, or nil when the kernel has none of that size.
    public static func current(pageSize: Int) -> HugePageCounts? {
        var counts = rtes_hugepage_counts()
        guard pageSize > 0, rtes_hugepage_counts_for_size(pageSize, &counts) == 0 else { return nil }
        return HugePageCounts(
            pageSize: pageSize, total: Int(counts.total), free: Int(counts.free),
            reserved: Int(counts.reserved), surplus: Int(counts.surplus),
            overcommit: Int(counts.overcommit))
    }
}
