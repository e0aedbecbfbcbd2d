import CRingBaseline

/// A message the benchmark moves, field for field one of the C baseline's message types,
/// with the C loops compiled for that type.
protocol BenchMessage: BitwiseCopyable, Sendable {
    /// The message the producer sends as number `sequence`: the C baseline's `message_N(sequence)`.
    init(sequence: UInt64)
    var sequence: UInt64 { get }
    var sendTSC: UInt64 { get set }
    var plannedTSC: UInt64 { get set }
    var payload0: UInt64 { get }
    static var cLoops: CRingLoops { get }
}

/// 64 bytes: one cache line per slot.
struct Message64: BenchMessage {
    var sequence: UInt64
    var sendTSC: UInt64
    var plannedTSC: UInt64
    var payload0, payload1, payload2, payload3: UInt64
    var checksum: UInt64

    @inline(__always)
    init(sequence: UInt64) {
        self.sequence = sequence
        sendTSC = sequence
        plannedTSC = 0
        payload0 = sequence
        payload1 = 1
        payload2 = 2
        payload3 = 3
        checksum = 0
    }

    static var cLoops: CRingLoops {
        CRingLoops(produceSingle: rtes_cring_produce_single_64, consumeSingle: rtes_cring_consume_single_64,
                   produceBatched: rtes_cring_produce_batched_64, consumeBatched: rtes_cring_consume_batched_64,
                   producePaced: rtes_cring_produce_paced_64, consumeTimed: rtes_cring_consume_timed_64,
                   oneThread: rtes_cring_one_thread_64)
    }
}

/// 80 bytes, the stride of the engine's `CommandEnvelope`: slots do not line up with cache
/// lines, so most messages touch two lines and neighbours share one.
struct Message80: BenchMessage {
    var sequence: UInt64
    var sendTSC: UInt64
    var plannedTSC: UInt64
    var payload0, payload1, payload2, payload3, payload4, payload5: UInt64
    var checksum: UInt64

    @inline(__always)
    init(sequence: UInt64) {
        self.sequence = sequence
        sendTSC = sequence
        plannedTSC = 0
        payload0 = sequence
        payload1 = 1
        payload2 = 2
        payload3 = 3
        payload4 = 4
        payload5 = 5
        checksum = 0
    }

    static var cLoops: CRingLoops {
        CRingLoops(produceSingle: rtes_cring_produce_single_80, consumeSingle: rtes_cring_consume_single_80,
                   produceBatched: rtes_cring_produce_batched_80, consumeBatched: rtes_cring_consume_batched_80,
                   producePaced: rtes_cring_produce_paced_80, consumeTimed: rtes_cring_consume_timed_80,
                   oneThread: rtes_cring_one_thread_80)
    }
}

/// The C baseline's loops for one message type.
struct CRingLoops {
    typealias Producer = UnsafeMutablePointer<rtes_cring_producer>?
    typealias Consumer = UnsafeMutablePointer<rtes_cring_consumer>?
    typealias Run = UnsafeMutablePointer<rtes_cring_run>?

    var produceSingle: @convention(c) (Producer, UInt64, Int32, Run) -> Void
    var consumeSingle: @convention(c) (Consumer, UInt64, Int32, Run) -> Void
    var produceBatched: @convention(c) (Producer, UInt64, UInt64, Int32, Run) -> Void
    var consumeBatched: @convention(c) (Consumer, UInt64, UInt64, Int32, Run) -> Void
    var producePaced: @convention(c) (Producer, UInt64, UInt64, UInt64, Int32, Run) -> Void
    var consumeTimed: @convention(c) (Consumer, UInt64, UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<UInt64>?, Int32, Run) -> Void
    var oneThread: @convention(c) (Producer, Consumer, UInt64, UInt64) -> UInt64
}
