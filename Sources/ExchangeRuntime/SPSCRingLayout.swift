/// Where everything of one single-producer/single-consumer ring lives in its memory, written
/// down once (Agrona's `RingBufferDescriptor`, rigtorp's `SPSCQueue`).
///
/// | offset | bytes | contents |
/// |---|---|---|
/// | 0 | 128 | producer index block: the producer's published index, an `Atomic<UInt64>` at 0; the rest is padding |
/// | 128 | 128 | consumer index block: the consumer's released index, an `Atomic<UInt64>` at 128; the rest is padding |
/// | 256 | capacity × stride | slots: the element of index `n` is at `256 + (n & (capacity − 1)) × stride` |
/// | … | to a multiple of 128 | padding, so that whatever follows the ring never shares the last slots' block |
///
/// Each index is alone in a 128-byte block, not just a 64-byte line: Intel's spatial
/// prefetcher fetches lines in adjacent pairs, so two indices 64 bytes apart would still
/// ping-pong between the cores. The region starts 128-byte aligned, so the slots do too, and
/// a 64-byte element never straddles two cache lines.
///
/// Indices run free as `UInt64` (2⁶⁴ messages take centuries) and are masked only to find a
/// slot: `published − released` is the depth, `0 … capacity`, with no ambiguity between a
/// full and an empty ring.
public struct SPSCRingLayout: Equatable, Sendable {
    /// Size and alignment of an index block.
    public static let blockBytes = 128
    /// Alignment the region must have.
    public static let alignment = 128
    /// The producer's published index (count of elements ever published).
    public static let producerIndexOffset = 0
    /// The consumer's released index (count of elements ever released).
    public static let consumerIndexOffset = 128
    /// The first slot.
    public static let slotsOffset = 256
    /// The largest capacity accepted (the configuration's limit for `performance.queue_capacity`).
    public static let maximumCapacity = 1 << 30

    /// Number of slots, a power of two.
    public let capacity: Int
    /// Bytes from one slot to the next: the element's stride.
    public let slotStride: Int
    /// Bytes the region needs, a multiple of 128.
    public let totalBytes: Int

    /// The layout of a ring of `capacity` slots of `Element`. Traps unless `capacity` is a
    /// power of two in `1 … maximumCapacity`.
    public init<Element: BitwiseCopyable>(capacity: Int, of _: Element.Type) {
        precondition(Self.isValidCapacity(capacity),
                     "ring capacity must be a power of two in 1…\(Self.maximumCapacity), not \(capacity)")
        precondition(MemoryLayout<Element>.alignment <= Self.alignment, "element alignment above 128 bytes")
        let stride = max(MemoryLayout<Element>.stride, 1)
        let (slotBytes, overflow) = capacity.multipliedReportingOverflow(by: stride)
        precondition(!overflow && slotBytes <= Int.max - 2 * Self.blockBytes, "ring of \(capacity) × \(stride) bytes is too large")
        self.capacity = capacity
        self.slotStride = stride
        self.totalBytes = (Self.slotsOffset + slotBytes + Self.blockBytes - 1) / Self.blockBytes * Self.blockBytes
    }

    /// Whether `capacity` is acceptable: a power of two in `1 … maximumCapacity`.
    public static func isValidCapacity(_ capacity: Int) -> Bool {
        capacity > 0 && capacity <= maximumCapacity && capacity & (capacity - 1) == 0
    }

    /// Byte offset of the slot that holds index `index`.
    public func slotOffset(index: UInt64) -> Int {
        Self.slotsOffset + Int(truncatingIfNeeded: index & UInt64(capacity - 1)) * slotStride
    }
}
