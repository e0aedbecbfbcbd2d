import BenchSupport
import CExchangeShim
import CRingBaseline
import ExchangeRuntime
import Glibc
import Histogram

/// The two rings' memory: anonymous, 2 MiB aligned, huge pages requested, pre-faulted; the
/// same placement for both. A ring of any capacity up to `maximumCapacity` (of messages of up
/// to 80 bytes) is laid over it afresh for each run. The C ring's layout is the Swift ring's.
final class RingMemory: @unchecked Sendable {
    let swiftRegion: EngineRegion
    let cRegion: EngineRegion

    init(maximumCapacity: Int) {
        let bytes = SPSCRing<Message80>.requiredBytes(capacity: maximumCapacity)
        for capacity in [1, 1_024, maximumCapacity] {
            precondition(SPSCRing<Message64>.requiredBytes(capacity: capacity) == rtes_cring_required_bytes(UInt64(capacity), 64)
                && SPSCRing<Message80>.requiredBytes(capacity: capacity) == rtes_cring_required_bytes(UInt64(capacity), 80),
                "the C ring's layout differs from the Swift ring's")
        }
        precondition(MemoryLayout<Message64>.stride == MemoryLayout<rtes_cring_message64>.stride
            && MemoryLayout<Message80>.stride == MemoryLayout<rtes_cring_message80>.stride)
        swiftRegion = EngineRegion(bytes: bytes)
        cRegion = EngineRegion(bytes: bytes)
        memset(swiftRegion.base, 0, swiftRegion.bytes)
        memset(cRegion.base, 0, cRegion.bytes)
    }

    func swiftRing<M: BenchMessage>(_: M.Type, capacity: Int) -> SPSCRing<M> {
        SPSCRing(capacity: capacity, memory: UnsafeMutableRawBufferPointer(start: swiftRegion.base, count: swiftRegion.bytes))
    }

    func cRing(capacity: Int) -> CRingEnds { CRingEnds(memory: cRegion.base, capacity: capacity) }
}

/// Latency samples (TSC ticks) written by the consumer, allocated and touched once.
final class LatencyBuffers: @unchecked Sendable {
    let fromSend: UnsafeMutablePointer<UInt64>
    let fromPlan: UnsafeMutablePointer<UInt64>
    let count: Int

    init(count: Int) {
        self.count = count
        fromSend = .allocate(capacity: count)
        fromPlan = .allocate(capacity: count)
        fromSend.initialize(repeating: 0, count: count)
        fromPlan.initialize(repeating: 0, count: count)
    }

    deinit {
        fromSend.deallocate()
        fromPlan.deallocate()
    }
}

struct ThroughputRun {
    var messagesPerSecond: Double
    /// Times the producer found the ring full, per message: how much of the run the two
    /// sides spent in lockstep at the full end.
    var fullPerMessage: Double
}

struct LatencyRun {
    var fromSend: LatencySummary
    var fromPlan: LatencySummary
}

/// One measurement at a time, on two pinned threads.
struct Runner {
    let rings: RingMemory
    let clock: TSCClock
    let producerCPU: Int
    let consumerCPU: Int
    let realtimePriority: Int
    let pause: Bool

    private func onTwoThreads(producer: @escaping @Sendable () -> Void, consumer: @escaping @Sendable () -> Void) {
        PinnedPair.run(producerCPU: producerCPU, consumerCPU: consumerCPU, realtimePriority: realtimePriority,
                       producer: producer, consumer: consumer)
    }

    /// Messages per second moving `count` messages flat out, singly (`batch == nil`) or in batches.
    func throughput<M: BenchMessage>(_ kind: RingKind, _: M.Type, capacity: Int, count: UInt64, batch: Int?) -> ThroughputRun {
        let produced = ResultBox(rtes_cring_run())
        let consumed = ResultBox(rtes_cring_run())
        let pause = self.pause
        switch kind {
        case .swift:
            var ring = rings.swiftRing(M.self, capacity: capacity)
            let producerEnd = Handoff(ring.makeProducer())
            let consumerEnd = Handoff(ring.makeConsumer())
            onTwoThreads(producer: {
                var producer = producerEnd.take()
                var run = rtes_cring_run()
                if let batch {
                    swiftProduceBatched(&producer, count: count, batch: batch, pause: pause, run: &run)
                } else {
                    swiftProduceSingle(&producer, count: count, pause: pause, run: &run)
                }
                run.errors = producer.fullCount  // the producer's run reports how often it found the ring full
                produced.value = run
            }, consumer: {
                var consumer = consumerEnd.take()
                var run = rtes_cring_run()
                if let batch {
                    swiftConsumeBatched(&consumer, count: count, batch: batch, pause: pause, run: &run)
                } else {
                    swiftConsumeSingle(&consumer, count: count, pause: pause, run: &run)
                }
                consumed.value = run
            })
            precondition(ring.depth == 0)
        case .c:
            let ends = rings.cRing(capacity: capacity)
            let loops = M.cLoops
            let flag: Int32 = pause ? 1 : 0
            onTwoThreads(producer: {
                var producer = ends.producer
                var run = rtes_cring_run()
                if let batch {
                    loops.produceBatched(&producer, count, UInt64(batch), flag, &run)
                } else {
                    loops.produceSingle(&producer, count, flag, &run)
                }
                run.errors = producer.full_count
                produced.value = run
            }, consumer: {
                var consumer = ends.consumer
                var run = rtes_cring_run()
                if let batch {
                    loops.consumeBatched(&consumer, count, UInt64(batch), flag, &run)
                } else {
                    loops.consumeSingle(&consumer, count, flag, &run)
                }
                consumed.value = run
            })
        }
        let expectedSum = count % 2 == 0 ? (count / 2) &* (count &- 1) : count &* ((count &- 1) / 2)
        precondition(consumed.value.errors == 0 && consumed.value.sum == expectedSum, "\(kind.rawValue) ring lost or reordered messages")
        return ThroughputRun(
            messagesPerSecond: Double(count) / clock.seconds(consumed.value.end_tsc &- produced.value.start_tsc),
            fullPerMessage: Double(produced.value.errors) / Double(count))
    }

    /// One-way latency of `count` messages sent on a fixed schedule.
    func latency<M: BenchMessage>(_ kind: RingKind, _: M.Type, capacity: Int, count: Int, intervalNanoseconds: Double,
                                  buffers: LatencyBuffers) -> LatencyRun {
        let consumed = ResultBox(rtes_cring_run())
        let interval = UInt64(clock.ticks(nanoseconds: intervalNanoseconds).rounded())
        let lead = UInt64(clock.ticks(nanoseconds: 1_000_000))  // the schedule starts 1 ms after both threads run
        let n = UInt64(count)
        let pause = self.pause
        switch kind {
        case .swift:
            var ring = rings.swiftRing(M.self, capacity: capacity)
            let producerEnd = Handoff(ring.makeProducer())
            let consumerEnd = Handoff(ring.makeConsumer())
            onTwoThreads(producer: {
                var producer = producerEnd.take()
                var run = rtes_cring_run()
                swiftProducePaced(&producer, count: n, startTSC: rtes_rdtsc() &+ lead, intervalTicks: interval, pause: pause,
                                  run: &run)
            }, consumer: {
                var consumer = consumerEnd.take()
                var run = rtes_cring_run()
                swiftConsumeTimed(&consumer, count: n, fromSend: buffers.fromSend, fromPlan: buffers.fromPlan, pause: pause, run: &run)
                consumed.value = run
            })
        case .c:
            let ends = rings.cRing(capacity: capacity)
            let loops = M.cLoops
            let flag: Int32 = pause ? 1 : 0
            onTwoThreads(producer: {
                var producer = ends.producer
                var run = rtes_cring_run()
                loops.producePaced(&producer, n, rtes_rdtsc() &+ lead, interval, flag, &run)
            }, consumer: {
                var consumer = ends.consumer
                var run = rtes_cring_run()
                loops.consumeTimed(&consumer, n, buffers.fromSend, buffers.fromPlan, flag, &run)
                consumed.value = run
            })
        }
        precondition(consumed.value.errors == 0, "\(kind.rawValue) ring lost or reordered messages")
        var fromSend = makeLatencyHistogram()
        var fromPlan = makeLatencyHistogram()
        for i in count / 10..<count {
            fromSend.record(nanoseconds(buffers.fromSend[i]))
            fromPlan.record(nanoseconds(buffers.fromPlan[i]))
        }
        return LatencyRun(fromSend: LatencySummary(fromSend), fromPlan: LatencySummary(fromPlan))
    }

    /// Ticks to nanoseconds; a difference below zero (the two CPUs' TSCs disagree by a few
    /// ticks) counts as 1 ns.
    private func nanoseconds(_ ticks: UInt64) -> UInt64 {
        Int64(bitPattern: ticks) <= 0 ? 1 : max(1, clock.nanoseconds(ticks))
    }
}

/// The C ring's two ends, initialised over the C region.
struct CRingEnds: @unchecked Sendable {
    var producer = rtes_cring_producer()
    var consumer = rtes_cring_consumer()

    init(memory: UnsafeMutableRawPointer, capacity: Int) {
        rtes_cring_init(memory, UInt64(capacity), &producer, &consumer)
    }
}

/// What one TSC read costs here (back-to-back reads, averaged).
struct TSCReadCost: Codable {
    var rdtscpNanoseconds: Double
    var rdtscNanoseconds: Double

    enum CodingKeys: String, CodingKey { case rdtscpNanoseconds = "rdtscp_ns", rdtscNanoseconds = "rdtsc_ns" }

    static func measure(clock: TSCClock) -> TSCReadCost {
        let reads = 2_000_000
        var sink: UInt64 = 0
        let start = rtes_rdtscp()
        for _ in 0..<reads { sink &+= rtes_rdtscp() }
        let middle = rtes_rdtscp()
        for _ in 0..<reads { sink &+= rtes_rdtsc() }
        let end = rtes_rdtscp()
        if sink == 42 { print("") }  // keeps the reads
        return TSCReadCost(rdtscpNanoseconds: Double(clock.nanoseconds(middle &- start)) / Double(reads),
                           rdtscNanoseconds: Double(clock.nanoseconds(end &- middle)) / Double(reads))
    }
}
