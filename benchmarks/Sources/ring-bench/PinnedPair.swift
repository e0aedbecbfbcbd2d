import CExchangeShim
import Glibc
import Synchronization

/// Runs a producer body and a consumer body on two threads of their own, each pinned to its
/// CPU (and, with a `realtimePriority` above zero, running under SCHED_FIFO at it), released
/// together once both are ready; returns when both have finished.
enum PinnedPair {
    static func run(producerCPU: Int, consumerCPU: Int, realtimePriority: Int,
                    producer: @escaping @Sendable () -> Void, consumer: @escaping @Sendable () -> Void) {
        let ready = SendablePointer(UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1))
        ready.pointer.initialize(to: Atomic(0))
        defer { ready.pointer.deallocate() }
        func body(cpu: Int, _ work: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
            {
                let pinned = rtes_pin_current_thread(Int32(cpu))
                precondition(pinned == 0, "cannot pin to CPU \(cpu): \(pinned)")
                if realtimePriority > 0 {
                    var parameters = sched_param(sched_priority: Int32(realtimePriority))
                    let result = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
                    precondition(result == 0, "cannot switch to SCHED_FIFO \(realtimePriority): \(result)")
                }
                ready.pointer.pointee.add(1, ordering: .acquiringAndReleasing)
                while ready.pointer.pointee.load(ordering: .acquiring) < 2 {}
                work()
            }
        }
        let threads = [JoinableThread(body(cpu: consumerCPU, consumer)), JoinableThread(body(cpu: producerCPU, producer))]
        for thread in threads { thread.join() }
        // Real-time threads may use 950 ms of every second (sched_rt_runtime_us); a pause after
        // each run of well under that keeps the kernel from throttling the next one mid-run.
        if realtimePriority > 0 { usleep(600_000) }
    }
}

private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Atomic<Int>>
    init(_ pointer: UnsafeMutablePointer<Atomic<Int>>) { self.pointer = pointer }
}

/// A thread that runs a closure and is joined explicitly.
final class JoinableThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let thread: pthread_t

    init(_ run: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        self.thread = thread
    }

    func join() { pthread_join(thread, nil) }
}

/// Moves a `~Copyable` value (a ring's end) into another thread: stored once, taken once.
final class Handoff<Value: ~Copyable>: @unchecked Sendable {
    private var value: Value?

    init(_ value: consuming Value) { self.value = consume value }

    func take() -> Value {
        guard let value = value.take() else { preconditionFailure("taken twice") }
        return value
    }
}

/// A value written by one thread and read by the main thread after the join.
final class ResultBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
