import Glibc

/// The registry: modules place their counter blocks in the region and describe them in the
/// directory (`CountersLayout.Directory`). Registration happens at start-up, from the thread
/// that builds the agents, before any reader needs the block; a reader that sees
/// `Header.blockCount` = n (acquiring) sees the n blocks' records complete.
extension CounterCells {
    /// Allocates `block`'s cells at the next 128-byte-aligned offset of the cells area,
    /// writes its directory records and returns it. Registering a block name again returns
    /// the block already registered when it has the same shape (so two agents that share a
    /// block, or a reader that needs another module's cell, find the same cells).
    /// - Throws: when the region has no room for the block's cells or records, when a name
    ///   is too long or repeated, or when the name is registered with another shape.
    public func register(_ block: CounterBlockDescriptor) throws(SystemError) -> CounterBlock {
        
        typealias D = CountersLayout.Directory
        let blocks = Int(loadAcquiring(CountersLayout.Header.blockCount))
        for i in 0..<blocks {
            let record = D.blockRecordsOffset + i * D.blockRecordBytes
            guard text(at: record + D.BlockRecord.name, bytes: D.blockNameBytes) == block.name else { continue }
            let cellCount = Int(load(record + D.BlockRecord.cellCount))
            guard cellCount == block.cellCount, Int(load(record + D.BlockRecord.counterCount)) == block.counters.count else {
                throw SystemError(call: "register counter block \(block.name)", errno: EINVAL,
                                  detail: "already registered with \(cellCount) cells, now with \(block.cellCount)")
            }
            return CounterBlock(base: base + Int(load(record + D.BlockRecord.offset)), cellCount: cellCount)
        }
        guard block.name.utf8.count < D.blockNameBytes, !block.name.isEmpty else {
            throw SystemError(call: "register counter block \(block.name)", errno: EINVAL, detail: "a block name is 1 to \(D.blockNameBytes - 1) bytes")
        }
        var names = Set<String>()
        for counter in block.counters {
            guard counter.name.utf8.count < D.cellNameBytes, !counter.name.isEmpty, names.insert(counter.name).inserted else {
                throw SystemError(call: "register counter block \(block.name)", errno: EINVAL,
                                  detail: "counter name \"\(counter.name)\" is empty, longer than \(D.cellNameBytes - 1) bytes or repeated")
            }
        }
        let counters = Int(load(CountersLayout.Header.counterCount))
        let used = Int(load(CountersLayout.Header.cellsUsed))
        guard blocks < D.maxBlocks else {
            throw SystemError(call: "register counter block \(block.name)", errno: ENOSPC,
                              detail: "the counters directory holds \(D.maxBlocks) blocks and has no room for another")
        }
        guard counters + block.counters.count <= D.maxCounters else {
            throw SystemError(call: "register counter block \(block.name)", errno: ENOSPC,
                              detail: "the counters directory has room for \(D.maxCounters - counters) more counters, the block has \(block.counters.count)")
        }
        guard used + block.bytes <= CountersLayout.cellsBytes else {
            throw SystemError(call: "register counter block \(block.name)", errno: ENOSPC,
                              detail: "the counters region has \(CountersLayout.cellsBytes - used) bytes of cells left, the block needs \(block.bytes)")
        }
        let offset = CountersLayout.cellsOffset + used
        for (i, counter) in block.counters.enumerated() {
            let record = D.counterRecordsOffset + (counters + i) * D.counterRecordBytes
            writeText(counter.name, at: record + D.CounterRecord.name, bytes: D.cellNameBytes)
            store(record + D.CounterRecord.kind, counter.kind.rawValue)
            store(record + D.CounterRecord.offset, UInt64(counter.cell.offset))
        }
        let record = D.blockRecordsOffset + blocks * D.blockRecordBytes
        writeText(block.name, at: record + D.BlockRecord.name, bytes: D.blockNameBytes)
        store(record + D.BlockRecord.offset, UInt64(offset))
        store(record + D.BlockRecord.cellCount, UInt64(block.cellCount))
        store(record + D.BlockRecord.firstCounter, UInt64(counters))
        store(record + D.BlockRecord.counterCount, UInt64(block.counters.count))
        for i in 0..<block.cellCount { store(offset + 8 * i, 0) }
        store(CountersLayout.Header.cellsUsed, UInt64(used + block.bytes))
        store(CountersLayout.Header.counterCount, UInt64(counters + block.counters.count))
        storeReleasing(CountersLayout.Header.blockCount, UInt64(blocks + 1))
        return CounterBlock(base: base + offset, cellCount: block.cellCount)
    }

    /// Writes `text` as zero-padded UTF-8 in `bytes` bytes (truncated to leave a zero).
    public func writeText(_ text: String, at offset: Int, bytes: Int) {
        let utf8 = Array(text.utf8.prefix(bytes - 1))
        let p = (base + offset).assumingMemoryBound(to: UInt8.self)
        for i in 0..<bytes { p[i] = i < utf8.count ? utf8[i] : 0 }
    }

    /// Zero-padded UTF-8 of at most `bytes` bytes.
    public func text(at offset: Int, bytes: Int) -> String {
        let p = (base + offset).assumingMemoryBound(to: UInt8.self)
        return String(decoding: UnsafeBufferPointer(start: p, count: bytes).prefix { $0 != 0 }, as: UTF8.self)
    }
}
