import ExchangeRuntimePolicy
import CExchangeShim
import CMallocCounter
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@_spi(Testing) import ExchangeJournal
import ExchangeRuntime
import Foundation
import Glibc
import Testing

/// A journal agent driven by hand on the test thread: a ring to push sequenced commands
/// into, the durable position, a counters region, a ManualClock, a temporary directory.
struct JournalRig: ~Copyable {
    var agent: JournalAgent<ManualClock>
    var producer: SPSCRing<SequencedCommand>.Producer
    let durable: DurablePosition
    let counters: CountersRegion
    let block: CounterBlock
    let clock: ManualClock
    let directory: String
    var pushed: [SequencedCommand] = []
    var next: UInt64
    // The ends point into the ring's memory: the rig keeps it alive.
    let ring: SPSCRing<SequencedCommand>

    init(directory: String, segmentBytes: Int = 1 << 20, groupCommitMaxBytes: Int = 256 << 10, ioMode: JournalIOMode = .buffered,
         preallocation: JournalPreallocation = .fallocate, syncMethod: JournalSyncMethod = .auto, ringCapacity: Int = 16_384,
         nextSequence: UInt64 = 1) throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        var ring = SPSCRing<SequencedCommand>(capacity: ringCapacity)
        let durable = DurablePosition(initial: 0)
        let clock = ManualClock()
        let configuration = JournalAgent<ManualClock>.Configuration(
            directory: directory, segmentBytes: segmentBytes, groupCommitMaxBytes: groupCommitMaxBytes, ioMode: ioMode,
            preallocation: preallocation, syncMethod: syncMethod, day: "2026-12-07")
        let agent = try Self.startedAgent(configuration, nextSequence, ring.makeConsumer(), durable, clock, counters.cells)
        let producer = ring.makeProducer()
        let block = try! counters.register(JournalCounters.block)
        self.agent = agent
        self.producer = producer
        self.block = block
        self.ring = ring
        self.counters = counters
        self.durable = durable
        self.clock = clock
        self.directory = directory
        self.next = nextSequence
    }

    static func startedAgent(_ configuration: JournalAgent<ManualClock>.Configuration, _ nextSequence: UInt64,
                             _ input: consuming SPSCRing<SequencedCommand>.Consumer, _ durable: DurablePosition, _ clock: ManualClock,
                             _ cells: CounterCells) throws -> JournalAgent<ManualClock> {
        var agent = try JournalAgent(configuration: configuration, nextSequence: nextSequence, input: input,
                                     durable: durable, clock: clock, cells: cells)
        try agent.onStart()
        return agent
    }

    deinit { durable.deallocate() }

    func count(_ cell: CounterCell) -> UInt64 { block.load(cell) }

    /// Pushes `n` commands (every kind in turn) with the next sequences.
    mutating func push(_ n: Int) {
        for _ in 0..<n {
            let command = SequencedCommand(sequence: next, command: JournalRecordTests.commands[Int(next % 16)])
            precondition(producer.tryPush(command), "test ring full")
            pushed.append(command)
            next += 1
        }
    }

    /// Runs turns until `done` holds; false after ten seconds of wall time (the bound keeps a
    /// broken agent from hanging the suite; it never decides a passing outcome).
    mutating func drive(until done: (borrowing JournalRig) -> Bool) -> Bool {
        let deadline = Self.wallNanoseconds() + 10_000_000_000
        while !done(self) {
            if agent.doWork() == 0 {
                if Self.wallNanoseconds() > deadline { return false }
                sched_yield()
            }
        }
        return true
    }

    mutating func driveUntilDurable(_ sequence: UInt64) -> Bool { drive { $0.durable.load() >= sequence } }

    static func wallNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A temporary directory under `parent`, removed with everything in it.
func withJournalDirectory<R>(under parent: String = NSTemporaryDirectory(), _ body: (String) throws -> R) throws -> R {
    var template = Array((parent.hasSuffix("/") ? parent : parent + "/").utf8CString.dropLast()) + Array("rtes-journal-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno, detail: parent) }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Every record in the directory's segments, in order, checking each header against its
/// file name and that the data ends with a zero length word (or the file's end).
func readJournal(_ directory: String) throws -> (records: [SequencedCommand], headers: [JournalSegmentHeader]) {
    var records: [SequencedCommand] = []
    var headers: [JournalSegmentHeader] = []
    for (first, name) in try JournalSegmentFile.segments(in: directory) {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        try data.withUnsafeBytes { bytes in
            let header = try JournalSegmentHeader.decode(bytes).get()
            #expect(header.firstSequence == first)
            #expect(header.capacity == UInt64(data.count))
            headers.append(header)
            var offset = JournalSegmentHeader.bytes
            var firstInFile = true
            while offset + 8 <= bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                if JournalRecord.isEnd(rest) { break }
                let (command, length) = try JournalRecord.decode(rest).get()
                if firstInFile { #expect(command.sequence == first); firstInFile = false }
                records.append(command)
                offset += length
            }
        }
    }
    return (records, headers)
}

/// What this host offers the journal tests, probed once.
enum JournalHost {
    /// A directory on a disk filesystem (not tmpfs).
    static let diskDirectory = "/var/tmp"
    /// Why O_DIRECT cannot be tested under `diskDirectory` (nil: it can).
    static let directIOReason: String? = {
        do {
            return try withJournalDirectory(under: diskDirectory) { dir -> String? in
                let fd = try JournalSegmentFile.openDirectory(dir)
                defer { close(fd) }
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: 4_096, alignment: 4_096)
                defer { scratch.deallocate() }
                let choice = try JournalSegmentFile.chooseIO(.auto, directory: fd, directoryPath: dir, scratch: scratch)
                return choice.direct ? nil : "O_DIRECT refused under \(diskDirectory): \(choice)"
            }
        } catch {
            return "\(error)"
        }
    }()
}

@Suite(.serialized) struct JournalAgentTests {
    @Test func publishesTheDurableSequenceOnlyAfterTheSyncCompletes() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir)
            #expect(rig.durable.load() == 0)
            rig.push(3)
            // The turn that takes and submits cannot publish: the chain's completions post only
            // when a later turn enters the kernel (deferred task work).
            _ = rig.agent.doWork()
            #expect(rig.durable.load() == 0)
            #expect(rig.count(JournalCounters.writes) == 1)
            #expect(rig.count(JournalCounters.syncs) == 0)
            #expect(rig.count(JournalCounters.lag) == 3)
            do { let done = rig.driveUntilDurable(3); #expect(done) }
            #expect(rig.count(JournalCounters.syncs) == 1)
            #expect(rig.count(JournalCounters.durableSequence) == 3)
            #expect(rig.count(JournalCounters.lag) == 0)
            // An fdatasync that fails publishes nothing, even though its write completed.
            rig.agent.injectedFaults = .init(errno: EIO, step: .dataSync, remaining: 1)
            rig.push(2)
            do { let done = rig.drive { $0.count(JournalCounters.errorsIO) == 1 }; #expect(done) }
            #expect(rig.durable.load() == 3)
            rig.agent.onClose()
        }
    }

    @Test func recordsReadBackInSequenceExactlyAsPushed() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir)
            for round in 1...50 {
                rig.push(round)
                _ = rig.agent.doWork()
            }
            do { let done = rig.driveUntilDurable(rig.next - 1); #expect(done) }
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.records == rig.pushed)
            #expect(journal.headers.map(\.day) == ["2026-12-07"])
            #expect(rig.count(JournalCounters.bytes) == UInt64(rig.pushed.reduce(0) { $0 + JournalRecord.Kind($1.command).recordBytes }))
        }
    }

    @Test func groupCommitPutsTenThousandRecordsInAHandfulOfWrites() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 16 << 20)
            rig.push(10_000)
            do { let done = rig.driveUntilDurable(10_000); #expect(done) }
            let writes = rig.count(JournalCounters.writes)
            // ≈ 560 KB of records at 256 KiB a write: three writes, a few more at most.
            #expect(writes <= 6, "\(writes) writes")
            #expect(rig.count(JournalCounters.syncs) == writes)
            #expect(rig.count(JournalCounters.batchRecordsMax) >= 3_000)
            rig.agent.onClose()
            #expect(try readJournal(dir).records == rig.pushed)
        }
    }

    @Test func rollsAcrossSegmentsWithContinuousSequences() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 16_384, groupCommitMaxBytes: 4_096)
            for _ in 0..<40 {
                rig.push(50)
                _ = rig.agent.doWork()
            }
            do { let done = rig.driveUntilDurable(2_000); #expect(done) }
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.records == rig.pushed)
            #expect(journal.headers.count >= 7)
            #expect(journal.headers.map(\.segmentIndex) == (0..<UInt64(journal.headers.count)).map { $0 })
            #expect(rig.count(JournalCounters.stalled) == 0)
            // What a snapshot covers can go: all but the newest two segments here.
            let covered = journal.headers[journal.headers.count - 2].firstSequence - 1
            let deleted = try rig.agent.retire(coveredThrough: covered, retain: 2)
            #expect(deleted.count == journal.headers.count - 2)
            #expect(try JournalSegmentFile.segments(in: dir).map(\.firstSequence) == journal.headers.suffix(2).map(\.firstSequence))
        }
    }

    @Test func startsAFreshSegmentAfterTheSequenceRecoveryPasses() throws {
        try withJournalDirectory { dir in
            do {
                var rig = try JournalRig(directory: dir)
                rig.push(10)
                do { let done = rig.driveUntilDurable(10); #expect(done) }
                rig.agent.onClose()
            }
            var rig = try JournalRig(directory: dir, nextSequence: 11)
            #expect(rig.durable.load() == 10)
            rig.push(5)
            do { let done = rig.driveUntilDurable(15); #expect(done) }
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.headers.map(\.firstSequence) == [1, 11])
            #expect(journal.records.map(\.sequence) == Array(1...15))
        }
    }

    @Test(.enabled(if: JournalHost.directIOReason == nil, "O_DIRECT refused under /var/tmp (JournalHost.directIOReason says why)"))
    func directIOWritesAlignedBlocksAndCarriesThePartialBlock() throws {
        try withJournalDirectory(under: JournalHost.diskDirectory) { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 16_384, groupCommitMaxBytes: 8_192, ioMode: .direct)
            #expect(rig.agent.ioChoice.direct)
            #expect(rig.agent.ioChoice.description.hasPrefix("journal: O_DIRECT on "))
            #expect(rig.count(JournalCounters.direct) == 1)
            // Small batches: each ends inside a block that the next rewrites from its start.
            for round in 1...200 {
                rig.push(round % 7 + 1)
                do { let done = rig.driveUntilDurable(rig.next - 1); #expect(done) }
            }
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.records == rig.pushed)
            #expect(journal.headers.count >= 2)
        }
    }

    /// ramfs has no direct I/O on any kernel (tmpfs has had it since Linux 6.6).
    @Test(.enabled(if: SmallFilesystem.unavailableReason == nil, "cannot mount a ramfs here: needs root and CAP_SYS_ADMIN"))
    func autoFallsBackToBufferedWhereODirectIsRefused() throws {
        try SmallFilesystem.with(type: "ramfs", bytes: 0) { dir in
            var rig = try JournalRig(directory: dir, ioMode: .auto)
            #expect(!rig.agent.ioChoice.direct)
            #expect(rig.agent.ioChoice.description == "journal: buffered + fdatasync on ramfs: O_DIRECT refused (open(O_DIRECT): EINVAL)")
            #expect(rig.count(JournalCounters.direct) == 0)
            rig.push(100)
            do { let done = rig.driveUntilDurable(100); #expect(done) }
            rig.agent.onClose()
            #expect(try readJournal(dir).records == rig.pushed)
            // `direct` refuses to start, naming the filesystem.
            do {
                _ = try JournalRig(directory: dir, ioMode: .direct, nextSequence: 101)
                Issue.record("O_DIRECT accepted on ramfs")
            } catch let error as SystemError {
                #expect(error.errno == EINVAL)
                #expect(error.description.contains("on ramfs does not take O_DIRECT"))
            }
        }
    }

    @Test(.enabled(if: JournalHost.directIOReason == nil, "O_DIRECT refused under /var/tmp (JournalHost.directIOReason says why)"))
    func dsyncWritesEachBatchAsOneDurableWrite() throws {
        try withJournalDirectory(under: JournalHost.diskDirectory) { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 16_384, groupCommitMaxBytes: 8_192, ioMode: .direct, syncMethod: .dsync)
            #expect(rig.agent.syncChoice.dataSyncWrite)
            #expect(rig.agent.syncChoice.description == "journal: each batch one io_uring write with RWF_DSYNC (durable when it completes)")
            rig.push(3)
            _ = rig.agent.doWork()
            #expect(rig.durable.load() == 0)
            // Small batches across segment rolls (write → rename → directory fsync).
            for round in 1...200 {
                rig.push(round % 7 + 1)
                do { let done = rig.driveUntilDurable(rig.next - 1); #expect(done) }
            }
            #expect(rig.count(JournalCounters.syncs) == rig.count(JournalCounters.writes))
            // A write whose sync fails publishes nothing.
            let durable = rig.durable.load()
            rig.agent.injectedFaults = .init(errno: EIO, step: .dataSync, remaining: 1)
            rig.push(2)
            do { let done = rig.drive { $0.count(JournalCounters.errorsIO) == 1 }; #expect(done) }
            #expect(rig.durable.load() == durable)
            rig.clock.advance(nanoseconds: 1_000_000_000)
            do { let done = rig.driveUntilDurable(rig.next - 1); #expect(done) }
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.records == rig.pushed)
            #expect(journal.headers.count >= 2)
        }
    }

    @Test func autoKeepsWriteThenFdatasyncForBufferedWritesAndFdatasyncIsConfigurable() throws {
        try withJournalDirectory { dir in
            do {
                var rig = try JournalRig(directory: dir, ioMode: .buffered, syncMethod: .auto)
                #expect(!rig.agent.syncChoice.dataSyncWrite)
                #expect(rig.agent.syncChoice.description
                    == "journal: each batch a write linked to an fdatasync (auto: buffered writes keep write → fdatasync)")
                rig.push(10)
                do { let done = rig.driveUntilDurable(10); #expect(done) }
                rig.agent.onClose()
            }
            var rig = try JournalRig(directory: dir, ioMode: .buffered, syncMethod: .fdatasync, nextSequence: 11)
            #expect(rig.agent.syncChoice.description == "journal: each batch a write linked to an fdatasync (configured)")
            rig.agent.onClose()
        }
    }

    @Test func bufferedIsUsedWhenConfigured() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir, ioMode: .buffered)
            #expect(rig.agent.ioChoice.description.hasPrefix("journal: buffered + fdatasync on "))
            #expect(rig.agent.ioChoice.description.hasSuffix("(configured)"))
            rig.agent.onClose()
        }
    }

    @Test func anInjectedEIOStallsCountsAndBacksOffOnTheClockThenResumes() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir)
            rig.agent.injectedFaults = .init(errno: EIO, step: .dataSync, remaining: 2)
            rig.push(10)
            do { let done = rig.drive { $0.count(JournalCounters.errorsIO) == 1 }; #expect(done) }
            #expect(rig.durable.load() == 0)
            #expect(rig.count(JournalCounters.stalled) == 1)
            #expect(rig.count(JournalCounters.stalledSinceNanoseconds) == rig.clock.now())
            #expect(rig.agent.stall.stalled)
            // Records keep queueing meanwhile and wait for the retry.
            rig.push(5)
            for _ in 0..<100 { _ = rig.agent.doWork() }
            #expect(rig.count(JournalCounters.writes) == 1, "no retry before the backoff")
            rig.clock.advance(milliseconds: 1)
            do { let done = rig.drive { $0.count(JournalCounters.errorsIO) == 2 }; #expect(done) }
            #expect(rig.count(JournalCounters.retries) == 1)
            #expect(rig.durable.load() == 0)
            rig.clock.advance(milliseconds: 1)
            for _ in 0..<100 { _ = rig.agent.doWork() }
            #expect(rig.count(JournalCounters.retries) == 1, "the backoff doubled to 2 ms")
            rig.clock.advance(milliseconds: 1)
            do { let done = rig.driveUntilDurable(15); #expect(done) }
            #expect(rig.count(JournalCounters.stalled) == 0)
            #expect(rig.count(JournalCounters.stalledSinceNanoseconds) == 0)
            #expect(rig.agent.errorCount == 2)
            rig.agent.onClose()
            #expect(try readJournal(dir).records == rig.pushed)
        }
    }

    @Test func aShortWriteIsWrittenAgainWhole() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir)
            rig.agent.injectedFaults = .init(errno: 0, step: .write, remaining: 1)
            rig.push(20)
            do { let done = rig.drive { $0.count(JournalCounters.errorsShortWrite) == 1 }; #expect(done) }
            #expect(rig.durable.load() == 0)
            rig.clock.advance(milliseconds: 1)
            do { let done = rig.driveUntilDurable(20); #expect(done) }
            rig.agent.onClose()
            #expect(try readJournal(dir).records == rig.pushed)
        }
    }

    @Test func steadyStateTurnsAllocateNothing() throws {
        try withJournalDirectory { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 64 << 20)
            rig.push(1_000)
            do { let done = rig.driveUntilDurable(rig.next - 1); #expect(done) }
            // Commands prepared up front: building them would count as the test's allocations.
            let commands = (0..<2_000).map { i in
                SequencedCommand(sequence: rig.next + UInt64(i), command: JournalRecordTests.commands[i % 16])
            }
            let last = commands.last!.sequence
            let deadline = JournalRig.wallNanoseconds() + 10_000_000_000
            let counts = commands.withUnsafeBufferPointer { stream -> rtes_malloc_counts in
                rtes_malloc_counter_start()
                var i = 0
                while rig.durable.load() < last && JournalRig.wallNanoseconds() < deadline {
                    // A hundred records arrive, then a turn: batches form while chains are in flight.
                    let end = min(i + 100, stream.count)
                    while i < end { _ = rig.producer.tryPush(stream[i]); i += 1 }
                    _ = rig.agent.doWork()
                }
                return rtes_malloc_counter_stop()
            }
            #expect(rig.durable.load() == last)
            #expect(counts.allocations == 0)
            #expect(counts.frees == 0)
            rig.agent.onClose()
        }
    }
}
