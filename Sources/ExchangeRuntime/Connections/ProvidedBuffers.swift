import CExchangeShim
import Glibc

/// A provided-buffer ring (buffer group) for multishot receives: `count` buffers of `size`
/// bytes in memory the caller placed, registered with the ring. The kernel picks a buffer
/// for each receive; the agent hands it back with `recycle` once it has consumed the bytes.
public struct ProvidedBuffers: ~Copyable, @unchecked Sendable {
    public let group: UInt16
    public let count: Int
    public let size: Int
    public let base: UnsafeMutableRawPointer
    @usableFromInline let ring: UnsafeMutablePointer<io_uring_buf_ring>
    @usableFromInline let mask: Int32
    @usableFromInline var added: Int32 = 0

    /// - Parameters:
    ///   - memory: at least `count × size` bytes, alive as long as the ring.
    public init(ring uring: borrowing IOUring, group: UInt16, count: Int, size: Int, memory: UnsafeMutableRawPointer) throws(SystemError) {
        precondition(count > 0 && count & (count - 1) == 0 && count <= 32_768, "buffer count must be a power of two ≤ 32768")
        var error: Int32 = 0
        guard let registered = rtes_uring_buf_ring_register(uring.raw, UInt32(count), group, &error) else {
            throw SystemError(call: "io_uring_register_buf_ring", errno: -error)
        }
        self.group = group
        self.count = count
        self.size = size
        self.base = memory
        ring = registered
        mask = Int32(count - 1)
        for id in 0..<count {
            io_uring_buf_ring_add(ring, memory + id * size, UInt32(size), UInt16(id), mask, Int32(id))
        }
        io_uring_buf_ring_advance(ring, Int32(count))
    }

    /// Unmaps the ring's memory. The registration itself ends with the `IOUring` (the
    /// kernel keeps the pages it pinned until then), so the two may go in either order.
    deinit {
        munmap(UnsafeMutableRawPointer(ring), count * MemoryLayout<io_uring_buf>.stride)
    }

    /// The bytes of buffer `id`.
    @inlinable
    public func buffer(_ id: UInt16) -> UnsafeMutableRawPointer { base + Int(id) * size }

    /// Queues buffer `id` to go back to the kernel; `publishRecycled()` makes the queued ones
    /// visible (one release store for a whole batch).
    @inlinable
    public mutating func recycle(_ id: UInt16) {
        io_uring_buf_ring_add(ring, base + Int(id) * size, UInt32(size), id, mask, added)
        added &+= 1
    }

    @inlinable
    public mutating func publishRecycled() {
        guard added > 0 else { return }
        io_uring_buf_ring_advance(ring, added)
        added = 0
    }
}
