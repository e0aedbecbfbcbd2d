import ExchangeConfig
import ExchangeRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Memory regions on this host: each hugepage policy, NUMA binding, locking, contents,
/// release. Serialized: some tests change vm.nr_hugepages, which every region sees.
@Suite(.serialized)
struct MemoryRegionTests {
    static let twoMiB = 2 << 20

    // MARK: Policies

    @Test func offPolicyMapsOrdinaryPages() throws {
        let region = try MemoryRegion.allocate(name: "off", bytes: Self.twoMiB + 1, policy: .off, lock: false)
        #expect(region.pageKind == .normal)
        #expect(region.pageSize == 4096)
        #expect(region.bytes == Self.twoMiB + 4096)
        #expect(region.requestedBytes == Self.twoMiB + 1)
        #expect(Int(bitPattern: region.base) % 4096 == 0)
        #expect(region.hugePageFallback == nil, "off never tries hugepages")
    }

    @Test(.enabled(if: HugePagePool.noneObtainable, "hugepages are reserved on this host"))
    func autoPolicyWithoutReservedHugePagesFallsBackToTransparentOrOrdinaryPages() throws {
        let region = try MemoryRegion.allocate(name: "auto", bytes: 3 << 20, policy: .auto, lock: false)
        let thp = HostFeatures.transparentHugePageMode()
        if thp == "madvise" || thp == "always" {
            #expect(region.pageKind == .transparentHuge)
            #expect(region.pageSize == Self.twoMiB)
            #expect(region.bytes == 4 << 20, "rounded up to whole 2 MiB pages")
            #expect(Int(bitPattern: region.base) % Self.twoMiB == 0, "THP needs 2 MiB alignment")
        } else {
            #expect(region.pageKind == .normal)
        }
        #expect(region.hugePageFallback?.errno == ENOMEM)
    }

    @Test(.enabled(if: HugePagePool.noneObtainable, "hugepages are reserved on this host"))
    func autoPolicyBelowTwoMebibytesWithoutReservedHugePagesUsesOrdinaryPages() throws {
        let region = try MemoryRegion.allocate(name: "small", bytes: 100, policy: .auto, lock: false)
        #expect(region.pageKind == .normal)
        #expect(region.bytes == 4096)
    }

    @Test(.enabled(if: HugePagePool.noneObtainable, "hugepages are reserved on this host"))
    func requirePolicyWithoutReservedHugePagesThrowsOutOfMemory() throws {
        let error = #expect(throws: SystemError.self) {
            _ = try MemoryRegion.allocate(name: "strict", bytes: 4 << 20, policy: .require, lock: true)
        }
        #expect(error?.errno == ENOMEM)
        #expect(error?.message == "Cannot allocate memory")
        #expect(error?.description.contains("region 'strict'") == true)
        #expect(error?.description.contains("hugepages required") == true)
    }

    @Test(.enabled(if: HugePagePool.isRoot, "needs root to reserve pages with vm.nr_hugepages"))
    func requirePolicyUsesReservedHugePagesAndReleasingReturnsThem() throws {
        let previous = try #require(HugePagePool.read())
        defer { HugePagePool.restore(previous) }
        try HugePagePool.reserve(extra: 2, above: previous)
        let before = try #require(HugePageCounts.current(pageSize: Self.twoMiB))

        let region = try MemoryRegion.allocate(name: "huge", bytes: 3 << 20, policy: .require, lock: true)
        #expect(region.pageKind == .hugeTLB || region.pageKind == .hugetlbfs)
        #expect(region.pageKind.isReservedHugePage)
        #expect(region.pageSize == Self.twoMiB)
        #expect(region.bytes == 4 << 20)
        #expect(region.hugePageFallback == nil)
        #expect(region.lockResult == .locked)
        let during = try #require(HugePageCounts.current(pageSize: Self.twoMiB))
        #expect(during.free == before.free - 2, "both pages faulted in at allocation")
        try region.release()

        let after = try #require(HugePageCounts.current(pageSize: Self.twoMiB))
        #expect(after.free == before.free)
    }

    @Test(.enabled(if: HugePagePool.isRoot, "needs root to reserve pages with vm.nr_hugepages"))
    func autoPolicyPrefersReservedHugePagesAndBindsThemToNodeZero() throws {
        let previous = try #require(HugePagePool.read())
        defer { HugePagePool.restore(previous) }
        try HugePagePool.reserve(extra: 1, above: previous)

        let region = try MemoryRegion.allocate(name: "huge-auto", bytes: Self.twoMiB, policy: .auto, node: 0, lock: false)
        #expect(region.pageKind.isReservedHugePage)
        if NUMATopology.isAvailable { #expect(region.binding == .bound(node: 0)) }
        #expect(region.report.contains("2 MiB via"))
    }

    // MARK: NUMA

    @Test func bindsToNodeZeroOnThisHost() throws {
        let region = try MemoryRegion.allocate(name: "node0", bytes: 1 << 20, policy: .off, node: 0, lock: false)
        if NUMATopology.isAvailable {
            #expect(region.binding == .bound(node: 0))
            #expect(region.node == 0)
        } else {
            let reason = try #require(
                { if case .notBound(requested: 0, let reason) = region.binding { reason } else { nil } }(),
                "expected node 0 not bound without NUMA, got \(region.binding)")
            #expect(reason.errno == ENOSYS)
        }
    }

    @Test func reportsANodeThatDoesNotExistAsNotBound() throws {
        let missing = NUMATopology.nodeCount // ids run 0..<nodeCount
        #expect(!NUMATopology.hasNode(missing))
        let region = try MemoryRegion.allocate(name: "far", bytes: 1 << 20, policy: .auto, node: missing, lock: false)
        #expect(region.node == nil)
        let (requested, reason) = try #require(
            { if case .notBound(let requested, let reason) = region.binding { (requested, reason) } else { nil } }(),
            "expected node \(missing) not bound, got \(region.binding)")
        #expect(requested == missing)
        #expect(reason.errno == (NUMATopology.isAvailable ? ENODEV : ENOSYS))
        #expect(region.report.contains("node \(missing) not bound"))
        region.base.storeBytes(of: 0xAB, as: UInt8.self) // still a usable region
    }

    @Test func regionWithoutANodeIsNotBound() throws {
        let region = try MemoryRegion.allocate(name: "any", bytes: 4096, policy: .off, lock: false)
        #expect(region.binding == .notRequested)
        #expect(region.node == nil)
    }

    // MARK: Locking

    @Test func reportsTheLockResult() throws {
        let unlocked = try MemoryRegion.allocate(name: "unlocked", bytes: 1 << 20, policy: .off, lock: false)
        #expect(unlocked.lockResult == .notRequested)

        let lockedBefore = try ProcessMemory.lockedBytes()
        let region = try MemoryRegion.allocate(name: "locked", bytes: 1 << 20, policy: .off, lock: true)
        let allowance = try ProcessMemory.lockLimit().soft ?? .max
        if HugePagePool.isRoot || allowance >= lockedBefore + (2 << 20) {
            #expect(region.lockResult == .locked)
            #expect(try ProcessMemory.lockedBytes() >= lockedBefore + region.bytes)
            #expect(region.report.hasSuffix(", locked"))
        } else {
            // Someone else's locks may have used the allowance: reported, not thrown.
            #expect(region.lockResult != .notRequested)
        }
    }

    @Test(.enabled(if: !HugePagePool.isRoot, "root is not bound by RLIMIT_MEMLOCK"))
    func reportsALockBeyondTheLimitAsFailedWithoutThrowing() throws {
        let limit = try #require(try ProcessMemory.lockLimit().soft, "RLIMIT_MEMLOCK is unlimited")
        let region = try MemoryRegion.allocate(name: "too-big", bytes: limit + (2 << 20), policy: .off, lock: true)
        let error = try #require(
            { if case .failed(let error) = region.lockResult { error } else { nil } }(), "expected a failed lock, got \(region.lockResult)")
        #expect(error.errno == ENOMEM || error.errno == EPERM)
        #expect(region.report.contains("lock failed"))
    }

    // MARK: Contents and lifetime

    @Test(arguments: [HugePagePolicy.off, .auto])
    func regionMemoryIsZeroedAndWritable(policy: HugePagePolicy) throws {
        let region = try MemoryRegion.allocate(name: "contents", bytes: 4 << 20, policy: policy, lock: false)
        let words = region.base.bindMemory(to: UInt64.self, capacity: region.bytes / 8)
        let count = region.bytes / 8
        var nonZero = 0
        for index in 0..<count where words[index] != 0 { nonZero += 1 }
        #expect(nonZero == 0)

        let perPage = 4096 / 8
        for page in stride(from: 0, to: count, by: perPage) {
            words[page] = UInt64(page) &* 0x9E37_79B9_7F4A_7C15
            words[page + perPage - 1] = ~UInt64(page)
        }
        var mismatches = 0
        for page in stride(from: 0, to: count, by: perPage) {
            if words[page] != UInt64(page) &* 0x9E37_79B9_7F4A_7C15 { mismatches += 1 }
            if words[page + perPage - 1] != ~UInt64(page) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func releasingARegionUnmapsIt() throws {
        let region = try MemoryRegion.allocate(name: "released", bytes: 1 << 20, policy: .off, lock: true)
        let base = UnsafeRawPointer(region.base)
        let bytes = region.bytes
        #expect(try ProcessMemory.isMapped(base, bytes: bytes))
        try region.release()
        // (Another thread could map the same addresses in the microsecond between; the
        // hugepage test proves release by the pool's counters instead.)
        #expect(try !ProcessMemory.isMapped(base, bytes: bytes))
    }

    @Test func droppingARegionUnmapsIt() throws {
        var base: UnsafeRawPointer? = nil
        var bytes = 0
        do {
            let region = try MemoryRegion.allocate(name: "dropped", bytes: 1 << 20, policy: .off, lock: false)
            base = UnsafeRawPointer(region.base)
            bytes = region.bytes
            _ = consume region // deinit unmaps
        }
        #expect(try !ProcessMemory.isMapped(#require(base), bytes: bytes))
    }

    @Test func emptyRequestIsRejected() {
        let error = #expect(throws: SystemError.self) {
            _ = try MemoryRegion.allocate(name: "empty", bytes: 0, policy: .auto, lock: false)
        }
        #expect(error?.errno == EINVAL)
    }

    @Test func reportLineNamesSizePagesPolicyNodeAndLock() throws {
        let region = try MemoryRegion.allocate(name: "book", bytes: 100, policy: .off, node: 0, lock: false)
        let node = NUMATopology.isAvailable ? "node 0" : "node 0 not bound (Function not implemented)"
        #expect(region.report == "memory region 'book': 4 KiB (100 B requested), pages: 4 KiB, policy off, \(node), not locked")
    }
}

/// vm.nr_hugepages for the tests that reserve pages (as root), and the pool's state.
enum HugePagePool {
    static let path = "/proc/sys/vm/nr_hugepages"

    static var isRoot: Bool { geteuid() == 0 }

    /// No reserved hugepage can be had (no pool, nothing free, no overcommit room).
    static var noneObtainable: Bool {
        (HugePageCounts.current(pageSize: 2 << 20)?.obtainable ?? 0) == 0
    }

    static func read() -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[..<count].filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
    }

    @discardableResult
    static func write(_ pages: Int) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let text = Array("\(pages)\n".utf8)
        return text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == text.count
    }

    /// Raises the pool to `previous + extra`; cancels the test (a skip with a reason)
    /// when the kernel cannot find the memory.
    static func reserve(extra: Int, above previous: Int) throws {
        guard write(previous + extra) else {
            try Test.cancel("could not write \(path)")
        }
        guard (HugePageCounts.current(pageSize: 2 << 20)?.obtainable ?? 0) >= extra else {
            try Test.cancel("the kernel could not reserve \(extra) more 2 MiB pages (memory fragmented?)")
        }
    }

    /// Puts the pool back; records an issue if it cannot.
    static func restore(_ previous: Int) {
        if !write(previous) || read() != previous {
            Issue.record("could not restore vm.nr_hugepages to \(previous)")
        }
    }
}
