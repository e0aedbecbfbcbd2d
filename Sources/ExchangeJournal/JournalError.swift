import ExchangeRuntime

/// Why a journal directory cannot be read as it is. Every reader and tool entry point throws
/// exactly this, whatever bytes it finds on disk: a file it cannot open or read, a directory
/// without segments, or damage that is not a torn tail (`JournalCorruption`). A torn tail is
/// not an error: it is the normal result of a crash mid-write (`JournalTornTail`).
public enum JournalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call on a journal file or directory failed (the detail names the path).
    case io(SystemError)
    /// The directory holds no `*.rtj` segment.
    case noSegments(directory: String)
    /// Damage that truncating the tail cannot repair.
    case corrupt(JournalCorruption)

    public var description: String {
        switch self {
        case .io(let error): "journal I/O error: \(error)"
        case .noSegments(let directory): "no journal segments (*.\(JournalSegmentHeader.fileExtension)) in \(directory)"
        case .corrupt(let corruption): "journal corrupt: \(corruption)"
        }
    }
}

/// Where a journal is damaged and how: the file, the byte offset in it, the sequence the
/// reader expected there, and the reason. Recovery must not guess past this, so it names
/// everything an operator needs to look at the bytes (`rtes-journal dump`, `xxd -s`).
public struct JournalCorruption: Equatable, Sendable, CustomStringConvertible {
    /// The segment file's path.
    public var file: String
    /// The byte offset in `file` where the damage starts; nil when it concerns the file as a
    /// whole (its name).
    public var offset: Int?
    /// The sequence the reader expected at `offset`, when it knew one.
    public var sequence: UInt64?
    public var reason: String

    public init(file: String, offset: Int?, sequence: UInt64?, reason: String) {
        self.file = file
        self.offset = offset
        self.sequence = sequence
        self.reason = reason
    }

    public var description: String {
        var text = file
        if let offset { text += " at offset \(offset)" }
        if let sequence { text += " (sequence \(sequence) expected)" }
        return text + ": " + reason
    }
}
