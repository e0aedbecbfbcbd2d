import ExchangeRuntime
import Glibc

/// The snapshots of one directory: `snapshot-<covered sequence, 20 digits>.rtsnap`, each
/// a `SnapshotFile`. Recovery takes the newest valid one (`newestValid`), falling back past
/// damaged ones and saying why; `retain` keeps the newest few. Anything else in the
/// directory — a temporary file left by a crash mid-write, other files — is ignored.
public enum SnapshotDirectory {
    public static let prefix = "snapshot-"
    public static let fileExtension = ".rtsnap"
    /// Appended to a hidden (`.`-prefixed) final name while a snapshot is being written.
    public static let temporarySuffix = ".tmp"

    /// `snapshot-<covered sequence, 20 digits>.rtsnap`.
    public static func fileName(coveredSequence: UInt64) -> String {
        let digits = String(coveredSequence)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits + fileExtension
    }

    /// The covered sequence a snapshot's file name states, or nil for any other name.
    public static func coveredSequence(fileName name: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(fileExtension) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(fileExtension.count)
        guard digits.count == 20, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(digits)
    }

    /// The snapshots in `directory` by their names, oldest first (nothing is read). A
    /// directory that does not exist holds none.
    public static func list(_ directory: String) throws(SnapshotFileError) -> [(coveredSequence: UInt64, path: String)] {
        var found: [(coveredSequence: UInt64, path: String)] = []
        for name in try names(in: directory) {
            if let sequence = coveredSequence(fileName: name) { found.append((sequence, directory + "/" + name)) }
        }
        return found.sorted { $0.coveredSequence < $1.coveredSequence }
    }

    /// What a search for the newest valid snapshot found.
    public struct Search: @unchecked Sendable {
        /// The newest snapshot that read whole and valid, or nil when there is none.
        public var snapshot: SnapshotFile?
        /// Newer snapshots passed over, newest first, each with why (for the log).
        public var rejected: [(path: String, reason: String)]
    }

    /// The newest snapshot that reads whole and valid (every CRC, and a header that agrees
    /// with the file name), falling back to older ones past damaged files. Throws only when
    /// the directory cannot be read.
    public static func newestValid(in directory: String) throws(SnapshotFileError) -> Search {
        var search = Search(snapshot: nil, rejected: [])
        for candidate in try list(directory).reversed() {
            do throws(SnapshotFileError) {
                let file = try SnapshotFile.read(path: candidate.path)
                guard file.coveredSequence == candidate.coveredSequence else {
                    throw .damaged(path: candidate.path, reason: "its header covers sequence \(file.coveredSequence), its name \(candidate.coveredSequence)")
                }
                search.snapshot = file
                return search
            } catch {
                search.rejected.append((candidate.path, "\(error)"))
            }
        }
        return search
    }

    /// Removes all but the newest `newest` snapshots (by covered sequence), and temporary
    /// files that crashed writes left. Call from the one writer, not while it writes.
    /// Returns the paths removed.
    @discardableResult
    public static func retain(newest: Int, in directory: String) throws(SnapshotFileError) -> [String] {
        precondition(newest >= 1, "retain at least one snapshot")
        var removed: [String] = []
        let snapshots = try list(directory)
        for old in snapshots.dropLast(newest) {
            if unlink(old.path) != 0 && errno != ENOENT { throw .system(SystemError(call: "unlink \(old.path)", errno: errno)) }
            removed.append(old.path)
        }
        for name in try names(in: directory) where name.hasPrefix("." + prefix) && name.hasSuffix(fileExtension + temporarySuffix) {
            let path = directory + "/" + name
            if unlink(path) != 0 && errno != ENOENT { throw .system(SystemError(call: "unlink \(path)", errno: errno)) }
            removed.append(path)
        }
        if !removed.isEmpty { try syncDirectory(directory) }
        return removed
    }

    /// fsync of the directory, so that a rename or unlink in it is durable.
    static func syncDirectory(_ directory: String) throws(SnapshotFileError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .system(SystemError(call: "open directory \(directory)", errno: errno)) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .system(SystemError(call: "fsync directory \(directory)", errno: errno)) }
    }

    private static func names(in directory: String) throws(SnapshotFileError) -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw .system(SystemError(call: "opendir \(directory)", errno: errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
