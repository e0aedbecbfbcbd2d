import CExchangeShim
import ExchangeClock
import ExchangeEngine
import ExchangeRuntime
import Glibc

// Group commit: filling a batch from the input ring, submitting it as one write → fdatasync
// chain, and reaping the chain's completions.
extension JournalAgent {
    func buffer(_ slot: Int) -> UnsafeMutableRawPointer { buffers + slot &* bufferBytes }

    func spareName(_ slot: Int) -> UnsafeMutablePointer<CChar> { names + (slot &* 2) &* Self.nameBytes }

    func finalName(_ slot: Int) -> UnsafeMutablePointer<CChar> { names + (slot &* 2 &+ 1) &* Self.nameBytes }

    /// Takes every record the input ring holds, up to what the filling batch can carry.
    /// Returns the number taken.
    mutating func fill() -> Int {
        var taken = 0
        while true {
            let span = input.peek(upTo: 256)
            guard let base = span.baseAddress, !span.isEmpty else { break }
            var n = 0
            while n < span.count {
                if filling == nil && !startBatch(firstSequence: base[n].sequence) { break }
                guard var batch = filling else { break }
                // Room for the longest record within the group-commit limit and the segment.
                guard batch.recordBytes &+ JournalRecord.maximumBytes <= configuration.groupCommitMaxBytes,
                      Self.roundUp(batch.fileOffset &+ batch.used &+ JournalRecord.maximumBytes, JournalSegmentFile.blockBytes)
                        <= configuration.segmentBytes else { break }
                let command = base[n]
                if _slowPath(command.sequence != expectedSequence) {
                    counters.store(JournalCounters.sequenceGaps, counters.load(JournalCounters.sequenceGaps) &+ 1)
                }
                expectedSequence = command.sequence &+ 1
                let length = JournalRecord.encode(command, to: buffer(batch.slot) + batch.used)
                if batch.records == 0 { batch.firstSequence = command.sequence }
                batch.lastSequence = command.sequence
                batch.used &+= length
                batch.recordBytes &+= length
                batch.records &+= 1
                tipEnd &+= length
                filling = batch
                n &+= 1
            }
            input.release(n)
            taken &+= n
            if n < span.count { break }
        }
        if taken > 0 {
            recordsTaken &+= UInt64(truncatingIfNeeded: taken)
            counters.store(JournalCounters.records, recordsTaken)
            counters.store(JournalCounters.lag, recordsTaken &- recordsDurable)
        }
        return taken
    }

    /// Starts a batch in the buffer the newest batch does not use: after the tip's data
    /// (carrying over its partial block with O_DIRECT) when a record still fits in the tip
    /// segment, else at the start of a spare segment, behind its header. False when a new
    /// segment is needed and none can be had yet (a fault: the records wait in the ring).
    mutating func startBatch(firstSequence: UInt64) -> Bool {
        let slot = 1 &- lastSlot
        let block = JournalSegmentFile.blockBytes
        let start = direct ? tipEnd / block &* block : tipEnd
        if Self.roundUp(tipEnd &+ JournalRecord.maximumBytes, block) <= configuration.segmentBytes {
            let carried = tipEnd &- start
            if carried > 0 {
                // The newest batch's buffer holds the partial block from `start` (its file offset ≤ start).
                (buffer(slot)).copyMemory(from: buffer(lastSlot) + (start &- lastBatchOffset), byteCount: carried)
            }
            filling = Batch(slot: slot, fd: tipFD, fileOffset: start, used: carried, records: 0, recordBytes: 0,
                            firstSequence: 0, lastSequence: 0, opensSegment: false, writeBytes: 0)
            return true
        }
        guard spareFD >= 0 || prepareSpare(blocking: true) else { return false }
        // Roll: the batch opens the spare. Its header needs the first sequence: the next record's.
        let header = JournalSegmentHeader(firstSequence: firstSequence, segmentIndex: spareIndex,
                                          createdAt: rtes_realtime_ns(), capacity: UInt64(configuration.segmentBytes),
                                          day: configuration.day)
        header.encode(to: buffer(slot))
        Self.writeName(index: spareIndex, suffix: "spare", into: spareName(slot))
        Self.writeName(index: firstSequence, suffix: "rtj", into: finalName(slot))
        if flight?.fd == tipFD { closeAfterFlight = tipFD } else { _ = rtes_file_close(tipFD) }
        tipFD = spareFD
        tipIndex = spareIndex
        tipEnd = JournalSegmentHeader.bytes
        spareFD = -1
        spareIndex &+= 1
        filling = Batch(slot: slot, fd: tipFD, fileOffset: 0, used: JournalSegmentHeader.bytes, records: 0, recordBytes: 0,
                        firstSequence: 0, lastSequence: 0, opensSegment: true, writeBytes: 0)
        return true
    }

    /// Writes `<index, 20 digits>.<suffix>` and a NUL into `out`, without allocating: the
    /// rename reads the names from the agent's own memory while it is in flight.
    static func writeName(index: UInt64, suffix: StaticString, into out: UnsafeMutablePointer<CChar>) {
        var value = index
        var i = 19
        while i >= 0 {
            out[i] = CChar(truncatingIfNeeded: 0x30 &+ value % 10)
            value /= 10
            i &-= 1
        }
        out[20] = 0x2E  // "."
        let s = suffix.utf8Start
        for j in 0..<suffix.utf8CodeUnitCount { out[21 &+ j] = CChar(bitPattern: s[j]) }
        out[21 &+ suffix.utf8CodeUnitCount] = 0
    }

    /// Submits the filling batch when nothing is in flight, or a failed batch again once
    /// its backoff has passed. Returns 1 when a chain was prepared.
    mutating func submitIfReady() -> Int {
        if flight == nil {
            guard let batch = filling, batch.records > 0 else { return 0 }
            var ready = batch
            let end = ready.used
            ready.writeBytes = direct ? Self.roundUp(end, JournalSegmentFile.blockBytes) : end
            if ready.writeBytes > end {
                (buffer(ready.slot) + end).initializeMemory(as: UInt8.self, repeating: 0, count: ready.writeBytes &- end)
            }
            guard prepareChain(ready, renamed: false) else { return 0 }
            filling = nil
            flight = ready
            flightRenamed = false
            lastSlot = ready.slot
            lastBatchOffset = ready.fileOffset
            let records = UInt64(truncatingIfNeeded: ready.records)
            if records > counters.load(JournalCounters.batchRecordsMax) { counters.store(JournalCounters.batchRecordsMax, records) }
            return 1
        }
        guard flightFailed, let batch = flight, clock.ticks() >= retryAt else { return 0 }
        guard prepareChain(batch, renamed: flightRenamed) else { return 0 }
        flightFailed = false
        counters.store(JournalCounters.retries, counters.load(JournalCounters.retries) &+ 1)
        return 1
    }

    /// Prepares write → fdatasync, linked, for the next `io_uring_enter`; a batch that opens
    /// a segment adds → rename (spare to final name, unless a retry finds it done) →
    /// directory fsync, so the name appears only over a synced header and records.
    mutating func prepareChain(_ batch: Batch, renamed: Bool) -> Bool {
        let rename = batch.opensSegment && !renamed
        let dsync = dataSyncWrite
        let steps: UInt32 = (batch.opensSegment ? (rename ? 4 : 3) : 2) &- (dsync ? 1 : 0)
        guard ring.freeSubmissions >= steps else {
            counters.store(JournalCounters.submitFailures, counters.load(JournalCounters.submitFailures) &+ 1)
            return false
        }
        writeResult = 0
        syncResult = 0
        renameResult = 0
        directorySyncResult = 0
        if dsync {
            // One operation: the write completes once it is durable (RWF_DSYNC).
            ring.prepareWrite(fd: batch.fd, bytes: buffer(batch.slot), count: batch.writeBytes, offset: UInt64(batch.fileOffset),
                              tag: CompletionTag(kind: Step.write), linkedToNext: batch.opensSegment, dataSync: true)
        } else {
            ring.prepareWrite(fd: batch.fd, bytes: buffer(batch.slot), count: batch.writeBytes, offset: UInt64(batch.fileOffset),
                              tag: CompletionTag(kind: Step.write), linkedToNext: true)
            ring.prepareSync(fd: batch.fd, dataOnly: true, tag: CompletionTag(kind: Step.dataSync), linkedToNext: batch.opensSegment)
        }
        if rename {
            ring.prepareRename(directory: directory, from: spareName(batch.slot), to: finalName(batch.slot),
                               tag: CompletionTag(kind: Step.rename), linkedToNext: true)
        }
        if batch.opensSegment {
            // Again after a fault even when the rename is done: the new name must be durable.
            ring.prepareSync(fd: directory, dataOnly: false, tag: CompletionTag(kind: Step.directorySync), linkedToNext: false)
        }
        flightPending = Int(steps)
        flightStartedAt = clock.ticks()
        counters.store(JournalCounters.writes, counters.load(JournalCounters.writes) &+ 1)
        return true
    }

    /// Takes the chain's completions; when all are in, publishes the batch (success) or
    /// schedules it again (a fault).
    mutating func reap() -> Int {
        guard flightPending > 0 else { return 0 }
        let n = ring.takeCompletions(into: completions)
        guard n > 0 else { return 0 }
        for i in 0..<n {
            let c = completions[i]
            switch c.tag.kind {
            case Step.write: writeResult = c.result
            case Step.dataSync: syncResult = c.result
            case Step.rename: renameResult = c.result
            default: directorySyncResult = c.result
            }
        }
        flightPending &-= n
        if flightPending <= 0 {
            flightPending = 0
            if _slowPath(injectedFaults.remaining > 0) { injectFault() }
            completeFlight()
        }
        return n
    }

    mutating func completeFlight() {
        guard let batch = flight else { return }
        if batch.opensSegment && !flightRenamed && renameResult == 0 { flightRenamed = true }
        let failed = writeResult != Int32(truncatingIfNeeded: batch.writeBytes) || syncResult != 0
            || (batch.opensSegment && (renameResult != 0 || directorySyncResult != 0))
        if _slowPath(failed) {
            if dataSyncWrite && (writeResult == -EOPNOTSUPP || writeResult == -EINVAL) {
                // This file (or kernel) refuses RWF_DSYNC after all: write → fdatasync from now on.
                dataSyncWrite = false
                dataSyncWriteFailure = -writeResult
            }
            chainFailed(batch)
            return
        }
        let now = clock.ticks()
        latency.record(clock.elapsedNanoseconds(from: flightStartedAt, to: now))
        flight = nil
        durableSequence = batch.lastSequence
        recordsDurable &+= UInt64(truncatingIfNeeded: batch.records)
        durable.publish(batch.lastSequence)
        counters.store(JournalCounters.durableSequence, batch.lastSequence)
        counters.store(JournalCounters.syncs, counters.load(JournalCounters.syncs) &+ 1)
        counters.store(JournalCounters.bytes, counters.load(JournalCounters.bytes) &+ UInt64(truncatingIfNeeded: batch.recordBytes))
        counters.store(JournalCounters.lag, recordsTaken &- recordsDurable)
        if closeAfterFlight >= 0 && closeAfterFlight == batch.fd {
            _ = rtes_file_close(closeAfterFlight)
            closeAfterFlight = -1
        }
        backoff = configuration.retryBackoffNanoseconds
        if _slowPath(isStalledNow) && !rollBlocked { endStall() }
    }
}
