import CExchangeShim
import CMallocCounter
import ExchangeCore
import ExchangeRisk
@testable import ExchangeRuntime
import Foundation
import Synchronization
import Testing

@Suite struct IdleStrategies {
    @Test func backsOffFromSpinningToYieldingToParkingAndResetsOnWork() {
        var idle = IdleStrategy(.backoff, maxSpins: 2, maxYields: 2, minParkNanoseconds: 1_000, maxParkNanoseconds: 4_000)
        let steps = (0..<7).map { _ in idle.nextStep(0) }
        #expect(steps == [.spin, .spin, .yield, .yield, .park(nanoseconds: 1_000), .park(nanoseconds: 2_000), .park(nanoseconds: 4_000)])
        #expect(idle.nextStep(0) == .park(nanoseconds: 4_000))
        #expect(idle.nextStep(1) == .none)
        #expect(idle.nextStep(0) == .spin)
    }

    @Test func busySpinNeverYieldsOrParks() {
        var idle = IdleStrategy(.busySpin)
        #expect((0..<1_000).allSatisfy { _ in idle.nextStep(0) == .spin })
    }

    @Test func spinYieldYieldsAfterItsSpins() {
        var idle = IdleStrategy(.spinYield, maxSpins: 3)
        #expect((0..<5).map { _ in idle.nextStep(0) } == [.spin, .spin, .spin, .yield, .yield])
    }
}

@Suite struct LatencyHistograms {
    @Test func placesEveryValueInABucketWhoseRangeHoldsIt() {
        var value: UInt64 = 1
        while value < UInt64.max / 3 {
            for v in [value, value + 1, value * 3 / 2] {
                let b = LatencyHistogram.bucket(of: v)
                #expect(LatencyHistogram.lowerBound(of: b) <= v)
                if b + 1 < LatencyHistogram.bucketCount { #expect(v < LatencyHistogram.lowerBound(of: b + 1)) }
            }
            value *= 3
        }
    }

    @Test func reportsQuantilesWithinTheBucketResolution() {
        var buckets = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)
        for v in 1...10_000 as ClosedRange<UInt64> { buckets[LatencyHistogram.bucket(of: v)] += 1 }
        let snapshot = LatencyHistogram.Snapshot(buckets: buckets, count: 10_000, sum: 0)
        for (q, expected) in [(0.5, 5_000.0), (0.99, 9_900.0), (0.999, 9_990.0)] {
            let got = Double(snapshot.quantile(q))
            #expect(abs(got - expected) / expected < 0.07, "q\(q): \(got)")
        }
    }
}

@Suite struct CountersFiles {
    @Test func aReaderInAnotherMappingSeesWhatTheAgentsWrite() throws {
        let path = NSTemporaryDirectory() + "rtes-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).counters"
        defer { unlink(path) }
        var writer = try CountersRegion.create(path: path, name: "TEST", ticksPerSecond: 2_000_000_000)
        writer.registerAgent(.engine, name: "engine")
        writer.registerRing(.commands, capacity: 1_024)
        try writer.register(CounterBlockDescriptor(name: "engine", counters: [.init("trades", .counter, CounterCell(9))]))
            .store(CounterCell(9), 42)
        try writer.register(CounterBlockDescriptor(name: "engine_latency", counters: [.init("order_latency", .histogram, CounterCell(0))]))
            .latencyRecorder(CounterCell(0)).record(1_000)
        writer.state = .running
        #expect(throws: SystemError.self) { try CountersRegion.open(path: path) }  // not there until published
        try writer.publish()
        let reader = try CountersRegion.open(path: path)
        let s = reader.snapshot()
        #expect(s.name == "TEST" && s.state == .running && s.ticksPerSecond == 2_000_000_000)
        #expect(s.values("engine")["trades"] == 42)
        #expect(s.agents.map(\.name) == ["engine"])
        #expect(s.rings.map(\.capacity) == [1_024])
        #expect(s.block("engine_latency")?.counters.first?.histogram?.count == 1)
    }

    @Test func refusesAFileThatIsNotACountersFile() throws {
        let path = NSTemporaryDirectory() + "rtes-test-bogus-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data(count: CountersLayout.totalBytes))
        defer { unlink(path) }
        #expect(throws: SystemError.self) { _ = try CountersRegion.open(path: path) }
    }

    @Test func namesTheDefaultFileSafely() {
        #expect(CountersSnapshot.defaultPath(exchangeName: "RTES-DEV") == "/dev/shm/rtes.RTES-DEV.counters")
        #expect(CountersSnapshot.defaultPath(exchangeName: "a/b c") == "/dev/shm/rtes.a_b_c.counters")
    }
}

/// Produces `total` numbers into a ring, a few per call, then reports drained.
struct CountingProducer: Agent, ~Copyable {
    var roleName: String { "producer" }
    var ring: SPSCRing<UInt64>.Producer
    var next: UInt64 = 0
    let total: UInt64
    var draining = false

    mutating func doWork() -> Int {
        var n = 0
        while next < total && n < 16 && ring.tryPush(next) { next += 1; n += 1 }
        return n
    }

    mutating func beginDrain() { draining = true }
    var isDrained: Bool { next == total }
}

/// Consumes numbers and checks they arrive in order.
struct CheckingConsumer: Agent, ~Copyable {
    var roleName: String { "consumer" }
    var ring: SPSCRing<UInt64>.Consumer
    let received: UnsafeMutablePointer<Atomic<UInt64>>
    let outOfOrder: UnsafeMutablePointer<Atomic<UInt64>>

    mutating func doWork() -> Int {
        var n = 0
        while let v = ring.tryPop() {
            let expected = received.pointee.load(ordering: .relaxed)
            if v != expected { outOfOrder.pointee.wrappingAdd(1, ordering: .relaxed) }
            received.pointee.store(expected + 1, ordering: .relaxed)
            n += 1
        }
        return n
    }

    mutating func beginDrain() {}
    var isDrained: Bool { ring.depth == 0 }
}

@Suite(.serialized) struct Runner {
    func run(dedicated: Bool) throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        var ring = SPSCRing<UInt64>(capacity: 64)
        let received = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 2)
        received.initialize(to: Atomic(0))
        (received + 1).initialize(to: Atomic(0))
        defer { received.deallocate() }
        let runner = AgentRunner(counters: counters.cells)
        let producer = CountingProducer(ring: ring.makeProducer(), total: 200_000)
        let consumer = CheckingConsumer(ring: ring.makeConsumer(), received: received, outOfOrder: received + 1)
        let placement = AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff))
        counters.registerAgent(.engine, name: dedicated ? "consumer" : "shared")
        if dedicated { counters.registerAgent(.gateway, name: "producer") }
        if dedicated {
            _ = try runner.start(producer, name: "producer", slot: .gateway, stage: 0, placement: placement)
            _ = try runner.start(consumer, name: "consumer", slot: .engine, stage: 1, placement: placement)
        } else {
            _ = try runner.start(AgentPair(producer, consumer), name: "shared", slot: .engine, stage: 0, placement: placement)
        }
        // Drain at once: the producer finishes what it was asked, the consumer takes it all.
        runner.drain()
        #expect(received.pointee.load(ordering: .relaxed) == 200_000)
        #expect((received + 1).pointee.load(ordering: .relaxed) == 0)
        let agents = counters.snapshot().agents
        #expect(agents.count == (dedicated ? 2 : 1))
        #expect(agents.allSatisfy { !$0.running && $0.heartbeat > 0 })
    }

    @Test func drainsEveryStageInPipelineOrderOnDedicatedThreads() throws { try run(dedicated: true) }

    @Test func drainsEverythingOnOneSharedThread() throws { try run(dedicated: false) }
}

@Suite struct TimerSlackOfAgentThreads {
    /// Notes its thread's timer slack at start.
    struct SlackProbe: Agent, ~Copyable {
        let seen: SlackSeen
        var roleName: String { "slack-probe" }
        mutating func onStart() throws(AgentStartError) { seen.value.store(rtes_current_thread_timer_slack(), ordering: .releasing) }
        mutating func doWork() -> Int { 0 }
        mutating func beginDrain() {}
        var isDrained: Bool { true }
    }

    final class SlackSeen: Sendable { let value = Atomic<Int>(-1) }

    func slack(_ kind: IdleStrategyKind) throws -> Int {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        let seen = SlackSeen()
        _ = try runner.start(SlackProbe(seen: seen), name: "slack", slot: .engine, stage: 0,
                             placement: AgentRunner.Placement(cpus: [], idle: IdleStrategy(kind)))
        runner.drain()
        return seen.value.load(ordering: .acquiring)
    }

    /// A backoff parks: its thread's timed waits must end within 1 µs of their deadline, not
    /// the default 50 µs. Threads that never park keep the default.
    @Test func aBackoffThreadRunsWithATimerSlackOfOneMicrosecond() throws {
        #expect(try slack(.backoff) == Int(IdleStrategy.parkTimerSlackNanoseconds))
        let inherited = rtes_current_thread_timer_slack()
        #expect(try slack(.busySpin) == inherited)
    }
}

@Suite struct RealtimeThreads {
    struct OneShot: Agent, ~Copyable {
        var roleName: String { "one-shot" }
        mutating func doWork() -> Int { 0 }
        mutating func beginDrain() {}
        var isDrained: Bool { true }
    }

    @Test(.enabled(if: getuid() == 0, "SCHED_FIFO needs root or CAP_SYS_NICE"))
    func runsAnAgentThreadUnderSchedFIFOWhenAsked() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        let report = try runner.start(OneShot(), name: "fifo", slot: .engine, stage: 0,
                                      placement: AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff), fifoPriority: 1))
        runner.drain()
        #expect(report.fifoError == 0)
        #expect(report.description.contains("SCHED_FIFO"))
    }
}

/// What lifecycle probes saw, in order, each with the thread it happened on.
final class LifecycleLog: Sendable {
    private let entries = Mutex<[(event: String, thread: pthread_t)]>([])
    func note(_ event: String) { entries.withLock { $0.append((event, pthread_self())) } }
    var events: [String] { entries.withLock { $0.map(\.event) } }
    var threads: Set<pthread_t> { entries.withLock { Set($0.map(\.thread)) } }
}

/// Counts the deinits of the `LifetimeToken`s that point at it: an agent's memory is freed
/// when its token's count goes up.
final class DeinitCounter: Sendable {
    private let count = Atomic<Int>(0)
    func bump() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

final class LifetimeToken {
    let counter: DeinitCounter
    init(_ counter: DeinitCounter) { self.counter = counter }
    deinit { counter.bump() }
}

/// Logs every lifecycle call; works three turns (counting an error each), then is drained.
struct LifecycleProbe: Agent, ~Copyable {
    let name: String
    let log: LifecycleLog
    let token: LifetimeToken
    var failsToStart = false
    var turns = 0
    var errors: UInt64 = 0

    init(_ name: String, log: LifecycleLog, freed: DeinitCounter, failsToStart: Bool = false) {
        self.name = name
        self.log = log
        token = LifetimeToken(freed)
        self.failsToStart = failsToStart
    }

    var roleName: String { name }

    mutating func onStart() throws(AgentStartError) {
        log.note("\(name).start")
        if failsToStart { throw AgentStartError(role: name, reason: "no ring for \(name)") }
    }

    mutating func doWork() -> Int {
        guard turns < 3 else { return 0 }
        turns += 1
        errors += 1
        log.note("\(name).work")
        return 1
    }

    mutating func beginDrain() {}
    var isDrained: Bool { turns == 3 }
    mutating func onClose() { log.note("\(name).close") }
    var errorCount: UInt64 { errors }
}

@Suite(.serialized) struct Lifecycle {
    static let placement = AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff))

    func cell(_ counters: borrowing CountersRegion, _ slot: CountersLayout.AgentSlot, _ cell: Int) -> UInt64 {
        counters.cells.load(slot.offset + cell)
    }

    @Test func startsBeforeTheFirstTurnAndClosesAfterTheLastOnTheAgentsOwnThread() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        counters.registerAgent(.engine, name: "probe")
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let report = try runner.start(LifecycleProbe("a", log: log, freed: freed), name: "probe", slot: .engine, stage: 0,
                                      placement: Self.placement)
        #expect(report.startError == nil)
        runner.drain()
        #expect(log.events == ["a.start", "a.work", "a.work", "a.work", "a.close"])
        #expect(log.threads.count == 1)
        #expect(!log.threads.contains(pthread_self()))
        #expect(freed.value == 1)
        #expect(cell(counters, .engine, CountersLayout.AgentCell.errors) == 3)
        #expect(cell(counters, .engine, CountersLayout.AgentCell.startFailed) == 0)
        let agent = try #require(counters.snapshot().agents.first)
        #expect(agent.errors == 3 && !agent.startFailed && !agent.running)
        #expect(counters.snapshot().machineryLines().joined(separator: "\n").contains("errors 3"))
    }

    @Test func aPairStartsFirstThenSecondAndClosesSecondThenFirst() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        counters.registerAgent(.engine, name: "shared")
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let pair = AgentPair(LifecycleProbe("a", log: log, freed: freed), LifecycleProbe("b", log: log, freed: freed))
        #expect(pair.roleName == "a+b")
        let report = try runner.start(pair, name: "shared", slot: .engine, stage: 0, placement: Self.placement)
        #expect(report.startError == nil)
        runner.drain()
        #expect(log.events == ["a.start", "b.start", "a.work", "b.work", "a.work", "b.work", "a.work", "b.work", "b.close", "a.close"])
        #expect(log.threads.count == 1)
        #expect(freed.value == 2)
        #expect(cell(counters, .engine, CountersLayout.AgentCell.errors) == 6)
    }

    @Test func anAgentThatFailsToStartIsReportedClosedAndFreedAndDrainStillReturns() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        counters.registerAgent(.gateway, name: "probe")
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let report = try runner.start(LifecycleProbe("a", log: log, freed: freed, failsToStart: true), name: "probe",
                                      slot: .gateway, stage: 0, placement: Self.placement)
        let error = try #require(report.startError)
        #expect(error.role == "a" && error.reason == "no ring for a")
        #expect(report.description.contains("a agent did not start: no ring for a"))
        #expect(freed.value == 1)
        #expect(cell(counters, .gateway, CountersLayout.AgentCell.startFailed) == 1)
        #expect(cell(counters, .gateway, CountersLayout.AgentCell.running) == 0)
        runner.drain()
        #expect(log.events == ["a.start", "a.close"])
        let agent = try #require(counters.snapshot().agents.first)
        #expect(agent.startFailed && !agent.running)
        #expect(counters.snapshot().machineryLines().joined(separator: "\n").contains("did not start"))
    }

    @Test func whenThePairsSecondFailsToStartBothAreClosedOnceAndFreed() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        counters.registerAgent(.engine, name: "shared")
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let pair = AgentPair(LifecycleProbe("a", log: log, freed: freed),
                             LifecycleProbe("b", log: log, freed: freed, failsToStart: true))
        let report = try runner.start(pair, name: "shared", slot: .engine, stage: 0, placement: Self.placement)
        #expect(report.startError?.role == "b")
        #expect(freed.value == 2)
        #expect(cell(counters, .engine, CountersLayout.AgentCell.startFailed) == 1)
        runner.drain()
        #expect(log.events == ["a.start", "b.start", "b.close", "a.close"])
    }

    @Test func whenThePairsFirstFailsToStartTheSecondIsNeitherStartedNorClosed() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let pair = AgentPair(LifecycleProbe("a", log: log, freed: freed, failsToStart: true),
                             LifecycleProbe("b", log: log, freed: freed))
        let report = try runner.start(pair, name: "shared", slot: .engine, stage: 0, placement: Self.placement)
        #expect(report.startError?.role == "a")
        runner.drain()
        #expect(log.events == ["a.start", "a.close"])
        #expect(freed.value == 2)
    }

    @Test func aFailedStartInAnEarlierStageDoesNotHoldBackTheDrainOfLaterStages() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        let log = LifecycleLog()
        let freed = DeinitCounter()
        let failed = try runner.start(LifecycleProbe("a", log: log, freed: freed, failsToStart: true), name: "a",
                                      slot: .gateway, stage: 0, placement: Self.placement)
        #expect(failed.startError != nil)
        let later = try runner.start(LifecycleProbe("b", log: log, freed: freed), name: "b", slot: .engine, stage: 1,
                                     placement: Self.placement)
        #expect(later.startError == nil)
        runner.drain()
        #expect(freed.value == 2)
        #expect(log.events.filter { $0.hasPrefix("b.") } == ["b.start", "b.work", "b.work", "b.work", "b.close"])
    }
}
