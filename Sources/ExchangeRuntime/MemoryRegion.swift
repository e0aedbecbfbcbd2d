import CExchangeShim
import ExchangeRuntimePolicy

/// One block of memory for the start-up allocator: mapped on the best pages the policy
/// allows, optionally bound to a NUMA node before first touch, pre-faulted (every page
/// touched, contents zero) so nothing faults on a hot path, optionally locked.
///
/// Owns its mapping: `deinit` (or `release()`) unmaps it. Not copyable, so exactly one
/// owner frees it; `base` stays valid while the region is alive.
public struct MemoryRegion: ~Copyable {
    /// The name in the start-up log.
    public let name: String
    /// The policy it was allocated under.
    public let policy: HugePagePolicy
    /// Start of the region, aligned to `pageSize`.
    public let base: UnsafeMutableRawPointer
    /// Mapped size: the requested size rounded up to `pageSize`.
    public let bytes: Int
    /// What the caller asked for.
    public let requestedBytes: Int
    /// 4 KiB, or the hugepage size (2 MiB for transparent hugepages too).
    public let pageSize: Int
    /// The kind of pages obtained.
    public let pageKind: PageKind
    /// Where it is bound on a NUMA host.
    public let binding: NodeBinding
    /// Whether it was locked.
    public let lockResult: LockResult
    /// Why reserved hugepages were not used, when the policy tried them and fell back.
    public let hugePageFallback: SystemError?

    private var region: rtes_region

    /// The node the region is bound to, or nil.
    public var node: Int? { binding.node }

    /// Maps `bytes` bytes under `policy`, binds them to `node` (when given and present),
    /// touches every page and locks the region when `lock` is set.
    ///
    /// Throws for an empty request, for `.require` when no hugepages can be had (ENOMEM),
    /// and when even ordinary pages cannot be mapped. A node that does not exist and a
    /// lock that fails do not throw: `binding` and `lockResult` report them.
    public static func allocate(
        name: String,
        bytes: Int,
        policy: HugePagePolicy,
        node: Int? = nil,
        lock: Bool
    ) throws(SystemError) -> MemoryRegion {
        guard bytes > 0 else {
            throw SystemError(call: "MemoryRegion.allocate", errno: 22 /* EINVAL */,
                              detail: "region '\(name)': \(bytes) bytes requested")
        }
        var raw = rtes_region()
        let requestedNode = node.map { Int32(clamping: $0) } ?? -1
        let result = rtes_region_allocate(bytes, policy.shimValue, requestedNode, lock ? 1 : 0, &raw)
        guard result == 0, let base = raw.base else {
            throw allocationError(name: name, bytes: bytes, policy: policy, result: result, raw: raw)
        }
        return MemoryRegion(name: name, policy: policy, base: base, raw: raw)
    }

    private init(name: String, policy: HugePagePolicy, base: UnsafeMutableRawPointer, raw: rtes_region) {
        self.name = name
        self.policy = policy
        self.base = base
        self.bytes = raw.mapped_bytes
        self.requestedBytes = raw.requested_bytes
        self.pageSize = raw.page_size
        self.pageKind = PageKind(shimKind: raw.page_kind)
        if raw.requested_node < 0 {
            binding = .notRequested
        } else if raw.node >= 0 {
            binding = .bound(node: Int(raw.node))
        } else {
            binding = .notBound(requested: Int(raw.requested_node),
                                reason: SystemError(call: "mbind", result: raw.bind_result))
        }
        switch raw.lock_result {
        case RTES_LOCK_NOT_REQUESTED: lockResult = .notRequested
        case 0: lockResult = .locked
        default: lockResult = .failed(SystemError(call: "mlock", result: raw.lock_result))
        }
        hugePageFallback = raw.huge_result < 0
            ? SystemError(call: "mmap(MAP_HUGETLB)", result: raw.huge_result) : nil
        self.region = raw
    }

    deinit {
        var raw = region
        _ = rtes_region_free(&raw)
    }

    /// Unmaps the region now and reports a failure (which `deinit` would swallow).
    public consuming func release() throws(SystemError) {
        let result = rtes_region_free(&region) // clears region.base: deinit does nothing
        if result < 0 {
            throw SystemError(call: pageKind == .hugetlbfs ? "free_huge_pages" : "munmap",
                              result: result, detail: "region '\(name)'")
        }
    }

    /// One line for the start-up log: name, size, pages obtained, policy, node, lock. E.g.
    /// `memory region 'book': 64 MiB, pages: 2 MiB via MAP_HUGETLB, policy auto, node 0, locked`
    public var report: String {
        var size = ByteCount.format(bytes)
        if requestedBytes != bytes { size += " (\(ByteCount.format(requestedBytes)) requested)" }
        var pages: String
        switch pageKind {
        case .hugetlbfs, .hugeTLB: pages = "\(ByteCount.format(pageSize)) via \(pageKind)"
        case .transparentHuge: pages = "transparent hugepages (madvised)"
        case .normal: pages = ByteCount.format(pageSize)
        }
        if let hugePageFallback, !pageKind.isReservedHugePage {
            pages += ", no reserved hugepages (\(hugePageFallback.message))"
        }
        return "memory region '\(name)': \(size), pages: \(pages), policy \(policy), \(binding), \(lockResult)"
    }

    private static func allocationError(
        name: String, bytes: Int, policy: HugePagePolicy, result: Int32, raw: rtes_region
    ) -> SystemError {
        let what = "region '\(name)' of \(ByteCount.format(bytes))"
        if policy == .require && raw.huge_result < 0 {
            var pool = "2 MiB pool: "
            if let counts = HugePageCounts.current(pageSize: 2 << 20) {
                pool += "\(counts.free) free, \(counts.reserved) promised, \(counts.total) in vm.nr_hugepages"
            } else {
                pool += "unavailable"
            }
            let mount = HostFeatures.hugetlbfsMount() ?? "none mounted"
            var detail = "\(what): hugepages required but none obtainable (\(pool); hugetlbfs \(mount))"
            if raw.huge_result != result {
                detail += "; last attempt: \(SystemError(call: "mmap(MAP_HUGETLB)", result: raw.huge_result).message)"
            }
            return SystemError(call: "mmap(MAP_HUGETLB)", result: result, detail: detail)
        }
        return SystemError(call: result == -22 ? "MemoryRegion.allocate" : "mmap", result: result,
                           detail: "\(what), hugepages \(policy)")
    }
}

// Ownership moves with the value (it is not copyable), so handing a region to the agent
// thread that will own it is safe; `base` itself is the caller's to share responsibly.
extension MemoryRegion: @unchecked Sendable {}
