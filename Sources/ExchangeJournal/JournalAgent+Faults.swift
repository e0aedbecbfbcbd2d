import CExchangeShim
import ExchangeClock
import ExchangeRuntime
import Glibc

// Faults: counting them by kind, the stall (since when), backoff on the injected clock,
// writing a failed batch again, and creating spare segments (where a full disk shows).
extension JournalAgent {
    /// Errors a test makes the next chains report, whatever the disk did (the disk's own
    /// faults — a full tmpfs — need no seam). Documented cost when unused: one predictable
    /// branch per completed chain (`remaining > 0`).
    ///
    /// `errno` 0 with `step` `.write` reports a short write (8 bytes fewer than asked).
    public struct InjectedFaults: Sendable {
        public enum Step: Sendable { case write, dataSync }
        public var errno: Int32
        public var step: Step
        /// Chains still to fail.
        public var remaining: Int

        public init(errno: Int32 = 0, step: Step = .write, remaining: Int = 0) {
            self.errno = errno
            self.step = step
            self.remaining = remaining
        }
    }

    mutating func injectFault() {
        injectedFaults.remaining -= 1
        switch injectedFaults.step {
        case .write:
            if injectedFaults.errno == 0 {
                writeResult = max(0, writeResult &- 8)
            } else {
                writeResult = -injectedFaults.errno
            }
            syncResult = -ECANCELED
        case .dataSync:
            syncResult = -injectedFaults.errno
        }
    }

    /// A chain did not make its batch durable: count the first error by kind, stall, and
    /// schedule the whole batch to be written again after the backoff.
    mutating func chainFailed(_ batch: Batch) {
        if writeResult < 0 {
            countError(-writeResult)
        } else if writeResult != Int32(truncatingIfNeeded: batch.writeBytes) {
            counters.store(JournalCounters.errorsShortWrite, counters.load(JournalCounters.errorsShortWrite) &+ 1)
        } else if syncResult < 0 && syncResult != -ECANCELED {
            countError(-syncResult)
        } else if renameResult < 0 && renameResult != -ECANCELED {
            countError(-renameResult)
        } else {
            countError(-directorySyncResult)
        }
        faults &+= 1
        let now = clock.ticks()
        flightFailed = true
        retryAt = now &+ clock.ticks(forNanoseconds: backoff)
        backoff = min(backoff &* 2, configuration.retryBackoffMaxNanoseconds)
        beginStall(now)
    }

    func countError(_ errno: Int32) {
        let cell: CounterCell = switch errno {
        case ENOSPC, EDQUOT: JournalCounters.errorsNoSpace
        case EIO: JournalCounters.errorsIO
        default: JournalCounters.errorsOther
        }
        counters.store(cell, counters.load(cell) &+ 1)
    }

    mutating func beginStall(_ now: UInt64) {
        guard !isStalledNow else { return }
        isStalledNow = true
        stalledSince = clock.nanoseconds(atTicks: now)
        counters.store(JournalCounters.stalledSinceNanoseconds, stalledSince)
        counters.store(JournalCounters.stalled, 1)
    }

    mutating func endStall() {
        isStalledNow = false
        stalledSince = 0
        counters.store(JournalCounters.stalled, 0)
        counters.store(JournalCounters.stalledSinceNanoseconds, 0)
    }

    /// Takes the next spare segment (fallocated, zero-filled unless configured otherwise,
    /// synced, its name durable) from the preparer, or asks for it. True once the spare is
    /// here. `blocking`: a batch needs it now, so waiting for it — or its failure — stalls
    /// the journal; otherwise a failure is only counted and asked again after the backoff.
    /// Not before `spareRetryAt`.
    mutating func prepareSpare(blocking: Bool) -> Bool {
        if spareRetryAt != 0 {
            let now = clock.ticks()
            if now < spareRetryAt {
                if blocking && !rollBlocked { rollBlocked = true; beginStall(now) }
                return false
            }
        }
        switch preparer.poll() {
        case .idle:
            preparer.request(index: spareIndex)
            if blocking && !rollBlocked { rollBlocked = true; beginStall(clock.ticks()) }
            return false
        case .pending:
            if blocking && !rollBlocked { rollBlocked = true; beginStall(clock.ticks()) }
            return false
        case .ready(let fd):
            spareFD = fd
            spareRetryAt = 0
            counters.store(JournalCounters.segmentsCreated, counters.load(JournalCounters.segmentsCreated) &+ 1)
            if rollBlocked {
                rollBlocked = false
                backoff = configuration.retryBackoffNanoseconds
                if !flightFailed { endStall() }
            }
            return true
        case .failed(let errno, _):
            countError(errno)
            faults &+= 1
            let now = clock.ticks()
            spareRetryAt = max(now &+ clock.ticks(forNanoseconds: backoff), 1)
            backoff = min(backoff &* 2, configuration.retryBackoffMaxNanoseconds)
            if blocking {
                rollBlocked = true
                beginStall(now)
            }
            return false
        }
    }
}
