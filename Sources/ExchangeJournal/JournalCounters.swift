import ExchangeRuntime

/// The journal agent's counter blocks: `journal` (totals and gauges; the agent is the one
/// writer, relaxed stores as things happen — no tally to copy, because the agent's turns
/// are few and each store is a plain move) and `journal_latency` (the write → fdatasync
/// chain's latency, nanoseconds on the agent's clock).
///
/// `stalled` and `stalled_since_ns` are what `/health` and the gateway's sync-mode stall
/// budget read: 1 and the clock time (nanoseconds) the first unresolved fault was seen;
/// 0 and 0 once the journal is writing again.
public enum JournalCounters {
    /// Records encoded into a batch (taken from the input ring).
    public static let records = CounterCell(0)
    /// Record bytes made durable.
    public static let bytes = CounterCell(1)
    /// Write submissions (retries included).
    public static let writes = CounterCell(2)
    /// fdatasyncs that completed successfully.
    public static let syncs = CounterCell(3)
    /// The most records one write carried.
    public static let batchRecordsMax = CounterCell(4)
    public static let errorsNoSpace = CounterCell(5)
    public static let errorsIO = CounterCell(6)
    public static let errorsShortWrite = CounterCell(7)
    /// Any other errno from a write, an fdatasync, a rename, a directory fsync or a segment creation.
    public static let errorsOther = CounterCell(8)
    /// 1 while a fault is unresolved (nothing new can become durable).
    public static let stalled = CounterCell(9)
    /// Clock nanoseconds when the current stall began; 0 when not stalled.
    public static let stalledSinceNanoseconds = CounterCell(10)
    /// The durable sequence as last published.
    public static let durableSequence = CounterCell(11)
    /// Records taken from the input ring and not yet durable.
    public static let lag = CounterCell(12)
    /// Segment files created (the first, spares).
    public static let segmentsCreated = CounterCell(13)
    /// Write chains submitted again after a fault.
    public static let retries = CounterCell(14)
    /// Records whose sequence was not the previous one plus one (an upstream bug; written anyway).
    public static let sequenceGaps = CounterCell(15)
    /// 1 when segments are written with O_DIRECT.
    public static let direct = CounterCell(16)
    /// Chains that could not be prepared (the submission queue was full) or io_uring_enter failures.
    public static let submitFailures = CounterCell(17)

    public static let block = CounterBlockDescriptor(name: "journal", counters: [
        .init("records", .counter, records, help: "Records taken into write batches."),
        .init("bytes", .counter, bytes, help: "Record bytes made durable."),
        .init("writes", .counter, writes, help: "Journal writes submitted (retries included)."),
        .init("syncs", .counter, syncs, help: "fdatasyncs completed."),
        .init("batch_records_max", .gauge, batchRecordsMax, help: "Most records in one write."),
        .init("errors_no_space", .counter, errorsNoSpace, help: "Journal operations failed: ENOSPC."),
        .init("errors_io", .counter, errorsIO, help: "Journal operations failed: EIO."),
        .init("errors_short_write", .counter, errorsShortWrite, help: "Journal writes that wrote less than asked."),
        .init("errors_other", .counter, errorsOther, help: "Journal operations failed: another errno."),
        .init("stalled", .gauge, stalled, help: "1 while a journal fault is unresolved."),
        .init("stalled_since_ns", .gauge, stalledSinceNanoseconds, help: "Clock nanoseconds the current stall began (0: none)."),
        .init("durable_sequence", .gauge, durableSequence, help: "Highest sequence on stable storage."),
        .init("lag", .gauge, lag, help: "Records taken and not yet durable."),
        .init("segments_created", .counter, segmentsCreated, help: "Journal segment files created."),
        .init("retries", .counter, retries, help: "Write chains submitted again after a fault."),
        .init("sequence_gaps", .counter, sequenceGaps, help: "Records out of sequence (written anyway)."),
        .init("direct", .gauge, direct, help: "1 when the journal writes with O_DIRECT."),
        .init("submit_failures", .counter, submitFailures, help: "Journal chains not submitted: queue full or io_uring_enter failed."),
    ], cellCount: 32)

    /// The chain latency histogram's first cell in `journal_latency`.
    public static let syncLatency = CounterCell(0)

    public static let latencyBlock = CounterBlockDescriptor(name: "journal_latency", counters: [
        .init("sync_latency", .histogram, syncLatency, help: "Journal write + fdatasync chain, submission to completion, nanoseconds."),
    ])

    /// The journal's blocks in `cells`, registered now or found.
    public static func register(in cells: CounterCells) throws(SystemError) -> (journal: CounterBlock, latency: CounterBlock) {
        (try cells.register(block), try cells.register(latencyBlock))
    }
}
