/// The verdict of `rtes-journal verify` on a journal directory: every record read, every
/// CRC and the sequence continuity checked; whole, torn at the tail (repairable), or
/// corrupt (or unreadable). The exit statuses are the tool's contract.
public struct JournalVerification: Equatable, Sendable {
    public enum Verdict: Equatable, Sendable {
        case whole
        case torn(JournalTornTail)
        case failed(JournalError)
    }

    /// `rtes-journal`'s exit statuses.
    public enum Status {
        public static let whole: Int32 = 0
        /// A torn tail and nothing else: `rtes-journal repair` discards it.
        public static let tornTail: Int32 = 1
        /// Corrupt, or not readable (no segments, an I/O error): nothing is changed.
        public static let corrupt: Int32 = 2
        /// ArgumentParser's usage error status (EX_USAGE).
        public static let usage: Int32 = 64
    }

    public var directory: String
    public var verdict: Verdict
    public var segments: Int
    public var records: Int
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?

    public static func run(directory: String, readBytes: Int = JournalReader.defaultReadBytes) -> JournalVerification {
        var result = JournalVerification(directory: directory, verdict: .whole, segments: 0, records: 0)
        do {
            let reader = try JournalReader.open(directory: directory, readBytes: readBytes)
            result.segments = reader.segments.count
            var cursor = reader.records(readBytes: readBytes)
            while let record = try cursor.next() {
                if result.firstSequence == nil { result.firstSequence = record.sequence }
                result.lastSequence = record.sequence
                result.records += 1
            }
            if let torn = reader.tornTail { result.verdict = .torn(torn) }
        } catch {
            result.verdict = .failed(error)
        }
        return result
    }

    public var status: Int32 {
        switch verdict {
        case .whole: Status.whole
        case .torn: Status.tornTail
        case .failed: Status.corrupt
        }
    }

    /// What `verify` prints.
    public var text: String {
        let range = firstSequence.map { "sequences \($0) to \(lastSequence ?? $0)" } ?? "no records"
        switch verdict {
        case .whole:
            return "\(directory): whole: \(segments) segments, \(records) records, \(range)"
        case .torn(let tail):
            return "\(directory): \(records) whole records (\(range)) then a \(tail)\n"
                + "repairable: `rtes-journal repair \(directory)` zeroes the \(tail.discardedBytes) torn bytes "
                + "(nothing after the last whole record was durable, so nothing after it was acknowledged in sync mode)"
        case .failed(let error):
            return "\(directory): \(error)"
        }
    }
}
