import CExchangeShim
import Glibc

/// A plain named POSIX thread for the appliance's cold helpers (not an agent: no idle
/// strategy, no placement), joined by its owner. The agents run on `AgentRunner`.
public struct SystemThread: ~Copyable {
    let thread: pthread_t
    var joined = false

    /// Starts `body` on a new thread named `name` (at most 15 bytes show in `top -H`).
    public init(name: String, _ body: @escaping () -> Void) throws(SystemError) {
        let start = ThreadStart {
            _ = name.withCString { rtes_set_current_thread_name($0) }
            body()
        }
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, runnerThreadEntry, Unmanaged.passRetained(start).toOpaque())
        guard rc == 0 else {
            Unmanaged.passUnretained(start).release()
            throw SystemError(call: "pthread_create", errno: rc, detail: "thread \(name)")
        }
        self.thread = thread
    }

    /// Waits until the thread's body has returned.
    public mutating func join() {
        guard !joined else { return }
        pthread_join(thread, nil)
        joined = true
    }

    deinit { if !joined { pthread_join(thread, nil) } }
}
