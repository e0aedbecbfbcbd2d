import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Glibc

/// A generated stream written as one trading day's journal directory (docs/DURABILITY.md):
/// sequences 1, 2, … in stream order, segments of at most `segmentBytes` named by their first
/// sequence, each file ending after its last record. Input for `rtes-journal replay` and its
/// measurements; the exchange's own journal is written by the journal agent.
enum GeneratedJournal {
    static let segmentBytes = 64 << 20

    /// Creates `directory` (it must not exist) and writes `commands` into it. Returns the
    /// segments and bytes written, or a message naming the problem.
    static func write(_ commands: [EngineCommand], directory: String, day: String) -> Result<(segments: Int, bytes: Int), GeneratedJournalError> {
        if mkdir(directory, 0o755) != 0 {
            return .failure(GeneratedJournalError("cannot create \(directory): \(String(cString: strerror(errno)))"))
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: segmentBytes, alignment: 4_096)
        defer { buffer.deallocate() }
        var segments = 0
        var bytes = 0
        var next = 0
        while next < commands.count {
            let first = next
            var used = JournalSegmentHeader.bytes
            while next < commands.count && used + JournalRecord.maximumBytes <= segmentBytes {
                used += JournalRecord.encode(SequencedCommand(sequence: UInt64(next + 1), command: commands[next]), to: buffer + used)
                next += 1
            }
            JournalSegmentHeader(firstSequence: UInt64(first + 1), segmentIndex: UInt64(segments), createdAt: 0,
                                 capacity: UInt64(used), day: day).encode(to: buffer)
            let path = directory + "/" + JournalSegmentHeader.fileName(firstSequence: UInt64(first + 1))
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return .failure(GeneratedJournalError("cannot create \(path): \(String(cString: strerror(errno)))")) }
            var offset = 0
            while offset < used {
                let n = pwrite(fd, buffer + offset, used - offset, off_t(offset))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    return .failure(GeneratedJournalError("cannot write \(path): \(reason)"))
                }
                offset += n
            }
            close(fd)
            segments += 1
            bytes += used
        }
        return .success((segments, bytes))
    }
}

struct GeneratedJournalError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
