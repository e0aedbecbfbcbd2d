import CExchangeShim
import Glibc
import Synchronization

/// Runs agents on threads: `dedicated` puts each on its own (optionally pinned) thread,
/// `shared` composes them (`AgentPair`) and runs them on one. Each thread loops
/// `doWork()` → idle strategy, publishing a heartbeat, work count and worst duty cycle
/// (the longest `doWork()` that did work) to its agent's counter cells.
///
/// Stopping drains: `drain()` asks every agent to stop taking new work; a thread leaves
/// when its agent is drained and every thread of an earlier stage (upstream in the
/// pipeline) has left, so nothing accepted upstream is stranded.
public final class AgentRunner: @unchecked Sendable {
    @usableFromInline let cells: CounterCells
    private let drainRequested = Atomic<Bool>(false)
    /// Per stage: threads started, threads that left.
    @usableFromInline let stageStarted: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let stageFinished: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline static let stages = 8
    @usableFromInline var threads: [pthread_t] = []

    public init(counters: CounterCells) {
        cells = counters
        stageStarted = .allocate(capacity: AgentRunner.stages)
        stageFinished = .allocate(capacity: AgentRunner.stages)
        for i in 0..<AgentRunner.stages {
            (stageStarted + i).initialize(to: Atomic(0))
            (stageFinished + i).initialize(to: Atomic(0))
        }
    }

    deinit {
        stageStarted.deinitialize(count: AgentRunner.stages)
        stageFinished.deinitialize(count: AgentRunner.stages)
        stageStarted.deallocate()
        stageFinished.deallocate()
    }

    /// How a thread should be placed.
    public struct Placement: Sendable {
        public var cpus: [Int]
        public var idle: IdleStrategy
        public var fifoPriority: Int32?
        public init(cpus: [Int], idle: IdleStrategy, fifoPriority: Int32? = nil) {
            self.cpus = cpus
            self.idle = idle
            self.fifoPriority = fifoPriority
        }
    }

    /// What a thread obtained at start (for the start-up log).
    public struct ThreadReport: Sendable, CustomStringConvertible {
        public var name: String
        public var pinned: [Int]
        public var pinError: Int32?
        public var fifoError: Int32?
        /// Set when the agent's `onStart()` failed: the thread closed the agent and left.
        public var startError: AgentStartError?
        @usableFromInline init(name: String, pinned: [Int]) {
            self.name = name
            self.pinned = pinned
        }
        public var description: String {
            var text = "thread \(name): "
            if pinned.isEmpty { text += "not pinned" } else if let e = pinError { text += "pinning to \(pinned) failed (errno \(e))" } else { text += "pinned to CPU \(pinned.map(String.init).joined(separator: ","))" }
            if let e = fifoError { text += e == 0 ? ", SCHED_FIFO" : ", SCHED_FIFO refused (errno \(e))" }
            if let e = startError { text += "; \(e)" }
            return text
        }
    }

    /// Starts `agent` on a new thread. `stage` orders draining: 0 first (the gateway), then 1
    /// (the engine), then 2 (market data). Returns once the thread runs, is placed and has
    /// run the agent's `onStart()`; when that failed, the thread has closed the agent and
    /// left, and the report's `startError` says why (the thread is joined by `drain()`).
    /// Inlinable so that the caller's module specializes the thread's loop for the agent's
    /// concrete type: `doWork()` (and an `AgentPair`'s halves) are direct calls, not witnesses.
    @discardableResult @inlinable
    public func start<A: Agent & ~Copyable>(
        _ agent: consuming A, name: String, slot: CountersLayout.AgentSlot, stage: Int, placement: Placement
    ) throws(SystemError) -> ThreadReport {
        precondition(stage >= 0 && stage < AgentRunner.stages, "stage out of range")
        let storage = UnsafeMutablePointer<A>.allocate(capacity: 1)
        storage.initialize(to: agent)
        let started = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        started.initialize(to: Atomic(0))
        let report = UnsafeMutablePointer<ThreadReport>.allocate(capacity: 1)
        report.initialize(to: ThreadReport(name: name, pinned: placement.cpus))
        let context = ThreadContext(
            storage: storage, started: started, report: report, runner: self, slot: slot, stage: stage, placement: placement,
            name: name)
        let start = ThreadStart { context.run() }
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, runnerThreadEntry, Unmanaged.passRetained(start).toOpaque())
        if rc != 0 {
            storage.deinitialize(count: 1)
            storage.deallocate()
            throw SystemError(call: "pthread_create", errno: rc)
        }
        while started.pointee.load(ordering: .acquiring) == 0 { sched_yield() }
        started.deinitialize(count: 1)
        started.deallocate()
        let result = report.move()
        report.deallocate()
        threads.append(thread)
        return result
    }

    /// Asks every agent to drain, waits for every thread to leave, in stage order.
    public func drain() {
        drainRequested.store(true, ordering: .releasing)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    // MARK: For the threads

    @usableFromInline var isDraining: Bool { drainRequested.load(ordering: .acquiring) }

    /// Whether every thread of every earlier stage has left (acquire: what those threads
    /// wrote before leaving, ring slots included, is visible to the caller).
    public func upstreamFinished(before stage: Int) -> Bool {
        for s in 0..<stage where stageStarted[s].load(ordering: .acquiring) > stageFinished[s].load(ordering: .acquiring) {
            return false
        }
        return true
    }
}

/// Everything a runner thread needs, handed over once at start.
@usableFromInline
struct ThreadContext<A: Agent & ~Copyable>: @unchecked Sendable {
    @usableFromInline let storage: UnsafeMutablePointer<A>
    @usableFromInline let started: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let report: UnsafeMutablePointer<AgentRunner.ThreadReport>
    @usableFromInline let runner: AgentRunner
    @usableFromInline let slot: CountersLayout.AgentSlot
    @usableFromInline let stage: Int
    @usableFromInline let placement: AgentRunner.Placement
    @usableFromInline let name: String

    @usableFromInline
    init(storage: UnsafeMutablePointer<A>, started: UnsafeMutablePointer<Atomic<Int>>, report: UnsafeMutablePointer<AgentRunner.ThreadReport>,
         runner: AgentRunner, slot: CountersLayout.AgentSlot, stage: Int, placement: AgentRunner.Placement, name: String) {
        self.storage = storage
        self.started = started
        self.report = report
        self.runner = runner
        self.slot = slot
        self.stage = stage
        self.placement = placement
        self.name = name
    }

    @inlinable
    func run() {
        _ = name.withCString { rtes_set_current_thread_name($0) }
        if !placement.cpus.isEmpty {
            do { try CPUAffinity.pinCurrentThread(to: placement.cpus) } catch { report.pointee.pinError = error.errno }
        }
        if let priority = placement.fifoPriority {
            do { try Scheduling.useFIFO(priority: priority); report.pointee.fifoError = 0 } catch { report.pointee.fifoError = error.errno }
        }
        if placement.idle.kind == .backoff {
            // A backoff parks (1 µs doubling to its maximum): with a normal thread's default
            // timer slack of 50 µs every park, however short, would end up to 50 µs late.
            _ = rtes_set_current_thread_timer_slack(IdleStrategy.parkTimerSlackNanoseconds)
        }
        runner.stageStarted[stage].wrappingAdd(1, ordering: .releasing)
        let cells = runner.cells
        let cpu = rtes_current_cpu()
        cells.store(slot.offset + CountersLayout.AgentCell.cpu, cpu >= 0 ? UInt64(cpu) : .max)
        do {
            try storage.pointee.onStart()
        } catch {
            report.pointee.startError = error
            cells.store(slot.offset + CountersLayout.AgentCell.startFailed, 1)
            storage.pointee.onClose()
            cells.store(slot.offset + CountersLayout.AgentCell.errors, storage.pointee.errorCount)
            storage.deinitialize(count: 1)
            storage.deallocate()
            runner.stageFinished[stage].wrappingAdd(1, ordering: .releasing)
            started.pointee.store(1, ordering: .releasing)
            return
        }
        cells.store(slot.offset + CountersLayout.AgentCell.running, 1)
        started.pointee.store(1, ordering: .releasing)

        loop(cells: cells)

        storage.pointee.onClose()
        cells.store(slot.offset + CountersLayout.AgentCell.errors, storage.pointee.errorCount)
        storage.deinitialize(count: 1)
        storage.deallocate()
        cells.store(slot.offset + CountersLayout.AgentCell.running, 0)
        runner.stageFinished[stage].wrappingAdd(1, ordering: .releasing)
    }

    /// The agent's life: work, idle, publish; drain when asked.
    @inlinable
    func loop(cells: CounterCells) {
        var idle = placement.idle
        let heartbeatCell = slot.offset + CountersLayout.AgentCell.heartbeat
        let workCell = slot.offset + CountersLayout.AgentCell.workCount
        let dutyCell = slot.offset + CountersLayout.AgentCell.maxDutyCycleTicks
        let errorCell = slot.offset + CountersLayout.AgentCell.errors
        var iterations: UInt64 = 0
        var work: UInt64 = 0
        var worstDuty: UInt64 = 0
        var draining = false
        while true {
            let t0 = rtes_rdtsc()
            let done = storage.pointee.doWork()
            if done > 0 {
                let duty = rtes_rdtsc() &- t0
                if duty > worstDuty {
                    worstDuty = duty
                    cells.store(dutyCell, duty)
                }
                work &+= UInt64(done)
            }
            iterations &+= 1
            if iterations & 1023 == 0 {
                cells.store(heartbeatCell, iterations)
                cells.store(workCell, work)
                cells.store(errorCell, storage.pointee.errorCount)
            }
            if !draining && runner.isDraining {
                draining = true
                storage.pointee.beginDrain()
            }
            if draining && done == 0 && storage.pointee.isDrained && runner.upstreamFinished(before: stage) {
                break
            }
            idle.idle(done)
        }
        cells.store(heartbeatCell, iterations)
        cells.store(workCell, work)
    }
}

@usableFromInline
final class ThreadStart {
    let body: () -> Void
    @usableFromInline init(_ body: @escaping () -> Void) { self.body = body }
}

@usableFromInline
func runnerThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
    start.body()
    return nil
}
