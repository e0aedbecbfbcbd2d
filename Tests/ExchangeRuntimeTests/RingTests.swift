import CMallocCounter
@_spi(Testing) import ExchangeRuntime
import Glibc
import Synchronization
import Testing

// MARK: - Single thread
//
// `#expect(end.tryPush(x) == true)` rather than `#expect(end.tryPush(x))`: the macro takes a
// bare call apart and would need to copy the `~Copyable` end.

@Suite struct RingOnOneThread {
    @Test func aNewRingIsEmpty() {
        var ring = SPSCRing<UInt64>(capacity: 8)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        #expect(consumer.tryPop() == nil)
        #expect(consumer.peek(upTo: 8).isEmpty)
        #expect(ring.depth == 0 && producer.depth == 0 && consumer.depth == 0)
        #expect(producer.published == 0 && consumer.released == 0)
        #expect(producer.knownFreeSlots == 8)
        #expect(producer.claim(upTo: 8).count == 8)
        #expect(producer.fullCount == 0)
    }

    @Test func acceptsExactlyCapacityElementsThenRejectsAndCountsEachRejection() {
        var ring = SPSCRing<UInt64>(capacity: 8)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        for value in 0..<8 as Range<UInt64> { #expect(producer.tryPush(value) == true) }
        #expect(producer.tryPush(8) == false)
        #expect(producer.tryPush(8) == false)
        #expect(producer.fullCount == 2)
        #expect(producer.claim(upTo: 4).isEmpty)
        #expect(producer.fullCount == 3)
        #expect(ring.depth == 8)
        #expect(consumer.tryPop() == 0)
        #expect(producer.tryPush(8) == true)
        #expect(producer.tryPush(9) == false)
        #expect(producer.fullCount == 4)
        for value in 1...8 as ClosedRange<UInt64> { #expect(consumer.tryPop() == value) }
        #expect(consumer.tryPop() == nil)
        #expect(ring.depth == 0)
    }

    @Test func keepsFirstInFirstOutOrderAcrossManyWraps() {
        var ring = SPSCRing<UInt64>(capacity: 4)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        var next: UInt64 = 0
        var expected: UInt64 = 0
        for round in 0..<1_000 {
            for _ in 0..<(round % 4 + 1) {
                #expect(producer.tryPush(next) == true)
                next += 1
            }
            while let value = consumer.tryPop() {
                #expect(value == expected)
                expected += 1
            }
        }
        #expect(expected == next)
        #expect(producer.published == next && consumer.released == next)
    }

    @Test func claimStopsAtTheWrapEdgeAndTheNextClaimStartsAtSlotZero() {
        var ring = SPSCRing<UInt64>(capacity: 8)
        let slotsStart = UnsafeRawPointer(ring.baseAddress + SPSCRingLayout.slotsOffset)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        for value in 0..<6 as Range<UInt64> { #expect(producer.tryPush(value) == true) }
        for value in 0..<6 as Range<UInt64> { #expect(consumer.tryPop() == value) }

        let end = producer.claim(upTo: 5)
        #expect(end.count == 2)
        #expect(UnsafeRawPointer(end.baseAddress!) == slotsStart + 6 * 8)
        end[0] = 6
        end[1] = 7
        producer.publish(2)
        let start = producer.claim(upTo: 5)
        #expect(start.count == 5)
        #expect(UnsafeRawPointer(start.baseAddress!) == slotsStart)
        for i in 0..<5 { start[i] = 8 + UInt64(i) }
        producer.publish(5)
        #expect(ring.depth == 7)

        let ready = consumer.peek(upTo: 8)
        #expect(Array(ready) == [6, 7])
        consumer.release(2)
        let wrapped = consumer.peek(upTo: 8)
        #expect(Array(wrapped) == [8, 9, 10, 11, 12])
        #expect(UnsafeRawPointer(wrapped.baseAddress!) == slotsStart)
        consumer.release(5)
        #expect(consumer.tryPop() == nil)
    }

    @Test func claimOffersOnlyTheFreeSlotsOfANearlyFullRing() {
        var ring = SPSCRing<UInt64>(capacity: 16)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        for value in 0..<13 as Range<UInt64> { #expect(producer.tryPush(value) == true) }
        #expect(producer.claim(upTo: 10).count == 3)
        #expect(producer.fullCount == 0)
        producer.publish(0)
        #expect(consumer.peek(upTo: 4).count == 4)
        consumer.release(4)
        // The cached view says 3 free; asking for more makes the producer look again.
        #expect(producer.claim(upTo: 10).count == 3)  // the wrap edge: slots 13…15
        #expect(producer.claim(upTo: 2).count == 2)
        #expect(ring.depth == 9)
    }

    @Test func publishingPartOfAClaimPublishesOnlyThatPart() {
        var ring = SPSCRing<UInt64>(capacity: 8)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        let claim = producer.claim(upTo: 6)
        for i in 0..<6 { claim[i] = UInt64(100 + i) }
        producer.publish(2)
        #expect(ring.depth == 2)
        let ready = consumer.peek(upTo: 8)
        #expect(Array(ready) == [100, 101])
        consumer.release(1)
        #expect(consumer.tryPop() == 101)
        #expect(consumer.tryPop() == nil)
        #expect(producer.tryPush(7) == true)
        #expect(consumer.tryPop() == 7)
    }

    @Test func interleavedBatchAndSingleOperationsMatchASimpleQueue() {
        // Random operations on both ends against an array used as a queue, every result compared.
        var ring = SPSCRing<UInt64>(capacity: 16)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        var model: [UInt64] = []
        var random = SplitMix64(seed: 42)
        var next: UInt64 = 0
        for _ in 0..<20_000 {
            switch random.next() % 4 {
            case 0:
                let accepted = producer.tryPush(next)
                #expect(accepted == (model.count < 16))
                if accepted { model.append(next); next += 1 }
            case 1:
                let wanted = Int(random.next() % 20)
                let claim = producer.claim(upTo: wanted)
                let free = 16 - model.count
                let toEdge = 16 - Int(producer.published % 16)
                #expect(claim.count == min(wanted, free, toEdge))
                let count = claim.isEmpty ? 0 : Int(random.next() % UInt64(claim.count + 1))
                for i in 0..<count { claim[i] = next; model.append(next); next += 1 }
                producer.publish(count)
            case 2:
                let value = consumer.tryPop()
                #expect(value == model.first)
                if !model.isEmpty { model.removeFirst() }
            default:
                let wanted = Int(random.next() % 20)
                let ready = consumer.peek(upTo: wanted)
                let toEdge = 16 - Int(consumer.released % 16)
                #expect(ready.count == min(wanted, model.count, toEdge))
                #expect(Array(ready) == Array(model.prefix(ready.count)))
                let count = ready.isEmpty ? 0 : Int(random.next() % UInt64(ready.count + 1))
                consumer.release(count)
                model.removeFirst(count)
            }
            #expect(ring.depth == model.count)
        }
        #expect(next > 10_000)
    }

    @Test func indicesKeepWorkingWhenTheyWrapPastTheLargest64BitValue() {
        let start = UInt64.max - 20
        var ring = SPSCRing<UInt64>(capacity: 8, startingAt: start)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        var expected: UInt64 = 0
        var next: UInt64 = 0
        for _ in 0..<20 {
            let claim = producer.claim(upTo: 3)
            for i in 0..<claim.count { claim[i] = next; next += 1 }
            producer.publish(claim.count)
            #expect(producer.tryPush(next) == true)
            next += 1
            #expect(ring.depth == Int(next - expected))
            while let value = consumer.tryPop() {
                #expect(value == expected)
                expected += 1
            }
        }
        #expect(expected == next && next > 60)
        #expect(producer.published == start &+ next)
        #expect(producer.published < start)  // wrapped past zero
        #expect(ring.depth == 0)
        for value in 0..<8 as Range<UInt64> { #expect(producer.tryPush(value) == true) }
        #expect(producer.tryPush(8) == false)
        #expect(ring.depth == 8)
    }

    @Test func layoutGivesEachIndexItsOwnBlockAndStartsSlotsOn128Bytes() {
        #expect(SPSCRingLayout.producerIndexOffset == 0)
        #expect(SPSCRingLayout.consumerIndexOffset == 128)
        #expect(SPSCRingLayout.slotsOffset == 256)
        let layout = SPSCRingLayout(capacity: 1_024, of: Slot64.self)
        #expect(MemoryLayout<Slot64>.stride == 64)
        #expect(layout.slotStride == 64)
        #expect(layout.totalBytes == 256 + 64 * 1_024)
        #expect(layout.slotOffset(index: 1_025) == 256 + 64)
        #expect(SPSCRing<Slot64>.requiredBytes(capacity: 1_024) == layout.totalBytes)
        // Odd sizes round up to a whole block, so nothing placed after the ring shares its last block.
        #expect(SPSCRing<(UInt64, UInt8)>.requiredBytes(capacity: 4) == 384)  // 256 + 4 × 16 = 320 → 384
        #expect(SPSCRing<UInt8>.requiredBytes(capacity: 1) == 384)
        #expect(SPSCRingLayout.isValidCapacity(1) && SPSCRingLayout.isValidCapacity(65_536))
        #expect(SPSCRingLayout.isValidCapacity(1 << 30) && !SPSCRingLayout.isValidCapacity(1 << 31))
        #expect(!SPSCRingLayout.isValidCapacity(0) && !SPSCRingLayout.isValidCapacity(-8) && !SPSCRingLayout.isValidCapacity(24))
    }

    @Test func aRingInCallerMemoryKeepsItsIndicesAndSlotsWhereTheLayoutSays() {
        let bytes = SPSCRing<UInt64>.requiredBytes(capacity: 4)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 128)
        defer { memory.deallocate() }
        memory.initializeMemory(as: UInt8.self, repeating: 0xAB)
        do {
            var ring = SPSCRing<UInt64>(capacity: 4, memory: memory)
            var producer = ring.makeProducer()
            var consumer = ring.makeConsumer()
            #expect(consumer.tryPop() == nil)
            #expect(producer.tryPush(0x1111) == true)
            #expect(producer.tryPush(0x2222) == true)
            #expect(consumer.tryPop() == 0x1111)
            #expect(memory.load(fromByteOffset: SPSCRingLayout.producerIndexOffset, as: UInt64.self) == 2)
            #expect(memory.load(fromByteOffset: SPSCRingLayout.consumerIndexOffset, as: UInt64.self) == 1)
            #expect(memory.load(fromByteOffset: SPSCRingLayout.slotsOffset + 8, as: UInt64.self) == 0x2222)
            // Nothing written between the indices and the slots: each index has its block to itself.
            #expect(memory[8..<128].allSatisfy { $0 == 0xAB })
            #expect(memory[136..<256].allSatisfy { $0 == 0xAB })
        }
    }

    @Test func handingOutASecondProducerTraps() async {
        await #expect(processExitsWith: .failure) {
            var ring = SPSCRing<UInt64>(capacity: 8)
            _ = ring.makeProducer()
            _ = ring.makeProducer()
        }
    }

    @Test func aCapacityThatIsNotAPowerOfTwoTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = SPSCRing<UInt64>(capacity: 1_000)
        }
    }
}

// MARK: - Heap

@Suite(.serialized) struct RingHeapUse {
    /// An array of a size known only at run time always lives on the heap: if this is not
    /// counted, the interposer is not in effect and the zeros below would prove nothing.
    @Test func theMallocCounterSeesARuntimeSizedArray() {
        let size = Int.random(in: 64...128)
        rtes_malloc_counter_start()
        let array = [UInt8](repeating: 1, count: size)
        let counts = rtes_malloc_counter_stop()
        #expect(array.count == size)
        #expect(counts.allocations >= 1)
        #expect(counts.bytes >= UInt64(size))
    }

    @Test func pushAndPopLoopsTouchNoHeap() {
        var ring = SPSCRing<Slot64>(capacity: 64)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        var sum: UInt64 = 0
        func exercise(_ rounds: Int) {
            for round in 0..<rounds {
                var value = Slot64(sequence: UInt64(round))
                while producer.tryPush(value) { value.sequence &+= 1 }
                while let element = consumer.tryPop() { sum &+= element.sequence }
                let claim = producer.claim(upTo: 48)
                for i in 0..<claim.count { claim[i] = Slot64(sequence: UInt64(i)) }
                producer.publish(claim.count)
                let ready = consumer.peek(upTo: 48)
                for element in ready { sum &+= element.sequence }
                consumer.release(ready.count)
                sum &+= UInt64(ring.depth + producer.depth + consumer.depth) &+ producer.fullCount
            }
        }
        exercise(100)  // warm-up: generic metadata is instantiated (and cached) on first use in a debug build
        rtes_malloc_counter_start()
        exercise(1_000)
        let counts = rtes_malloc_counter_stop()
        #expect(sum > 0)
        #expect(producer.fullCount == 1_100)
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }
}

// MARK: - Two threads

/// The producer and consumer on two threads of their own, moving millions of 64-byte
/// messages through a small ring (many wraps, many full and empty moments). Allowed outcome:
/// the consumer sees every sequence number once, in order, each message intact (its checksum
/// matches and its payload is the one derived from its sequence number). A thread that finds
/// the ring full or empty spins briefly, then yields, so the test also works when both
/// threads share one core; either side stops waiting when the other gave up (a failure) or
/// after a deadline, and both threads are always joined.
@Suite(.serialized) struct RingAcrossTwoThreads {
    static let singleMessages = 20_000_000
    static let batchedMessages = 20_000_000

    @Test func movesTwentyMillionSingleMessagesInOrderAndIntact() {
        let outcome = StressRun.run(messages: Self.singleMessages, capacity: 4096, batched: false)
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.received == Self.singleMessages)
    }

    @Test func movesTwentyMillionBatchedMessagesInOrderAndIntact() {
        let outcome = StressRun.run(messages: Self.batchedMessages, capacity: 4096, batched: true)
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.received == Self.batchedMessages)
    }

    @Test func aCorruptMessageStopsBothThreadsAndIsReported() {
        for batched in [false, true] {
            let outcome = StressRun.run(messages: 1_000_000, capacity: 64, batched: batched, corruptingAt: 5_000)
            #expect(outcome.received == 5_000)
            #expect(outcome.problems.count == 1)
            #expect(outcome.problems.first?.hasPrefix("message 5000 is corrupt") == true)
        }
    }
}

// MARK: - Support

/// A 64-byte message: a sequence number, six payload words derived from it and a checksum
/// of all seven. A torn or stale slot fails one of the two checks in `isIntact`.
private struct Slot64: BitwiseCopyable {
    var sequence: UInt64
    var word0, word1, word2, word3, word4, word5: UInt64
    var checksum: UInt64

    init(sequence: UInt64) {
        self.sequence = sequence
        let seed = sequence &* 0x9E37_79B9_7F4A_7C15
        word0 = seed
        word1 = seed ^ 0xA5A5_A5A5_A5A5_A5A5
        word2 = seed &+ 1
        word3 = seed >> 7
        word4 = ~seed
        word5 = seed &* 3
        checksum = 0
        checksum = computedChecksum
    }

    var computedChecksum: UInt64 {
        var h = (sequence ^ 0xCBF2_9CE4_8422_2325) &* 0x100_0000_01B3
        h = (h ^ word0) &* 0x100_0000_01B3
        h = (h ^ word1) &* 0x100_0000_01B3
        h = (h ^ word2) &* 0x100_0000_01B3
        h = (h ^ word3) &* 0x100_0000_01B3
        h = (h ^ word4) &* 0x100_0000_01B3
        return (h ^ word5) &* 0x100_0000_01B3
    }

    /// The checksum matches the words, and the words are the ones derived from the sequence number.
    var isIntact: Bool {
        let seed = sequence &* 0x9E37_79B9_7F4A_7C15
        return checksum == computedChecksum && word0 == seed && word1 == seed ^ 0xA5A5_A5A5_A5A5_A5A5
            && word2 == seed &+ 1 && word3 == seed >> 7 && word4 == ~seed && word5 == seed &* 3
    }
}

private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One two-thread run: a producer thread and a consumer thread over one ring.
private enum StressRun {
    struct Outcome {
        var received: Int
        var problems: [String]
    }

    /// Moves `messages` messages; `corruptingAt` makes the producer spoil the checksum of one
    /// message, to show that a failing run stops both threads.
    static func run(messages: Int, capacity: Int, batched: Bool, corruptingAt corrupt: UInt64? = nil,
                    deadlineSeconds: Double = 60) -> Outcome {
        var ring = SPSCRing<Slot64>(capacity: capacity)
        let control = StressControl(deadlineSeconds: deadlineSeconds)
        let producerEnd = Handoff(ring.makeProducer())
        let consumerEnd = Handoff(ring.makeConsumer())
        let received = Atomic<Int>(0)
        let producer = JoinableThread {
            var end = producerEnd.take()
            let spoil = corrupt ?? .max
            if batched {
                produceBatched(&end, messages: messages, corruptingAt: spoil, control: control)
            } else {
                produce(&end, messages: messages, corruptingAt: spoil, control: control)
            }
        }
        let consumer = JoinableThread {
            var end = consumerEnd.take()
            let count = batched ? consumeBatched(&end, messages: messages, control: control) : consume(&end, messages: messages, control: control)
            received.store(count, ordering: .relaxed)
        }
        producer.join()
        consumer.join()
        if control.problems.isEmpty && ring.depth != 0 { control.fail("ring not empty at the end: depth \(ring.depth)") }
        return Outcome(received: received.load(ordering: .relaxed), problems: control.problems)
    }

    static func produce(_ end: inout SPSCRing<Slot64>.Producer, messages: Int, corruptingAt corrupt: UInt64,
                        control: StressControl) {
        var backoff = Backoff()
        var sequence: UInt64 = 0
        while sequence < UInt64(messages) {
            var message = Slot64(sequence: sequence)
            if sequence == corrupt { message.checksum &+= 1 }
            if end.tryPush(message) {
                sequence += 1
                backoff.reset()
            } else if !backoff.wait(control) {
                return
            }
        }
    }

    static func consume(_ end: inout SPSCRing<Slot64>.Consumer, messages: Int, control: StressControl) -> Int {
        var backoff = Backoff()
        var expected: UInt64 = 0
        while expected < UInt64(messages) {
            if let message = end.tryPop() {
                guard check(message, expected: expected, control: control) else { return Int(expected) }
                expected += 1
                backoff.reset()
            } else if !backoff.wait(control) {
                return Int(expected)
            }
        }
        return Int(expected)
    }

    /// Claims 1…37 slots at a time (a pattern that is prime to the capacity, so claims meet
    /// the wrap edge at every offset) and publishes all of a claim or, every fifth time, part.
    static func produceBatched(_ end: inout SPSCRing<Slot64>.Producer, messages: Int, corruptingAt corrupt: UInt64,
                               control: StressControl) {
        var backoff = Backoff()
        var sequence: UInt64 = 0
        var round: UInt64 = 0
        while sequence < UInt64(messages) {
            round += 1
            let wanted = Int(min(round % 37 + 1, UInt64(messages) - sequence))
            let claim = end.claim(upTo: wanted)
            if claim.isEmpty {
                if !backoff.wait(control) { return }
                continue
            }
            let count = round % 5 == 0 ? (claim.count + 1) / 2 : claim.count
            for i in 0..<count {
                claim[i] = Slot64(sequence: sequence + UInt64(i))
                if sequence + UInt64(i) == corrupt { claim[i].checksum &+= 1 }
            }
            end.publish(count)
            sequence += UInt64(count)
            backoff.reset()
        }
    }

    /// Peeks at 1…29 slots at a time and releases all of them or, every seventh time, part.
    static func consumeBatched(_ end: inout SPSCRing<Slot64>.Consumer, messages: Int, control: StressControl) -> Int {
        var backoff = Backoff()
        var expected: UInt64 = 0
        var round: UInt64 = 0
        while expected < UInt64(messages) {
            round += 1
            let ready = end.peek(upTo: Int(round % 29 + 1))
            if ready.isEmpty {
                if !backoff.wait(control) { return Int(expected) }
                continue
            }
            let count = round % 7 == 0 ? (ready.count + 1) / 2 : ready.count
            for i in 0..<count {
                guard check(ready[i], expected: expected, control: control) else { return Int(expected) }
                expected += 1
            }
            end.release(count)
            backoff.reset()
        }
        return Int(expected)
    }

    static func check(_ message: Slot64, expected: UInt64, control: StressControl) -> Bool {
        if message.sequence != expected {
            control.fail("expected sequence \(expected), received \(message.sequence)")
            return false
        }
        if !message.isIntact {
            control.fail("message \(expected) is corrupt: \(message)")
            return false
        }
        return true
    }
}

/// What the two threads of a run share: whether to stop, why, and the deadline.
private final class StressControl: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let reasons = Mutex<[String]>([])
    let deadline: UInt64

    init(deadlineSeconds: Double) {
        deadline = StressControl.monotonicNanoseconds() + UInt64(deadlineSeconds * 1e9)
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }
    var problems: [String] { reasons.withLock { $0 } }

    func fail(_ reason: String) {
        reasons.withLock { $0.append(reason) }
        stopped.store(true, ordering: .releasing)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// Spin, then yield: waiting that behaves when both threads share a core. `wait` returns
/// `false` when the run was stopped or is past its deadline, and the caller gives up.
private struct Backoff {
    private var waits = 0

    mutating func reset() { waits = 0 }

    mutating func wait(_ control: StressControl) -> Bool {
        waits += 1
        if waits < 100 { return true }  // spin: the other side is usually a few nanoseconds away
        if waits % 64 == 0 {
            if control.isStopped { return false }
            if StressControl.monotonicNanoseconds() > control.deadline {
                control.fail("no progress before the deadline")
                return false
            }
        }
        sched_yield()
        return true
    }
}

/// Moves a `~Copyable` value into another thread: stored once, taken once.
private final class Handoff<Value: ~Copyable>: @unchecked Sendable {
    private var value: Value?

    init(_ value: consuming Value) { self.value = consume value }

    func take() -> Value {
        guard let value = value.take() else { preconditionFailure("taken twice") }
        return value
    }
}

/// A thread that runs a closure and is joined explicitly.
private struct JoinableThread: ~Copyable {
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

    consuming func join() {
        pthread_join(thread, nil)
    }
}
