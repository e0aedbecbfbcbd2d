import CExchangeShim
import ExchangeRuntime
import Glibc

/// A segment file as the journal agent creates it: `O_CREAT|O_EXCL`, mode 0600, fallocated
/// to its capacity (so a full disk shows at creation, off the write path, not at a later
/// write), fdatasynced, and its directory fsynced so the name survives a crash.
///
/// The day's first segment after a start is created under its final name
/// (`JournalSegmentHeader.fileName`) with its header. Later segments are prepared ahead as
/// spares under `spareName(index:)` (no header: the first sequence is not known yet); the
/// batch that opens one writes the header and its records in one write, and only once that
/// is synced is the spare renamed to its final name and the directory fsynced (one linked
/// io_uring chain). So a file named `*.rtj` always starts with a valid header, and a crash
/// before the rename leaves only a `.spare` holding nothing that was ever published durable;
/// the next start deletes it (`removeSpares`).
///
/// Every call here is a system call through the shim (EINTR retried, typed errno); none is
/// on the per-batch path.
public struct JournalSegmentFile: Sendable {
    public let fd: Int32
    /// The name within the journal directory.
    public let name: String
    public let index: UInt64
    public let capacity: Int

    /// The block every O_DIRECT write is aligned to (offset, length and memory): 4 KiB covers
    /// 512-byte and 4K-native devices alike.
    public static let blockBytes = 4_096
    public static let spareExtension = "spare"

    /// The name a prepared spare has until the batch that opens it is durable.
    public static func spareName(index: UInt64) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + spareExtension
    }

    /// Creates `name` in the directory `directory` (a descriptor from `openDirectory`):
    /// exclusive, 0600, fallocated to `capacity`, zeros written over all of it when `fill`
    /// (`JournalPreallocation.zeros`), `header` written at offset 0 when given (from
    /// `scratch`, `blockBytes`-aligned, at least `JournalSegmentHeader.bytes`), then fdatasync
    /// and an fsync of the directory. A failure removes the half-made file and names the file
    /// and the step.
    public static func create(directory: Int32, directoryPath: String, name: String, index: UInt64, capacity: Int,
                              direct: Bool, fill: Bool = false, header: JournalSegmentHeader?,
                              scratch: UnsafeMutableRawPointer) throws(SystemError) -> JournalSegmentFile {
        let fd = name.withCString { rtes_file_create_exclusive(directory, $0, direct ? 1 : 0) }
        guard fd >= 0 else { throw SystemError(call: "open", errno: -fd, detail: "creating journal segment \(directoryPath)/\(name)") }
        func fail(_ call: String, _ rc: some SignedInteger) -> SystemError {
            _ = rtes_file_close(fd)
            _ = name.withCString { rtes_file_unlink(directory, $0) }
            return SystemError(call: call, errno: Int32(truncatingIfNeeded: 0 - rc), detail: "journal segment \(directoryPath)/\(name)")
        }
        var rc = rtes_file_allocate(fd, Int64(capacity))
        if rc == -EOPNOTSUPP {
            // No preallocation here (ramfs): size the file sparse; a full disk then shows
            // at a write, where the agent's fault path handles it the same way.
            rc = rtes_file_truncate(fd, Int64(capacity))
            guard rc == 0 else { throw fail("ftruncate", rc) }
        }
        guard rc == 0 else { throw fail("fallocate", rc) }
        if fill {
            rc = writeZeros(fd, capacity: capacity)
            guard rc == 0 else { throw fail("pwrite", rc) }
        }
        if let header {
            header.encode(to: scratch)
            rc = rtes_file_write_all(fd, scratch, JournalSegmentHeader.bytes, 0)
            guard rc == 0 else { throw fail("pwrite", rc) }
        }
        rc = rtes_file_data_sync(fd)
        guard rc == 0 else { throw fail("fdatasync", rc) }
        rc = rtes_file_sync(directory)
        guard rc == 0 else { throw fail("fsync", rc) }
        return JournalSegmentFile(fd: fd, name: name, index: index, capacity: capacity)
    }

    /// Zeros over `[0, capacity)`, a MiB per write from a block-aligned buffer (so O_DIRECT
    /// takes it): the blocks become written, not merely reserved. 0, or a negative errno.
    static func writeZeros(_ fd: Int32, capacity: Int) -> Int32 {
        let chunk = 1 << 20
        let zeros = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: blockBytes)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
        var offset = 0
        while offset < capacity {
            let count = min(chunk, capacity - offset)
            let rc = rtes_file_write_all(fd, zeros, count, Int64(offset))
            guard rc == 0 else { return rc }
            offset += count
        }
        return 0
    }

    public init(fd: Int32, name: String, index: UInt64, capacity: Int) {
        self.fd = fd
        self.name = name
        self.index = index
        self.capacity = capacity
    }

    public func close() { _ = rtes_file_close(fd) }

    /// A descriptor on the journal directory (to name files in and to fsync).
    public static func openDirectory(_ path: String) throws(SystemError) -> Int32 {
        let fd = path.withCString { rtes_directory_open($0) }
        guard fd >= 0 else { throw SystemError(call: "open", errno: -fd, detail: "journal directory \(path)") }
        return fd
    }
}
