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
/// ring.prepareSend(fd: fd, bytes: p, count: n, tag: CompletionTag(kind: k, index: slot, generation: g))
/// ring.submitAndPoll()                            // one syscall, only when there is something to do
/// let n = ring.takeCompletions(into: batch)       // never enters the kernel
/// ```
/// Operations are prepared only through the typed `prepare…` helpers
/// (`IOUring+Submissions.swift`); the SQE and `user_data` stay inside the connection layer.
/// `struct io_uring` lives at a fixed address allocated once (liburing keeps pointers into it).
public struct IOUring: ~Copyable, @unchecked Sendable {
    @usableFromInline let raw: UnsafeMutablePointer<io_uring>
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

    @inlinable public var usesDeferredTaskRun: Bool { setupFlags & IORING_SETUP_DEFER_TASKRUN != 0 }

    /// A submission queue entry to fill, or nil when the queue is full — after handing what
    /// it holds to the kernel when `enteringKernelWhenFull`, else without a system call (for
    /// paths that must not make one; the caller retries next turn). Only the typed
    /// `prepare…` helpers use it, and they fill every field they rely on.
    @inlinable
    func entry(enteringKernelWhenFull: Bool) -> UnsafeMutablePointer<io_uring_sqe>? {
        if let sqe = io_uring_get_sqe(raw) { return sqe }
        guard enteringKernelWhenFull else { return nil }
        _ = usesDeferredTaskRun ? io_uring_submit_and_get_events(raw) : io_uring_submit(raw)
        return io_uring_get_sqe(raw)
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
    public func takeCompletions(into batch: UnsafeMutableBufferPointer<Completion>) -> Int {
        guard let base = batch.baseAddress else { return 0 }
        // `Completion` is the cqe's head, laid out as the kernel's: the shim fills it directly.
        let cqes = UnsafeMutableRawPointer(base).assumingMemoryBound(to: io_uring_cqe.self)
        return Int(rtes_uring_take_cqes(raw, cqes, UInt32(batch.count)))
    }

    /// Hands prepared entries to the kernel and lets it post completions, without counting
    /// failures: for close paths that hold the ring borrowed (an agent's deinit).
    public func submitDuringClose() {
        _ = usesDeferredTaskRun ? io_uring_submit_and_get_events(raw) : io_uring_submit(raw)
    }

    /// Failed `io_uring_enter` calls (other than EINTR/EAGAIN/EBUSY) since start, and a failed `adopt()`.
    public var submitFailures: UInt64 { submitErrors }

    /// Waits up to `milliseconds` for one completion (for tests and shutdown paths, never
    /// on a hot path). Returns false on timeout.
    public func waitForCompletion(milliseconds: Int) -> Bool {
        var cqe: UnsafeMutablePointer<io_uring_cqe>?
        var timeout = __kernel_timespec(tv_sec: Int64(milliseconds / 1000), tv_nsec: Int64(milliseconds % 1000) * 1_000_000)
        return io_uring_wait_cqe_timeout(raw, &cqe, &timeout) == 0
    }
}
