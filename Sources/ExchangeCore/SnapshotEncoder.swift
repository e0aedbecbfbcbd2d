/// Writes a snapshot's fields little-endian into a fixed chunk and hands each full chunk to
/// the caller's sink, so that whoever stores the bytes (a file, a socket, a test's array)
/// never needs the whole snapshot in memory twice. Not on any hot path: taking a snapshot
/// allocates this one chunk.
///
/// The sink is a plain function of the chunk: the format is the snapshot's, what happens
/// to the bytes is the caller's (ExchangeJournal's `SnapshotFileWriter` checksums and
/// writes them).
public struct SnapshotEncoder: ~Copyable {
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    private let chunk: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0
    private let sink: Sink
    /// Bytes handed to the sink so far, plus those still in the chunk.
    public var bytesWritten: Int { flushed + used }
    private var flushed = 0

    /// An encoder that hands chunks of `chunkBytes` (at least 64) to `sink`.
    public init(chunkBytes: Int = 1 << 16, sink: @escaping Sink) {
        capacity = max(64, chunkBytes)
        chunk = .allocate(byteCount: capacity, alignment: 16)
        self.sink = sink
    }

    deinit { chunk.deallocate() }

    /// Makes room for `bytes` (≤ 64) contiguous bytes, flushing the chunk if needed.
    @inline(__always)
    private mutating func room(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        if used &+ bytes > capacity { try flush() }
        let at = chunk + used
        used &+= bytes
        return at
    }

    public mutating func u8(_ value: UInt8) throws { try room(1).storeBytes(of: value, as: UInt8.self) }
    public mutating func u16(_ value: UInt16) throws { try room(2).storeBytes(of: value.littleEndian, as: UInt16.self) }
    public mutating func u32(_ value: UInt32) throws { try room(4).storeBytes(of: value.littleEndian, as: UInt32.self) }
    public mutating func u64(_ value: UInt64) throws { try room(8).storeBytes(of: value.littleEndian, as: UInt64.self) }
    public mutating func bool(_ value: Bool) throws { try u8(value ? 1 : 0) }

    /// Copies raw bytes through (an opaque section of another layer).
    public mutating func bytes(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if used == capacity { try flush() }
            let n = min(rest.count, capacity - used)
            (chunk + used).copyMemory(from: rest.baseAddress!, byteCount: n)
            used += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    /// Hands what the chunk holds to the sink.
    public mutating func flush() throws {
        guard used > 0 else { return }
        let n = used
        used = 0
        flushed += n
        try sink(UnsafeRawBufferPointer(start: chunk, count: n))
    }
}
