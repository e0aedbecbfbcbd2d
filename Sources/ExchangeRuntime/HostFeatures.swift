import CExchangeShim

/// What the host offers the runtime — CPUs, NUMA, hugepages, THP, memory locking,
/// io_uring — probed once at start-up and logged, so a fallback is never silent.
public struct HostFeatures: Sendable {
    /// Online CPUs, ascending.
    public var onlineCPUs: [Int]
    /// CPUs this thread may run on (the process's affinity at start-up).
    public var allowedCPUs: [Int]
    /// libnuma reports NUMA support.
    public var numaAvailable: Bool
    /// NUMA node ids 0..<numaNodes (1 without NUMA).
    public var numaNodes: Int
    /// The default hugepage size (Hugepagesize in /proc/meminfo), nil without hugetlb.
    public var defaultHugePageSize: Int?
    /// The 2 MiB pool, nil when the kernel has none.
    public var hugePages2MiB: HugePageCounts?
    /// The 1 GiB pool, nil when the kernel has none.
    public var hugePages1GiB: HugePageCounts?
    /// The hugetlbfs mount libhugetlbfs uses, nil when none is mounted.
    public var hugetlbfsMount: String?
    /// Transparent hugepage mode: "always", "madvise" or "never"; nil without THP.
    public var transparentHugePages: String?
    /// RLIMIT_MEMLOCK (soft), nil when unlimited.
    public var memoryLockLimit: Int?
    /// CAP_IPC_LOCK: mlock is not limited by RLIMIT_MEMLOCK.
    public var canLockBeyondLimit: Bool
    /// CAP_SYS_NICE: SCHED_FIFO is allowed.
    public var canUseRealtimeScheduling: Bool
    /// io_uring features, nil when not probed.
    public var ioUring: IOUringFeatures?

    /// Probes everything; `ioUring: false` skips the io_uring rings (a few milliseconds).
    public static func probe(ioUring: Bool = true) -> HostFeatures {
        let hugePageSize = rtes_default_hugepage_size()
        return HostFeatures(
            onlineCPUs: (try? CPUAffinity.onlineCPUs()) ?? [],
            allowedCPUs: (try? CPUAffinity.allowedCPUs()) ?? [],
            numaAvailable: NUMATopology.isAvailable,
            numaNodes: NUMATopology.nodeCount,
            defaultHugePageSize: hugePageSize > 0 ? Int(hugePageSize) : nil,
            hugePages2MiB: HugePageCounts.current(pageSize: 2 << 20),
            hugePages1GiB: HugePageCounts.current(pageSize: 1 << 30),
            hugetlbfsMount: hugetlbfsMount(),
            transparentHugePages: transparentHugePageMode(),
            memoryLockLimit: (try? ProcessMemory.lockLimit())?.soft ?? nil,
            canLockBeyondLimit: rtes_has_capability(RTES_CAP_IPC_LOCK) == 1,
            canUseRealtimeScheduling: rtes_has_capability(RTES_CAP_SYS_NICE) == 1,
            ioUring: ioUring ? IOUringFeatures.probe() : nil)
    }

    /// The transparent hugepage mode, nil without THP.
    public static func transparentHugePageMode() -> String? {
        CString.read(capacity: 32) { rtes_thp_mode($0, $1) }
    }

    /// The hugetlbfs mount libhugetlbfs would use, nil when none is mounted.
    public static func hugetlbfsMount() -> String? {
        CString.read(capacity: 4096) { rtes_hugetlbfs_path($0, $1) }
    }

    /// Lines for the start-up log.
    public var report: [String] {
        var lines: [String] = []
        let numa = numaAvailable
            ? "\(numaNodes) NUMA node\(numaNodes == 1 ? "" : "s")"
            : "no NUMA support (one node)"
        lines.append("host: online CPUs \(Self.ranges(onlineCPUs)), allowed \(Self.ranges(allowedCPUs)); \(numa)")

        var huge = "hugepages: default size "
            + (defaultHugePageSize.map(ByteCount.format) ?? "none (no hugetlb support)")
        for counts in [hugePages2MiB, hugePages1GiB].compactMap({ $0 }) {
            huge += "; \(ByteCount.format(counts.pageSize)) pool \(counts.total) "
                + "(\(counts.free) free, \(counts.reserved) promised, \(counts.obtainable) obtainable)"
        }
        huge += "; hugetlbfs \(hugetlbfsMount ?? "not mounted")"
        huge += "; THP \(transparentHugePages ?? "unavailable")"
        lines.append(huge)

        lines.append("privileges: RLIMIT_MEMLOCK "
            + (memoryLockLimit.map(ByteCount.format) ?? "unlimited")
            + (canLockBeyondLimit ? " (CAP_IPC_LOCK: not enforced)" : "")
            + "; SCHED_FIFO " + (canUseRealtimeScheduling ? "allowed (CAP_SYS_NICE)" : "needs CAP_SYS_NICE or RLIMIT_RTPRIO"))
        if let ioUring { lines.append(ioUring.report) }
        return lines
    }

    /// "0-3, 6, 8-9"
    static func ranges(_ numbers: [Int]) -> String {
        guard !numbers.isEmpty else { return "none" }
        var parts: [String] = []
        var start = numbers[0], end = numbers[0]
        func flush() { parts.append(start == end ? "\(start)" : "\(start)-\(end)") }
        for number in numbers.dropFirst() {
            if number == end + 1 { end = number } else { flush(); start = number; end = number }
        }
        flush()
        return parts.joined(separator: ",")
    }
}
