import CExchangeShim
import Glibc

/// An io_uring owned by one busy-polling agent: set up with the best flags the kernel
/// accepts (`rtes_uring_setup`: SINGLE_ISSUER + DEFER_TASKRUN + TASKRUN_FLAG first, then
/// COOP_TASKRUN, then none; SQPOLL when asked). It is used from one thread only: the one
/// that created it, or — when created with `startDisabled` so that set-up errors surface
/// where the process starts — the agent's own thread, which calls `adopt()` first.
///
/// The loop of an agent:
/// ```
/// if let sqe = ring.submissionEntry() { io_uring_prep_send(sqe, …); sqe.pointee.user_data = … }
/// ring.submitAndPoll()                            // one syscall, only when there is something to do
/// let n = ring.takeCompletions(into: batch)       // never enters the kernel
/// ```
/// `struct io_uring` lives at a fixed address allocated once (liburing keeps pointers into it).
public struct IOUring: ~Copyable, @unchecked Sendable {
    public let raw: UnsafeMutablePointer<io_uring>
    /// The IORING_SETUP_* flags obtained.
    public let setupFlags: UInt32
    public let entries: UInt32
    @usableFromInline var submitErrors: UInt64 = 0

    /// - Parameters:
    ///   - entries: submission queue slots (a power of two); the completion queue has 4×.
    ///   - submissionQueuePolling: ask for a kernel SQ polling thread (pinned to `pollingCPU`
    ///     when given); falls back to no polling thread when refused.
    ///   - startDisabled: create the ring disabled; the thread that will drive it calls `adopt()`.
    public init(entries: UInt32, submissionQueuePolling: Bool = false, pollingCPU: Int? = nil, startDisabled: Bool = false) throws(SystemError) {
        raw = .allocate(capacity: 1)
        var obtained: UInt32 = 0
        let rc = rtes_uring_setup(raw, entries, submissionQueuePolling ? 1 : 0, Int32(pollingCPU ?? -1), startDisabled ? 1 : 0, &obtained)
        guard rc == 0 else {
            raw.deallocate()
            throw SystemError(call: "io_uring_setup", errno: -rc)
        }
        setupFlags = obtained
        self.entries = entries
        isEnabled = !startDisabled
    }

    /// Whether the ring is enabled (after `adopt()` for one created disabled).
    public private(set) var isEnabled: Bool

    /// Enables a ring created with `startDisabled` from the calling thread, which becomes its
    /// single issuer, and registers the ring's descriptor (saving a lookup per
    /// `io_uring_enter`). Call once, on the thread that drives the ring.
    public mutating func adopt() throws(SystemError) {
        guard !isEnabled else { return }
        let rc = rtes_uring_enable(raw)
        guard rc == 0 else {
            submitErrors &+= 1  // counted with the submit failures: the ring can do nothing
            throw SystemError(call: "io_uring_enable_rings", errno: -rc)
        }
        isEnabled = true
        _ = io_uring_register_ring_fd(raw)
    }

    deinit {
        io_uring_queue_exit(raw)
        raw.deallocate()
    }

    /// Names the flags obtained, for the start-up log.
    public var setupDescription: String {
        var names: [String] = []
        let known: [(UInt32, String)] = [
            (IORING_SETUP_SQPOLL, "SQPOLL"), (IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"),
            (IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"), (IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"),
            (IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"),
        ]
        for (flag, name) in known where setupFlags & flag != 0 { names.append(name) }
        return names.isEmpty ? "no setup flags (completions by interrupt)" : names.joined(separator: " + ")
    }

    public var usesDeferredTaskRun: Bool { setupFlags & IORING_SETUP_DEFER_TASKRUN != 0 }

    /// A submission queue entry to fill, or nil when the queue is full even after submitting
    /// what it holds. Fill every field you rely on: liburing's prep functions do.
    @inlinable
    public mutating func submissionEntry() -> UnsafeMutablePointer<io_uring_sqe>? {
        if let sqe = io_uring_get_sqe(raw) { return sqe }
        submitAndPoll()
        return io_uring_get_sqe(raw)
    }

    /// A submission queue entry to fill, or nil when the queue is full (never enters the
    /// kernel: for paths that must not make a system call; the caller retries next turn).
    @inlinable
    public mutating func availableEntry() -> UnsafeMutablePointer<io_uring_sqe>? {
        io_uring_get_sqe(raw)
    }

    /// Prepared entries not yet handed to the kernel.
    @inlinable public var pendingSubmissions: UInt32 { io_uring_sq_ready(raw) }

    /// Hands prepared entries to the kernel and, when the kernel has completions waiting to
    /// be run (TASKRUN flag) or nothing else would, lets it post them — one `io_uring_enter`
    /// at most, none when there is nothing to submit and nothing pending. Never waits.
    @inlinable
    public mutating func submitAndPoll() {
        let pending = io_uring_sq_ready(raw)
        guard pending > 0 || rtes_uring_wants_enter(raw) != 0 else { return }
        let rc = usesDeferredTaskRun ? io_uring_submit_and_get_events(raw) : io_uring_submit(raw)
        if rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY { submitErrors &+= 1 }
    }

    /// Copies up to `into.count` ready completions and consumes them. Never enters the kernel.
    @inlinable
    public mutating func takeCompletions(into batch: UnsafeMutableBufferPointer<io_uring_cqe>) -> Int {
        Int(rtes_uring_take_cqes(raw, batch.baseAddress!, UInt32(batch.count)))
    }

    /// Failed `io_uring_enter` calls (other than EINTR/EAGAIN/EBUSY) since start, and a failed `adopt()`.
    public var submitFailures: UInt64 { submitErrors }

    /// Waits up to `milliseconds` for one completion (for tests and shutdown paths, never
    /// on a hot path). Returns false on timeout.
    public mutating func waitForCompletion(milliseconds: Int) -> Bool {
        var cqe: UnsafeMutablePointer<io_uring_cqe>?
        var timeout = __kernel_timespec(tv_sec: Int64(milliseconds / 1000), tv_nsec: Int64(milliseconds % 1000) * 1_000_000)
        return io_uring_wait_cqe_timeout(raw, &cqe, &timeout) == 0
    }
}

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
