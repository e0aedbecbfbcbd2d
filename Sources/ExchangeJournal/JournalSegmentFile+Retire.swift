import CExchangeShim
import ExchangeRuntime
import Glibc

extension JournalSegmentFile {
    /// The segments in `directoryPath`, by first sequence (from their names), oldest first.
    /// Names that are not `<20 digits>.rtj` are ignored.
    public static func segments(in directoryPath: String) throws(SystemError) -> [(firstSequence: UInt64, name: String)] {
        try names(in: directoryPath).compactMap { name -> (UInt64, String)? in
            let suffix = "." + JournalSegmentHeader.fileExtension
            guard name.hasSuffix(suffix), name.utf8.count == 20 + suffix.utf8.count,
                  let first = UInt64(name.dropLast(suffix.count)) else { return nil }
            return (first, name)
        }.sorted { $0.0 < $1.0 }
    }

    /// Deletes the segments wholly covered by a snapshot of everything through
    /// `coveredThrough` — a segment is covered when the next one starts at or before
    /// `coveredThrough + 1` — keeping the newest `retain` segments whatever they cover (the
    /// newest, still being written, is never covered). Fsyncs the directory after deleting.
    /// Returns the names deleted. Runs off the journal's write path (it makes system calls).
    @discardableResult
    public static func retire(directoryPath: String, coveredThrough sequence: UInt64, retain: Int) throws(SystemError) -> [String] {
        let all = try segments(in: directoryPath)
        guard all.count > max(retain, 1) else { return [] }
        var deleted: [String] = []
        let directory = try openDirectory(directoryPath)
        defer { _ = rtes_file_close(directory) }
        for i in 0..<(all.count - max(retain, 1)) {
            let nextFirst = all[i + 1].firstSequence
            guard nextFirst <= sequence &+ 1 else { break }
            let rc = all[i].name.withCString { rtes_file_unlink(directory, $0) }
            guard rc == 0 || rc == -ENOENT else {
                throw SystemError(call: "unlink", errno: -rc, detail: "retiring journal segment \(directoryPath)/\(all[i].name)")
            }
            deleted.append(all[i].name)
        }
        if !deleted.isEmpty {
            let rc = rtes_file_sync(directory)
            guard rc == 0 else { throw SystemError(call: "fsync", errno: -rc, detail: "journal directory \(directoryPath) after retiring") }
        }
        return deleted
    }

    /// Deletes spares a previous run left (they hold nothing that was published durable).
    /// Returns their names.
    @discardableResult
    public static func removeSpares(directory: Int32, directoryPath: String) throws(SystemError) -> [String] {
        let spares = try names(in: directoryPath).filter { $0.hasSuffix("." + spareExtension) }
        for name in spares {
            let rc = name.withCString { rtes_file_unlink(directory, $0) }
            guard rc == 0 || rc == -ENOENT else {
                throw SystemError(call: "unlink", errno: -rc, detail: "removing journal spare \(directoryPath)/\(name)")
            }
        }
        return spares
    }

    /// Whether the segment `name` holds no record (a valid header followed by a zero length
    /// word): what a crash right after creating a segment leaves, safe to replace.
    static func holdsNoRecord(directory: Int32, name: String) -> Bool {
        let fd = name.withCString { rtes_file_open_read(directory, $0) }
        guard fd >= 0 else { return false }
        defer { _ = rtes_file_close(fd) }
        let bytes = JournalSegmentHeader.bytes + 8
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 8)
        defer { buffer.deallocate() }
        guard rtes_file_read(fd, buffer.baseAddress, bytes, 0) == Int64(bytes),
              case .success = JournalSegmentHeader.decode(UnsafeRawBufferPointer(buffer)) else { return false }
        return buffer.load(fromByteOffset: JournalSegmentHeader.bytes + 4, as: UInt32.self) == 0
    }

    static func names(in directoryPath: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directoryPath) else {
            throw SystemError(call: "opendir", errno: errno, detail: "journal directory \(directoryPath)")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
