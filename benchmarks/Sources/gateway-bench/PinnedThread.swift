import CExchangeShim
import Glibc

/// Runs `body` on a new thread pinned to `cpu` (under SCHED_FIFO at `fifoPriority` when
/// above zero) and returns its result once the thread has finished. The calling thread
/// waits in `pthread_join` and takes no CPU meanwhile.
enum PinnedThread {
    static func run<Result: Sendable>(cpu: Int, fifoPriority: Int, _ body: @escaping @Sendable () throws -> Result) throws -> Result {
        let job = PinnedJob(cpu: cpu, fifoPriority: fifoPriority, body: body)
        try job.runOnNewThread()
        return try job.result()
    }
}

/// What a pinned thread runs; `execute` is the part that depends on the result type.
private class ThreadJob: @unchecked Sendable {
    let cpu: Int
    let fifoPriority: Int

    init(cpu: Int, fifoPriority: Int) {
        self.cpu = cpu
        self.fifoPriority = fifoPriority
    }

    func execute() {}

    /// Pins the calling thread (and switches it to SCHED_FIFO); nil or why it could not.
    func placeThread() -> BenchFailure? {
        let pinned = rtes_pin_current_thread(Int32(cpu))
        if pinned != 0 { return BenchFailure("cannot pin a thread to CPU \(cpu): \(-pinned)") }
        if fifoPriority > 0 {
            let result = rtes_set_current_thread_fifo(Int32(fifoPriority))
            if result != 0 { return BenchFailure("cannot switch to SCHED_FIFO \(fifoPriority): \(-result)") }
        }
        return nil
    }

    /// Starts a thread that runs `execute` and joins it.
    func runOnNewThread() throws {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadJob>.fromOpaque(context!).takeRetainedValue().execute()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ThreadJob>.fromOpaque(context).release()
            throw BenchFailure("pthread_create failed: \(created)")
        }
        pthread_join(thread, nil)
    }
}

private final class PinnedJob<Value: Sendable>: ThreadJob, @unchecked Sendable {
    let body: @Sendable () throws -> Value
    var outcome: Result<Value, any Error> = .failure(BenchFailure("the thread did not run"))

    init(cpu: Int, fifoPriority: Int, body: @escaping @Sendable () throws -> Value) {
        self.body = body
        super.init(cpu: cpu, fifoPriority: fifoPriority)
    }

    override func execute() {
        if let failure = placeThread() {
            outcome = .failure(failure)
        } else {
            do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        }
    }

    func result() throws -> Value { try outcome.get() }
}
