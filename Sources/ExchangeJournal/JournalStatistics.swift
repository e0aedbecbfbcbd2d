import ExchangeCore
import ExchangeEngine

/// What a journal directory holds (`rtes-journal stats`): its segments, records and bytes,
/// records and bytes per kind, the first and last sequence and timestamp. Reading it
/// reads every record, so it also verifies the whole journal.
public struct JournalStatistics: Equatable, Sendable {
    public var segments: Int
    /// Bytes of the segment files (preallocated capacity included).
    public var fileBytes: Int
    public var records: Int
    /// Bytes of the whole records (headers and padding included; segment headers not).
    public var recordBytes: Int
    /// Records of each kind present.
    public var recordsPerKind: [JournalRecord.Kind: Int]
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?
    public var firstTimestamp: Timestamp?
    public var lastTimestamp: Timestamp?
    public var tornTail: JournalTornTail?

    /// Reads every record of `reader`'s journal. Throws `.corrupt` at the first damage.
    public static func gather(_ reader: JournalReader, readBytes: Int = JournalReader.defaultReadBytes) throws(JournalError) -> JournalStatistics {
        var statistics = JournalStatistics(
            segments: reader.segments.count, fileBytes: reader.segments.reduce(0) { $0 + $1.fileBytes }, records: 0,
            recordBytes: 0, recordsPerKind: [:], tornTail: reader.tornTail)
        var counts = [Int](repeating: 0, count: 256)
        var cursor = reader.records(readBytes: readBytes)
        while let record = try cursor.next() {
            if statistics.firstSequence == nil {
                statistics.firstSequence = record.sequence
                statistics.firstTimestamp = record.command.timestamp
            }
            statistics.lastSequence = record.sequence
            statistics.lastTimestamp = record.command.timestamp
            statistics.records += 1
            statistics.recordBytes += cursor.recordLength
            counts[Int(JournalRecord.Kind(record.command).rawValue)] += 1
        }
        for kind in JournalRecord.Kind.allCases where counts[Int(kind.rawValue)] > 0 {
            statistics.recordsPerKind[kind] = counts[Int(kind.rawValue)]
        }
        return statistics
    }

    /// The report, one fact a line.
    public var text: String {
        var lines = ["segments: \(segments) (\(fileBytes) bytes on disk)", "records: \(records) (\(recordBytes) bytes"
            + (records > 0 ? ", \(formatted(Double(recordBytes) / Double(records))) bytes per record)" : ")")]
        if let firstSequence, let lastSequence { lines.append("sequences: \(firstSequence) to \(lastSequence)") }
        if let firstTimestamp, let lastTimestamp {
            lines.append("time: \(JournalRecord.timeOfDay(firstTimestamp)) to \(JournalRecord.timeOfDay(lastTimestamp))"
                + " (span \(formatted(Double(lastTimestamp &- firstTimestamp) / 1e9)) s)")
        }
        for kind in JournalRecord.Kind.allCases {
            if let count = recordsPerKind[kind] {
                lines.append("  \(kind): \(count) records, \(count * kind.recordBytes) bytes")
            }
        }
        if let tornTail { lines.append("torn tail: \(tornTail)") }
        return lines.joined(separator: "\n")
    }
}

/// A number with at most 3 decimals, no exponent.
func formatted(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = thousandths % 1000
    let digits = String(fraction)
    let text = "\(thousandths / 1000)." + String(repeating: "0", count: 3 - digits.count) + digits
    var trimmed = Substring(text)
    while trimmed.last == "0" { trimmed.removeLast() }
    if trimmed.last == "." { trimmed.removeLast() }
    return String(trimmed)
}
