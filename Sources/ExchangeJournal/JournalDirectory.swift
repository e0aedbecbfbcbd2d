import ExchangeRuntime
import Glibc

/// The files of one trading day's journal directory. A segment is named
/// `<first sequence, 20 digits>.rtj`; files with any other extension (snapshots, an
/// operator's notes, editors' backups) are not the journal's and are left alone, but a
/// `.rtj` file with a malformed name is reported rather than skipped, so that no segment is
/// silently left out of a replay.
public enum JournalDirectory {
    /// A segment file found in the directory, named by the first sequence it holds.
    public struct Entry: Equatable, Sendable {
        public var path: String
        public var name: String
        public var firstSequence: UInt64
    }

    /// The directory's segments, in sequence order.
    public static func segments(in directory: String) throws(JournalError) -> [Entry] {
        guard let stream = opendir(directory) else {
            throw .io(SystemError(call: "opendir", errno: errno, detail: directory))
        }
        defer { closedir(stream) }
        var entries: [Entry] = []
        let suffix = "." + JournalSegmentHeader.fileExtension
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            guard name.hasSuffix(suffix) else { continue }
            let path = join(directory, name)
            let stem = name.dropLast(suffix.count)
            guard stem.utf8.count == 20, stem.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let first = UInt64(stem) else {
                throw .corrupt(JournalCorruption(
                    file: path, offset: nil, sequence: nil,
                    reason: "a .\(JournalSegmentHeader.fileExtension) file whose name is not <first sequence, 20 digits>.\(JournalSegmentHeader.fileExtension)"))
            }
            entries.append(Entry(path: path, name: name, firstSequence: first))
        }
        return entries.sorted { $0.firstSequence < $1.firstSequence }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
