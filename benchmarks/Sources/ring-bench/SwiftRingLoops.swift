import CExchangeShim
import CRingBaseline
import ExchangeRuntime

// The benchmark loops over the Swift ring: statement for statement the C baseline's loops
// in CRingBaseline/c_ring_baseline.c, so that the two rings are compared and not the loops.
// They live in this module, as an agent's loop would, and are specialized for each message
// type (the ring's @inlinable code with them). `@inline(never)` keeps each loop a function of
// its own for disassembly and callgrind. Each reaches its end through `inout`, as an agent
// reaches the end it keeps in itself: the compiler keeps the producer's `tail` in a register,
// but not the consumer's `head`, which is stored to the end on every pop (moving the end into
// a local does not change that: the move is elided).


@inline(__always)
private func spin(_ pause: Bool) {
    if pause { rtes_cpu_pause() }
}

@inline(never)
func swiftProduceSingle<M: BenchMessage>(_ producer: inout SPSCRing<M>.Producer, count: UInt64, pause: Bool, run: inout rtes_cring_run) {
    run.start_tsc = rtes_rdtscp()
    var i: UInt64 = 0
    while i < count {
        let message = M(sequence: i)
        while !producer.tryPush(message) { spin(pause) }
        i &+= 1
    }
}

@inline(never)
func swiftConsumeSingle<M: BenchMessage>(_ consumer: inout SPSCRing<M>.Consumer, count: UInt64, pause: Bool, run: inout rtes_cring_run) {
    var errors: UInt64 = 0
    var sum: UInt64 = 0
    var i: UInt64 = 0
    while i < count {
        var received = consumer.tryPop()
        while received == nil {
            spin(pause)
            received = consumer.tryPop()
        }
        let message = received.unsafelyUnwrapped
        errors &+= message.sequence != i ? 1 : 0
        sum &+= message.payload0
        i &+= 1
    }
    run.end_tsc = rtes_rdtscp()
    run.errors = errors
    run.sum = sum
}

@inline(never)
func swiftProduceBatched<M: BenchMessage>(_ producer: inout SPSCRing<M>.Producer, count: UInt64, batch: Int, pause: Bool, run: inout rtes_cring_run) {
    run.start_tsc = rtes_rdtscp()
    var sent: UInt64 = 0
    while sent < count {
        let slots = producer.claim(upTo: Int(truncatingIfNeeded: min(UInt64(batch), count &- sent)))
        if slots.isEmpty {
            spin(pause)
            continue
        }
        for j in 0..<slots.count { slots[j] = M(sequence: sent &+ UInt64(truncatingIfNeeded: j)) }
        producer.publish(slots.count)
        sent &+= UInt64(truncatingIfNeeded: slots.count)
    }
}

@inline(never)
func swiftConsumeBatched<M: BenchMessage>(_ consumer: inout SPSCRing<M>.Consumer, count: UInt64, batch: Int, pause: Bool, run: inout rtes_cring_run) {
    var errors: UInt64 = 0
    var sum: UInt64 = 0
    var received: UInt64 = 0
    while received < count {
        let slots = consumer.peek(upTo: batch)
        if slots.isEmpty {
            spin(pause)
            continue
        }
        for j in 0..<slots.count {
            errors &+= slots[j].sequence != received &+ UInt64(truncatingIfNeeded: j) ? 1 : 0
            sum &+= slots[j].payload0
        }
        consumer.release(slots.count)
        received &+= UInt64(truncatingIfNeeded: slots.count)
    }
    run.end_tsc = rtes_rdtscp()
    run.errors = errors
    run.sum = sum
}

@inline(never)
func swiftProducePaced<M: BenchMessage>(_ producer: inout SPSCRing<M>.Producer, count: UInt64, startTSC: UInt64, intervalTicks: UInt64,
                       pause: Bool, run: inout rtes_cring_run) {
    run.start_tsc = startTSC
    var i: UInt64 = 0
    while i < count {
        let planned = startTSC &+ i &* intervalTicks
        while rtes_rdtsc() < planned { spin(pause) }
        var message = M(sequence: i)
        message.plannedTSC = planned
        message.sendTSC = rtes_rdtsc()
        while !producer.tryPush(message) { spin(pause) }
        i &+= 1
    }
}

@inline(never)
func swiftConsumeTimed<M: BenchMessage>(_ consumer: inout SPSCRing<M>.Consumer, count: UInt64, fromSend: UnsafeMutablePointer<UInt64>,
                       fromPlan: UnsafeMutablePointer<UInt64>, pause: Bool, run: inout rtes_cring_run) {
    var errors: UInt64 = 0
    var sum: UInt64 = 0
    var i: UInt64 = 0
    while i < count {
        var received = consumer.tryPop()
        while received == nil {
            spin(pause)
            received = consumer.tryPop()
        }
        let now = rtes_rdtscp()
        let message = received.unsafelyUnwrapped
        fromSend[Int(truncatingIfNeeded: i)] = now &- message.sendTSC
        fromPlan[Int(truncatingIfNeeded: i)] = now &- message.plannedTSC
        errors &+= message.sequence != i ? 1 : 0
        sum &+= message.payload0
        i &+= 1
    }
    run.end_tsc = rtes_rdtscp()
    run.errors = errors
    run.sum = sum
}

/// `count` messages through both ends on the calling thread: pushed and popped in turn
/// (`batch` 0), or claimed, published, peeked and released `batch` at a time. The
/// instructions per message without a second core (run it under callgrind).
@inline(never)
func swiftOneThread<M: BenchMessage>(_ producer: inout SPSCRing<M>.Producer, _ consumer: inout SPSCRing<M>.Consumer,
                                     count: UInt64, batch: Int) -> UInt64 {
    var sum: UInt64 = 0
    if batch == 0 {
        var i: UInt64 = 0
        while i < count {
            _ = producer.tryPush(M(sequence: i))
            if let message = consumer.tryPop() { sum &+= message.payload0 }
            i &+= 1
        }
        return sum
    }
    var sent: UInt64 = 0
    while sent < count {
        let slots = producer.claim(upTo: Int(truncatingIfNeeded: min(UInt64(batch), count &- sent)))
        for j in 0..<slots.count { slots[j] = M(sequence: sent &+ UInt64(truncatingIfNeeded: j)) }
        producer.publish(slots.count)
        sent &+= UInt64(truncatingIfNeeded: slots.count)
        let ready = consumer.peek(upTo: batch)
        for j in 0..<ready.count { sum &+= ready[j].payload0 }
        consumer.release(ready.count)
    }
    return sum
}
