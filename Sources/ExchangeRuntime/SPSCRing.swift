import Synchronization

/// A bounded single-producer/single-consumer ring of fixed-size slots, the only way agents
/// talk to each other.
///
/// The ring lives in memory laid out by `SPSCRingLayout`: usually memory the runtime placed
/// (huge pages, the agents' NUMA node, locked), handed to `init(capacity:memory:)`; or, for
/// tests and tools, memory the ring allocates itself (`init(capacity:)`). `makeProducer()`
/// and `makeConsumer()` hand out the two ends, once each, `~Copyable` so that each can be
/// moved to the thread that uses it and never copied. Each end keeps its own index in a
/// register and a cached copy of the other's, and reads the other's shared index only when
/// its cached view says full (producer) or empty (consumer).
///
/// Neither end ever blocks or spins: a full ring is a `false` from `tryPush` or an empty
/// claim (counted in `Producer.fullCount`), an empty one a `nil` from `tryPop` or an empty
/// peek; what to do then is the agent's business (reject, retry on the next duty cycle, idle).
/// Pushing and popping allocate nothing and call nothing: the generic code is `@inlinable`
/// and specializes in the agent's module into a few loads and stores.
///
/// Lifetime: the ends point into the ring's memory and must not outlive it. Memory the caller
/// placed belongs to the caller, and the `SPSCRing` value itself may go away once the ends are
/// handed out (the runtime keeps its regions for the life of the process and stops the agents
/// first); memory the ring allocated is freed when the ring goes away, so such a ring must
/// outlive its ends.
///
/// Memory ordering: the producer writes a slot and then stores its index with `.releasing`;
/// the consumer loads that index with `.acquiring` before reading the slot. The consumer
/// stores its index with `.releasing` after reading the slots it releases; the producer
/// loads it with `.acquiring` before writing over them. Metrics read both with `.relaxed`.
public struct SPSCRing<Element: BitwiseCopyable>: ~Copyable, @unchecked Sendable {
    /// Where the indices and slots live.
    public let layout: SPSCRingLayout
    /// Start of the region (128-byte aligned).
    public let baseAddress: UnsafeMutableRawPointer
    private let ownsMemory: Bool
    private var producerTaken = false
    private var consumerTaken = false

    /// Bytes a ring of `capacity` slots needs (with 128-byte alignment).
    @inlinable
    public static func requiredBytes(capacity: Int) -> Int {
        SPSCRingLayout(capacity: capacity, of: Element.self).totalBytes
    }

    /// A ring in memory the caller placed and keeps alive for as long as the ends are used.
    /// `memory` must start 128-byte aligned and hold `requiredBytes(capacity:)` bytes; the
    /// ring sets both indices to zero and binds the slots to `Element`. Traps unless
    /// `capacity` is a power of two in `1 … SPSCRingLayout.maximumCapacity`.
    public init(capacity: Int, memory: UnsafeMutableRawBufferPointer) {
        self.init(capacity: capacity, memory: memory, startingAt: 0)
    }

    /// A ring whose indices start at `index` rather than zero, so a test can run them across
    /// the 2⁶⁴ wrap without pushing 2⁶⁴ elements.
    @_spi(Testing)
    public init(capacity: Int, memory: UnsafeMutableRawBufferPointer, startingAt index: UInt64) {
        let layout = SPSCRingLayout(capacity: capacity, of: Element.self)
        guard let base = memory.baseAddress else { preconditionFailure("ring memory has no base address") }
        precondition(Int(bitPattern: base) % SPSCRingLayout.alignment == 0, "ring memory must be 128-byte aligned")
        precondition(memory.count >= layout.totalBytes, "ring memory holds \(memory.count) bytes, needs \(layout.totalBytes)")
        Self.initializeIndices(base, at: index)
        _ = (base + SPSCRingLayout.slotsOffset).bindMemory(to: Element.self, capacity: capacity)
        self.layout = layout
        self.baseAddress = base
        self.ownsMemory = false
    }

    /// A ring in 128-byte aligned memory of its own (zeroed), freed when the ring goes away.
    public init(capacity: Int) {
        self.init(capacity: capacity, startingAt: 0)
    }

    /// A ring of its own whose indices start at `index` (see `init(capacity:memory:startingAt:)`).
    @_spi(Testing)
    public init(capacity: Int, startingAt index: UInt64) {
        let layout = SPSCRingLayout(capacity: capacity, of: Element.self)
        let base = UnsafeMutableRawPointer.allocate(byteCount: layout.totalBytes, alignment: SPSCRingLayout.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        Self.initializeIndices(base, at: index)
        _ = (base + SPSCRingLayout.slotsOffset).bindMemory(to: Element.self, capacity: capacity)
        self.layout = layout
        self.baseAddress = base
        self.ownsMemory = true
    }

    deinit {
        if ownsMemory { baseAddress.deallocate() }
    }

    private static func initializeIndices(_ base: UnsafeMutableRawPointer, at index: UInt64) {
        (base + SPSCRingLayout.producerIndexOffset).bindMemory(to: Atomic<UInt64>.self, capacity: 1).initialize(to: Atomic(index))
        (base + SPSCRingLayout.consumerIndexOffset).bindMemory(to: Atomic<UInt64>.self, capacity: 1).initialize(to: Atomic(index))
    }

    /// The writing end. Handed out once: a second call traps, so a ring never has two producers.
    public mutating func makeProducer() -> Producer {
        precondition(!producerTaken, "the ring's producer was already handed out")
        producerTaken = true
        return Producer(slots: slots, capacity: UInt64(layout.capacity), published: producerIndex, released: consumerIndex,
                        start: producerIndex.pointee.load(ordering: .relaxed))
    }

    /// The reading end. Handed out once: a second call traps, so a ring never has two consumers.
    public mutating func makeConsumer() -> Consumer {
        precondition(!consumerTaken, "the ring's consumer was already handed out")
        consumerTaken = true
        return Consumer(slots: slots, capacity: UInt64(layout.capacity), published: producerIndex, released: consumerIndex,
                        start: consumerIndex.pointee.load(ordering: .relaxed))
    }

    /// Number of slots.
    public var capacity: Int { layout.capacity }

    /// Elements published and not yet released, read with relaxed loads: approximate while
    /// the ends run, for metrics from any thread.
    public var depth: Int { Self.depth(published: producerIndex, released: consumerIndex, capacity: UInt64(layout.capacity)) }

    /// Elements ever published (relaxed; for metrics).
    public var published: UInt64 { producerIndex.pointee.load(ordering: .relaxed) }

    /// Elements ever released (relaxed; for metrics).
    public var released: UInt64 { consumerIndex.pointee.load(ordering: .relaxed) }

    private var slots: UnsafeMutablePointer<Element> {
        (baseAddress + SPSCRingLayout.slotsOffset).assumingMemoryBound(to: Element.self)
    }

    private var producerIndex: UnsafePointer<Atomic<UInt64>> {
        UnsafePointer((baseAddress + SPSCRingLayout.producerIndexOffset).assumingMemoryBound(to: Atomic<UInt64>.self))
    }

    private var consumerIndex: UnsafePointer<Atomic<UInt64>> {
        UnsafePointer((baseAddress + SPSCRingLayout.consumerIndexOffset).assumingMemoryBound(to: Atomic<UInt64>.self))
    }

    /// Depth from relaxed loads of both indices. Released is read first: both only grow, so
    /// the published index read after it is normally at least as large; relaxed loads promise
    /// no order, though, and a stale published index (a difference outside `0 … capacity`)
    /// counts as empty.
    @inlinable
    static func depth(published: UnsafePointer<Atomic<UInt64>>, released: UnsafePointer<Atomic<UInt64>>,
                      capacity: UInt64) -> Int {
        let head = released.pointee.load(ordering: .relaxed)
        let tail = published.pointee.load(ordering: .relaxed)
        let depth = tail &- head
        return depth <= capacity ? Int(truncatingIfNeeded: depth) : 0
    }
}

#if !DEBUG
// The compiler proves that both ends, specialized for a concrete element, take no lock,
// allocate nothing and call nothing it cannot see: these wrappers exist only to carry the
// annotations, which are checked on optimized builds (a debug build keeps generic metadata
// and calls it cannot prove). RingTests prove the same at run time with a malloc counter.
enum SPSCRingProof {
    struct Message: BitwiseCopyable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    }

    @_noLocks @_noAllocation
    static func push(_ producer: inout SPSCRing<Message>.Producer, _ message: Message) -> Bool {
        producer.tryPush(message)
    }

    @_noLocks @_noAllocation
    static func pushBatch(_ producer: inout SPSCRing<Message>.Producer, _ message: Message) -> Int {
        let slots = producer.claim(upTo: 32)
        for i in slots.indices { slots[i] = message }
        producer.publish(slots.count)
        return slots.count &+ producer.depth
    }

    @_noLocks @_noAllocation
    static func pop(_ consumer: inout SPSCRing<Message>.Consumer) -> Message? {
        consumer.tryPop()
    }

    @_noLocks @_noAllocation
    static func popBatch(_ consumer: inout SPSCRing<Message>.Consumer) -> UInt64 {
        let slots = consumer.peek(upTo: 32)
        var sum: UInt64 = 0
        for message in slots { sum &+= message.words.0 }
        consumer.release(slots.count)
        return sum &+ UInt64(truncatingIfNeeded: consumer.depth)
    }
}
#endif
