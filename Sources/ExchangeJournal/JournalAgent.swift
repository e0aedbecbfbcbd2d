import ExchangeRuntimePolicy
import CExchangeShim
import ExchangeClock
import ExchangeEngine
import ExchangeRuntime

/// The journal agent: the one writer of the day's journal. It takes the engine's sequenced
/// commands from its input ring, encodes them back to back (`JournalRecord`) into a
/// page-aligned batch buffer, and writes each batch with one io_uring chain — a write at
/// the segment's offset linked to an fdatasync, one `io_uring_enter` — and when the
/// fdatasync completes successfully publishes the batch's last sequence in the
/// `DurablePosition` the gateway and the market-data agent read.
///
/// Group commit: one chain in flight at a time; whatever arrives meanwhile is encoded into
/// the other buffer and forms the next batch, so under load many records share one write
/// and one fdatasync and the rate of syncs, not of records, is the disk's limit.
///
/// O_DIRECT (`JournalIOMode`): every write is block-aligned in offset, length and memory.
/// A batch that ends inside a block is zero-padded to the block's end (the reader sees the
/// zeros as the end of the data), and the next batch starts by rewriting that block from
/// its aligned start: the partial block's bytes are copied from the previous batch's buffer.
///
/// Segments roll when the next record would not fit (`JournalSegmentFile`): a spare is
/// created and fallocated ahead, when the current segment is half full, so a roll costs a
/// header in the batch and a rename in the chain, never a fallocate.
///
/// Faults (ENOSPC, EIO, short writes, a spare that cannot be created): nothing is published
/// that is not durable; the fault is counted by kind; `stalled` and the time it began are
/// set; the whole batch is written again from the agent's own buffer (after an fdatasync
/// error Linux may have dropped the dirty pages, so syncing again alone would prove
/// nothing) after a backoff timed on the injected clock; records keep queueing in the
/// input ring meanwhile; when the disk recovers the agent resumes and publishes.
///
/// Hot path: a turn allocates nothing, locks nothing, logs nothing; its only system call is
/// the one `io_uring_enter` of `submitAndPoll` when there is something to submit or reap.
/// Segment creation (a spare) is the exception, once per segment, between chains.
/// The journal chain's steps, as completion tag kinds (the agent owns its ring: any kinds will do).
@usableFromInline enum Step {
    static let write = CompletionTag.Kind(rawValue: 1)
    static let dataSync = CompletionTag.Kind(rawValue: 2)
    static let rename = CompletionTag.Kind(rawValue: 3)
    static let directorySync = CompletionTag.Kind(rawValue: 4)
}

public struct JournalAgent<C: Clock>: Agent, ~Copyable {
    public struct Configuration: Sendable {
        /// The journal directory (exists; the day's directory).
        public var directory: String
        /// Each segment file's preallocated size: a multiple of 4,096 and at least the header,
        /// one batch and a block (`minimumSegmentBytes`).
        public var segmentBytes: Int
        /// The most record bytes one write carries (≥ `JournalRecord.maximumBytes`).
        public var groupCommitMaxBytes: Int
        public var ioMode: JournalIOMode
        /// Spare segments zero-filled (by the spare preparer's thread) or only fallocated.
        public var preallocation: JournalPreallocation
        /// A write linked to an fdatasync per batch, or one RWF_DSYNC write (`auto`: the latter
        /// where the kernel takes it, probed at start).
        public var syncMethod: JournalSyncMethod
        /// The trading day's name, written in each segment header.
        public var day: String
        /// The index of the first segment this run creates (the number of segments the day
        /// already has: recovery passes it).
        public var firstSegmentIndex: UInt64
        /// The first wait after a fault before writing again; doubles up to the maximum.
        public var retryBackoffNanoseconds: UInt64
        public var retryBackoffMaxNanoseconds: UInt64

        public init(directory: String, segmentBytes: Int = 256 << 20, groupCommitMaxBytes: Int = 256 << 10,
                    ioMode: JournalIOMode = .auto, preallocation: JournalPreallocation = .fallocate, syncMethod: JournalSyncMethod = .fdatasync,
                    day: String, firstSegmentIndex: UInt64 = 0,
                    retryBackoffNanoseconds: UInt64 = 1_000_000, retryBackoffMaxNanoseconds: UInt64 = 100_000_000) {
            self.directory = directory
            self.segmentBytes = segmentBytes
            self.groupCommitMaxBytes = groupCommitMaxBytes
            self.ioMode = ioMode
            self.preallocation = preallocation
            self.syncMethod = syncMethod
            self.day = day
            self.firstSegmentIndex = firstSegmentIndex
            self.retryBackoffNanoseconds = retryBackoffNanoseconds
            self.retryBackoffMaxNanoseconds = retryBackoffMaxNanoseconds
        }

        public var minimumSegmentBytes: Int {
            JournalSegmentHeader.bytes + JournalAgent.roundUp(groupCommitMaxBytes, JournalSegmentFile.blockBytes) + JournalSegmentFile.blockBytes
        }
    }

    /// A batch: records encoded into one of the two buffers, written with one chain.
    @usableFromInline struct Batch: BitwiseCopyable {
        /// Which buffer (0 or 1).
        @usableFromInline var slot: Int
        @usableFromInline var fd: Int32
        /// The file offset of the buffer's first byte.
        @usableFromInline var fileOffset: Int
        /// Bytes of the buffer in use: a header or a partial block carried over, then records.
        @usableFromInline var used: Int
        @usableFromInline var records: Int
        @usableFromInline var recordBytes: Int
        @usableFromInline var firstSequence: UInt64
        @usableFromInline var lastSequence: UInt64
        /// The batch opens a spare segment: the chain renames it and fsyncs the directory.
        @usableFromInline var opensSegment: Bool
        /// Bytes the write covers (`used`, padded to a block with O_DIRECT), set at submission.
        @usableFromInline var writeBytes: Int
    }

    public let configuration: Configuration
    /// O_DIRECT or buffered, and why: log `ioChoice.description` at start.
    public let ioChoice: JournalSegmentFile.IOChoice
    /// How batches are made durable (`dsync` or `fdatasync`, never `auto`), and why: log
    /// `syncChoice.description` at start.
    public var syncChoice: JournalSegmentFile.SyncChoice {
        JournalSegmentFile.SyncChoice(dataSyncWrite: dataSyncWrite,
                                      reason: dataSyncWriteFailure != 0
                                        ? "a write with RWF_DSYNC failed: \(JournalSegmentFile.errnoName(dataSyncWriteFailure))" : syncRefusal)
    }
    public var roleName: String { "journal" }

    @usableFromInline var input: SPSCRing<SequencedCommand>.Consumer
    @usableFromInline let durable: DurablePosition
    @usableFromInline var ring: IOUring
    @usableFromInline let clock: C
    @usableFromInline let counters: CounterBlock
    @usableFromInline let latency: LatencyRecorder
    @usableFromInline let direct: Bool
    /// Each batch is one RWF_DSYNC write (no fdatasync step); false: write → fdatasync. Cleared
    /// for good when a write meets EOPNOTSUPP or EINVAL with it (counted; the batch is written again).
    @usableFromInline var dataSyncWrite: Bool
    @usableFromInline var syncRefusal: String?
    /// The errno of a write that refused RWF_DSYNC while running (0: none did).
    @usableFromInline var dataSyncWriteFailure: Int32 = 0
    @usableFromInline let directory: Int32
    @usableFromInline let bufferBytes: Int
    /// Two page-aligned buffers of `bufferBytes`.
    @usableFromInline let buffers: UnsafeMutableRawPointer
    /// Per buffer, the spare's name and its final name (NUL-terminated, `nameBytes` each),
    /// which must stay put while a rename is in flight.
    @usableFromInline let names: UnsafeMutablePointer<CChar>
    @usableFromInline static var nameBytes: Int { 32 }
    @usableFromInline let completions: UnsafeMutableBufferPointer<Completion>

    // The segment being appended to ("tip": where the newest batch goes).
    @usableFromInline var tipFD: Int32
    @usableFromInline var tipIndex: UInt64
    /// File offset after the newest encoded record.
    @usableFromInline var tipEnd: Int
    /// A descriptor to close once the chain in flight on it has succeeded (the old segment after a roll).
    @usableFromInline var closeAfterFlight: Int32 = -1
    @usableFromInline var spareFD: Int32 = -1
    /// Makes the spares, on its own thread.
    @usableFromInline let preparer: JournalSparePreparer
    @usableFromInline var spareIndex: UInt64 = 0
    /// When a spare may next be tried after a failure (clock ticks; 0: any time).
    @usableFromInline var spareRetryAt: UInt64 = 0
    /// A batch needs a new segment and none could be created.
    @usableFromInline var rollBlocked = false

    @usableFromInline var filling: Batch?
    @usableFromInline var flight: Batch?
    /// The buffer of the newest batch submitted (the source of a partial block to carry over).
    @usableFromInline var lastSlot = 1
    @usableFromInline var lastBatchOffset = 0
    @usableFromInline var flightPending = 0
    @usableFromInline var flightStartedAt: UInt64 = 0
    @usableFromInline var flightRenamed = false
    /// Results of the chain's steps (write, data sync, rename, directory sync).
    @usableFromInline var writeResult: Int32 = 0
    @usableFromInline var syncResult: Int32 = 0
    @usableFromInline var renameResult: Int32 = 0
    @usableFromInline var directorySyncResult: Int32 = 0
    /// A failed chain waits until `retryAt` (clock ticks) to be written again.
    @usableFromInline var flightFailed = false
    @usableFromInline var retryAt: UInt64 = 0
    @usableFromInline var backoff: UInt64

    @usableFromInline var expectedSequence: UInt64
    @usableFromInline var durableSequence: UInt64
    @usableFromInline var recordsTaken: UInt64 = 0
    @usableFromInline var recordsDurable: UInt64 = 0
    @usableFromInline var stalledSince: UInt64 = 0
    @usableFromInline var isStalledNow = false
    @usableFromInline var faults: UInt64 = 0
    @usableFromInline var draining = false
    @usableFromInline var closed = false

    /// The test seam for injected errors (`JournalAgent+Faults.swift`).
    @_spi(Testing) public var injectedFaults = InjectedFaults()

    /// Creates the io_uring (disabled: the agent's thread adopts it in `onStart`), the
    /// buffers, probes O_DIRECT, removes spares a previous run left and creates the first
    /// segment, `<nextSequence>.rtj`, after whatever the journal already holds: the agent
    /// never appends to an old segment's (possibly torn) tail.
    /// - Parameters:
    ///   - nextSequence: the sequence of the first record this run will write (recovery's
    ///     next sequence; 1 for a new day). Everything before it counts as durable.
    ///   - durable: published with `nextSequence - 1` now, then after each sync.
    public init(configuration: Configuration, nextSequence: UInt64, input: consuming SPSCRing<SequencedCommand>.Consumer,
                durable: DurablePosition, clock: C, cells: CounterCells) throws(SystemError) {
        let block = JournalSegmentFile.blockBytes
        guard configuration.groupCommitMaxBytes >= JournalRecord.maximumBytes else {
            throw SystemError(call: "journal configuration", errno: EINVAL,
                              detail: "group commit max bytes \(configuration.groupCommitMaxBytes) is below one record (\(JournalRecord.maximumBytes))")
        }
        guard configuration.segmentBytes % block == 0, configuration.segmentBytes >= configuration.minimumSegmentBytes else {
            throw SystemError(call: "journal configuration", errno: EINVAL,
                              detail: "segment bytes \(configuration.segmentBytes) must be a multiple of \(block) and at least \(configuration.minimumSegmentBytes)")
        }
        guard nextSequence >= 1 else {
            throw SystemError(call: "journal configuration", errno: EINVAL, detail: "the next sequence is at least 1")
        }
        // Everything that can fail first, into locals; `self` is assigned only after (a
        // noncopyable value cannot be left half initialized on a throwing path).
        let (journal, latencyBlock) = try JournalCounters.register(in: cells)
        let bufferBytes = Self.bufferBytes(groupCommitMaxBytes: configuration.groupCommitMaxBytes)
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: 2 * bufferBytes, alignment: block)
        buffers.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * bufferBytes)
        var cleanup = true
        var dirFD: Int32 = -1
        defer {
            if cleanup {
                if dirFD >= 0 { _ = rtes_file_close(dirFD) }
                buffers.deallocate()
            }
        }
        dirFD = try JournalSegmentFile.openDirectory(configuration.directory)
        let choice = try JournalSegmentFile.chooseIO(configuration.ioMode, directory: dirFD, directoryPath: configuration.directory, scratch: buffers)
        try JournalSegmentFile.removeSpares(directory: dirFD, directoryPath: configuration.directory)
        let name = JournalSegmentHeader.fileName(firstSequence: nextSequence)
        if JournalSegmentFile.holdsNoRecord(directory: dirFD, name: name) {
            // A crash right after creating this segment: it holds nothing; make it again.
            _ = name.withCString { rtes_file_unlink(dirFD, $0) }
        }
        let header = JournalSegmentHeader(firstSequence: nextSequence, segmentIndex: configuration.firstSegmentIndex,
                                          createdAt: rtes_realtime_ns(), capacity: UInt64(configuration.segmentBytes), day: configuration.day)
        let first = try JournalSegmentFile.create(directory: dirFD, directoryPath: configuration.directory, name: name,
                                                  index: configuration.firstSegmentIndex, capacity: configuration.segmentBytes,
                                                  direct: choice.direct, fill: configuration.preallocation == .zeros, header: header,
                                                  scratch: buffers)
        let dsync = JournalSegmentFile.chooseSync(configuration.syncMethod, direct: choice.direct, first: first, header: header, scratch: buffers)
        if case .refused(let reason) = dsync, configuration.syncMethod == .dsync {
            first.close()
            _ = name.withCString { rtes_file_unlink(dirFD, $0) }
            throw SystemError(call: "pwritev2(RWF_DSYNC)", errno: EOPNOTSUPP,
                              detail: "journal directory \(configuration.directory) does not take RWF_DSYNC writes (\(reason)) (durability sync_method: dsync)")
        }
        let preparer: JournalSparePreparer
        do {
            preparer = try JournalSparePreparer(directory: dirFD, directoryPath: configuration.directory, capacity: configuration.segmentBytes,
                                                direct: choice.direct, preallocation: configuration.preallocation)
        } catch {
            first.close()
            _ = name.withCString { rtes_file_unlink(dirFD, $0) }
            throw error
        }
        let ring: IOUring
        do {
            ring = try IOUring(entries: 8, startDisabled: true)
        } catch {
            preparer.stop()
            first.close()
            _ = name.withCString { rtes_file_unlink(dirFD, $0) }
            throw error
        }
        cleanup = false
        let names = UnsafeMutablePointer<CChar>.allocate(capacity: 4 * Self.nameBytes)
        names.initialize(repeating: 0, count: 4 * Self.nameBytes)
        self.configuration = configuration
        self.input = input
        self.durable = durable
        self.clock = clock
        self.counters = journal
        self.latency = latencyBlock.latencyRecorder(JournalCounters.syncLatency)
        self.backoff = configuration.retryBackoffNanoseconds
        self.expectedSequence = nextSequence
        self.durableSequence = nextSequence &- 1
        self.bufferBytes = bufferBytes
        self.buffers = buffers
        self.names = names
        self.completions = .allocate(capacity: 16)
        self.ring = ring
        self.preparer = preparer
        ioChoice = choice
        direct = choice.direct
        switch dsync {
        case .chosen: dataSyncWrite = true; syncRefusal = nil
        case .notChosen(let reason): dataSyncWrite = false; syncRefusal = reason
        case .refused(let reason): dataSyncWrite = false; syncRefusal = "RWF_DSYNC refused: " + reason
        }
        directory = dirFD
        tipFD = first.fd
        tipIndex = first.index
        tipEnd = JournalSegmentHeader.bytes
        lastBatchOffset = JournalSegmentHeader.bytes
        spareIndex = first.index &+ 1
        counters.store(JournalCounters.segmentsCreated, 1)
        counters.store(JournalCounters.direct, direct ? 1 : 0)
        counters.store(JournalCounters.durableSequence, durableSequence)
        durable.publish(durableSequence)
    }

    deinit {
        if !closed {
            // onClose never ran (the agent was never started): nothing is in flight.
            preparer.stop()
            if tipFD >= 0 { _ = rtes_file_close(tipFD) }
            if spareFD >= 0 { _ = rtes_file_close(spareFD) }
            if closeAfterFlight >= 0 { _ = rtes_file_close(closeAfterFlight) }
            _ = rtes_file_close(directory)
        }
        buffers.deallocate()
        names.deallocate()
        completions.deallocate()
    }

    public mutating func onStart() throws(AgentStartError) {
        do { try ring.adopt() } catch { throw AgentStartError(role: roleName, error) }
    }

    /// Reaps the chain in flight, takes what the input ring holds into the filling batch,
    /// submits it when nothing is in flight (or writes a failed batch again once its backoff
    /// has passed), and prepares a spare when the segment is half full.
    public mutating func doWork() -> Int {
        var work = reap()
        work &+= fill()
        work &+= submitIfReady()
        ring.submitAndPoll()
        // What that enter completed (deferred task work runs only inside it) is published now,
        // before the gateway's turn, not on the next turn: no system call, a look at the CQ ring.
        work &+= reap()
        // Once per segment: asks the preparer for the next spare, then takes it when it is ready.
        if _slowPath(spareFD < 0 && !rollBlocked && tipEnd >= configuration.segmentBytes / 2) {
            work &+= prepareSpare(blocking: false) ? 1 : 0
        }
        return work
    }

    public mutating func beginDrain() { draining = true }

    /// Nothing waits in the input ring, nothing is being encoded, nothing is in flight.
    public var isDrained: Bool { input.depth == 0 && filling == nil && flight == nil }

    /// Waits (bounded: five seconds) for a chain in flight, then closes the segments and the
    /// directory. What was not durable by then is not published.
    public mutating func onClose() {
        guard !closed else { return }
        var waited = 0
        while flightPending > 0 && !flightFailed && waited < 5_000 {
            ring.submitAndPoll()
            _ = reap()
            if flightPending > 0 { if !ring.waitForCompletion(milliseconds: 5) { waited += 5 } }
        }
        preparer.stop()
        if tipFD >= 0 { _ = rtes_file_close(tipFD) }
        if spareFD >= 0 { _ = rtes_file_close(spareFD) }
        if closeAfterFlight >= 0 { _ = rtes_file_close(closeAfterFlight) }
        tipFD = -1
        spareFD = -1
        closeAfterFlight = -1
        _ = rtes_file_close(directory)
        closed = true
    }

    /// Whether the spare preparer is making a spare, or has made one (or failed to) and the
    /// agent has not yet taken the outcome. Tests whose time is a parameter wait for this to
    /// clear: the preparer works in real time, on its own thread.
    public var isPreparingSpare: Bool { preparer.isBusy }

    /// Faults met since start (every kind), and failed submissions.
    public var errorCount: UInt64 { faults &+ ring.submitFailures }

    /// The highest sequence published durable.
    public var durableThrough: UInt64 { durableSequence }

    /// Whether a fault is unresolved, and since when (clock nanoseconds).
    public var stall: (stalled: Bool, sinceNanoseconds: UInt64) { (isStalledNow, isStalledNow ? stalledSince : 0) }

    /// Deletes segments wholly covered by a snapshot through `sequence`, keeping the newest
    /// `retain` (never the one being written). System calls: call it between turns, on the
    /// agent's thread or while the agent is stopped.
    @discardableResult
    public func retire(coveredThrough sequence: UInt64, retain: Int) throws(SystemError) -> [String] {
        try JournalSegmentFile.retire(directoryPath: configuration.directory, coveredThrough: sequence, retain: max(retain, 1))
    }

    /// Each of the agent's two write buffers: a header or a carried-over partial block, a batch,
    /// one record of slack, padding — in whole blocks.
    public static func bufferBytes(groupCommitMaxBytes: Int) -> Int {
        let block = JournalSegmentFile.blockBytes
        return roundUp(block + groupCommitMaxBytes + JournalRecord.maximumBytes, block) + block
    }

    /// The heap the agent allocates: its two write buffers (the memory plan counts it).
    public static func heapBytes(groupCommitMaxBytes: Int) -> Int { 2 * bufferBytes(groupCommitMaxBytes: groupCommitMaxBytes) }

    @inlinable
    static func roundUp(_ value: Int, _ multiple: Int) -> Int { (value &+ multiple &- 1) / multiple &* multiple }
}
