import CExchangeShim
import Glibc

// The memory an io_uring takes: the kernel allocates it and maps it into the process (the
// SQ and CQ rings in one mapping on kernels with IORING_FEAT_SINGLE_MMAP, and the SQE
// array), so it is in no region of ours — yet it is the process's memory, and `--check`'s
// plan counts it.
extension IOUring {
    /// Completion-queue slots per submission-queue slot (`rtes_uring_setup`).
    public static var completionsPerEntry: Int { Int(RTES_URING_CQ_PER_SQ) }

    /// Bytes before the CQEs in the rings' mapping (`struct io_rings`: heads, tails, masks,
    /// flags, each group on its cache line) — an upper bound; the kernel reports the exact
    /// offset (`cq_off.cqes`), which `mappedBytes` uses.
    static var ringsHeaderBytes: Int { 256 }

    /// What a ring of `entries` submission slots maps, in whole pages: the rings (header,
    /// CQEs, the SQ index array after them, cache-line aligned) and the SQEs.
    public static func plannedBytes(entries: Int) -> Int {
        let completions = entries * completionsPerEntry
        let rings = ringsHeaderBytes + completions * MemoryLayout<io_uring_cqe>.size + 64 + entries * MemoryLayout<UInt32>.size
        return Self.pages(rings) + Self.pages(entries * MemoryLayout<io_uring_sqe>.size)
    }

    /// What this ring maps, from the sizes liburing took from the kernel, in whole pages.
    public var mappedBytes: Int {
        let sq = raw.pointee.sq
        let cq = raw.pointee.cq
        let rings = raw.pointee.features & UInt32(IORING_FEAT_SINGLE_MMAP) != 0
            ? Self.pages(max(sq.ring_sz, cq.ring_sz)) : Self.pages(sq.ring_sz) + Self.pages(cq.ring_sz)
        return rings + Self.pages(Int(sq.ring_entries) * MemoryLayout<io_uring_sqe>.size)
    }

    static func pages(_ bytes: Int) -> Int {
        let page = 4_096
        return (bytes + page - 1) / page * page
    }
}

extension ProvidedBuffers {
    /// What the buffer ring of `count` buffers maps, in whole pages: one `io_uring_buf` per
    /// buffer, shared with the kernel (the buffers themselves are the caller's memory).
    public static func ringBytes(count: Int) -> Int { IOUring.pages(count * MemoryLayout<io_uring_buf>.stride) }

    /// What this buffer ring maps, in whole pages.
    public var mappedBytes: Int { Self.ringBytes(count: count) }
}
