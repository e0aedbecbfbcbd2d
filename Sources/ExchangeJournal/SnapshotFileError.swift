import ExchangeRuntime

/// Why a snapshot file could not be written or read, naming the file and the problem.
public enum SnapshotFileError: Error, Sendable, CustomStringConvertible {
    /// A system call failed (disk full, EIO, permissions …).
    case system(SystemError)
    /// A section's producer failed (the engine refusing, say); nothing was published.
    case producer(section: String, reason: String)
    /// A section name that is empty, too long, not printable ASCII, or used twice.
    case invalidSectionName(String)
    /// The file is not a whole, valid snapshot: what is wrong with it.
    case damaged(path: String, reason: String)

    public var description: String {
        switch self {
        case .system(let error): "snapshot file: \(error)"
        case .producer(let section, let reason): "snapshot section \(section) could not be written: \(reason)"
        case .invalidSectionName(let name): "snapshot section name \"\(name)\" is invalid: 1 to \(SnapshotFile.maximumNameBytes) printable ASCII characters, each name once"
        case .damaged(let path, let reason): "snapshot \(path) is damaged: \(reason)"
        }
    }
}
