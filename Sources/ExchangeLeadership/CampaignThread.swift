import Dispatch
import Foundation
import Synchronization

/// A task executor that is one thread of its own, for the campaign.
///
/// A candidate's renewals are deadlines: a renewal that runs late costs the leadership. On
/// the shared cooperative pool (as many threads as cores, two here) any blocking work
/// elsewhere in the process — a test that blocks a pool thread, a tool's synchronous
/// call — can hold the campaign's continuations back past its deadline. Given this
/// executor as its preference, every part of the campaign's task runs on this thread;
/// etcd's answers arrive on the HTTP client's event loop and resume here.
///
/// Jobs run in the order they were enqueued. `shutdown()` ends the thread once the jobs
/// enqueued before it have run; call it after the tasks that prefer this executor are done.
public final class CampaignThread: TaskExecutor, @unchecked Sendable {
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopping = false
    }

    /// Starts the thread, named `name` (as `top -H` and `ps -L` show it).
    public init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        wake.signal()
    }

    private func loop() {
        while true {
            wake.wait()
            let next: UnownedJob? = queue.withLock { queue in
                queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()
            }
            if let next {
                next.runSynchronously(on: asUnownedTaskExecutor())
                continue
            }
            if queue.withLock({ $0.stopping && $0.jobs.isEmpty }) { break }
        }
        exited.signal()
    }

    /// Runs what is enqueued, then ends the thread and waits until it has.
    public func shutdown() {
        let first = queue.withLock { queue in
            defer { queue.stopping = true }
            return !queue.stopping
        }
        guard first else { return }
        wake.signal()
        exited.wait()
    }
}

/// A candidate campaigning on a `CampaignThread` of its own (`LeaderCandidate.campaign()`).
public final class Campaign: Sendable {
    let thread: CampaignThread
    let task: Task<Void, Never>
    /// Signalled when the candidate's `run()` has returned.
    let ended: DispatchSemaphore

    init(thread: CampaignThread, task: Task<Void, Never>, ended: DispatchSemaphore) {
        self.thread = thread
        self.task = task
        self.ended = ended
    }

    /// `stop()` for a caller that is not async (the appliance's drain): cancels, blocks until
    /// the campaign has ended (a leader closed its gate and revoked its lease) and its thread
    /// is gone. Needs no thread of the shared pool.
    public func stopAndWait() {
        task.cancel()
        ended.wait()
        ended.signal()
        thread.shutdown()
    }

    /// Stops campaigning (a leader closes its gate, then resigns) and waits until the
    /// campaign has ended and its thread is gone.
    public func stop() async {
        task.cancel()
        await finished()
    }

    /// Waits until the campaign ends of itself or by `stop()`, then ends its thread.
    public func finished() async {
        await task.value
        thread.shutdown()
    }

    /// Asks the campaign to stop without waiting (from a signal handler, say); `finished()`
    /// then returns once it has.
    public func cancel() { task.cancel() }
}

extension LeaderCandidate {
    /// Campaigns on a thread of its own until the returned campaign is stopped
    /// (`CampaignThread` says why not on the shared pool).
    public func campaign() -> Campaign {
        let thread = CampaignThread(name: "rtes-leader")
        let ended = DispatchSemaphore(value: 0)
        let task = Task(executorPreference: thread) {
            await self.run()
            ended.signal()
        }
        return Campaign(thread: thread, task: task, ended: ended)
    }
}
