import CChecksum
import ExchangeRuntime
import Glibc

/// A snapshot file read whole and checked: every CRC matches, every section lies inside
/// the file. Its sections stay valid as long as this object lives. docs/DURABILITY.md
/// describes the format; `SnapshotFileWriter` writes it; `SnapshotDirectory` names files
/// and finds the newest valid one.
///
/// ```
/// offset       size  field (little-endian)
/// 0            8     magic          "RTESSNAP"
/// 8            4     version        1
/// 12           4     header crc32c  CRC-32C of bytes 16 ..< 64
/// 16           8     covered        the journal sequence of the last command the state includes
/// 24           8     state hash     RiskCheckedEngine.stateHash() (or MatchingEngine's) of that state
/// 32           8     createdAt      wall-clock nanoseconds since the Unix epoch (information only)
/// 40           24    reserved       zero
/// 64           …     sections       back to back, each padded with zeros to a multiple of 8
/// table        48×n  per section:   name (24 bytes ASCII, zero-padded), u64 offset, u64 length,
///                                   u32 crc32c of the section's bytes, u32 reserved
/// size − 32    32    footer:        u64 table offset, u32 sections, u32 reserved,
///                                   u64 magic "RTESSEND", u32 reserved,
///                                   u32 crc32c of every byte of the file before this field
/// ```
/// The sections the exchange writes: `engine` (MatchingEngine's section), `risk`
/// (RiskCheckedEngine's), and any others a caller adds (the gateway's sessions, the feed's
/// sequence); a reader ignores sections it does not know.
public final class SnapshotFile: @unchecked Sendable {
    public static let magic: UInt64 = 0x5041_4E53_5345_5452  // "RTESSNAP" little-endian
    public static let footerMagic: UInt64 = 0x444E_4553_5345_5452  // "RTESSEND" little-endian
    public static let currentVersion: UInt32 = 1
    public static let headerBytes = 64
    public static let tableEntryBytes = 48
    public static let footerBytes = 32
    public static let maximumNameBytes = 24

    public let path: String
    public let coveredSequence: UInt64
    public let stateHash: UInt64
    public let createdAt: UInt64
    /// Section names in file order.
    public let sectionNames: [String]
    private let sections: [String: UnsafeRawBufferPointer]
    private let storage: UnsafeMutableRawBufferPointer

    private init(path: String, coveredSequence: UInt64, stateHash: UInt64, createdAt: UInt64, sectionNames: [String],
                 sections: [String: UnsafeRawBufferPointer], storage: UnsafeMutableRawBufferPointer) {
        self.path = path
        self.coveredSequence = coveredSequence
        self.stateHash = stateHash
        self.createdAt = createdAt
        self.sectionNames = sectionNames
        self.sections = sections
        self.storage = storage
    }

    deinit { storage.deallocate() }

    /// The bytes of a section, or nil when the file has none of that name. Valid while
    /// this object lives.
    public func section(_ name: String) -> UnsafeRawBufferPointer? { sections[name] }

    /// A copy of a section's bytes.
    public func sectionBytes(_ name: String) -> [UInt8]? { sections[name].map { Array($0) } }

    /// Reads and checks the whole file.
    public static func read(path: String) throws(SnapshotFileError) -> SnapshotFile {
        let fd = retryingInterruptedCall { open(path, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw .system(SystemError(call: "open \(path)", errno: errno)) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw .system(SystemError(call: "fstat \(path)", errno: errno)) }
        let size = Int(info.st_size)
        guard size >= headerBytes + footerBytes else {
            throw .damaged(path: path, reason: "it is \(size) bytes, shorter than a header and a footer (\(headerBytes + footerBytes))")
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        do throws(SnapshotFileError) {
            var done = 0
            while done < size {
                let n = pread(fd, storage.baseAddress! + done, size - done, off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .system(SystemError(call: "read \(path)", errno: errno))
                }
                if n == 0 { throw .damaged(path: path, reason: "it shrank to \(done) bytes while being read") }
                done += n
            }
            return try parse(path: path, storage: storage)
        } catch {
            storage.deallocate()
            throw error
        }
    }

    private static func parse(path: String, storage: UnsafeMutableRawBufferPointer) throws(SnapshotFileError) -> SnapshotFile {
        let bytes = UnsafeRawBufferPointer(storage)
        let size = bytes.count
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func damaged(_ reason: String) -> SnapshotFileError { .damaged(path: path, reason: reason) }

        guard u64(0) == magic else { throw damaged("it does not start with RTESSNAP: not a snapshot file") }
        let version = u32(8)
        guard version == currentVersion else { throw damaged("format version \(version); this build reads version \(currentVersion)") }
        guard u32(12) == rtes_crc32c(0, bytes.baseAddress! + 16, headerBytes - 16) else { throw damaged("the header's CRC does not match") }
        let footer = size - footerBytes
        guard u64(footer + 16) == footerMagic else { throw damaged("it does not end with the RTESSEND footer: cut short or overwritten") }
        guard u32(footer + 28) == rtes_crc32c(0, bytes.baseAddress!, size - 4) else { throw damaged("the whole-file CRC does not match") }
        let tableOffset = u64(footer)
        let count = UInt64(u32(footer + 8))
        guard tableOffset >= UInt64(headerBytes), tableOffset <= UInt64(footer),
              count <= (UInt64(footer) - tableOffset) / UInt64(tableEntryBytes),
              tableOffset + count * UInt64(tableEntryBytes) == UInt64(footer) else {
            throw damaged("the section table (\(count) entries at \(tableOffset)) does not fit between the sections and the footer")
        }
        var names: [String] = []
        var sections: [String: UnsafeRawBufferPointer] = [:]
        for i in 0..<Int(count) {
            let entry = Int(tableOffset) + i * tableEntryBytes
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[entry..<(entry + maximumNameBytes)])
            let nameLength = nameBytes.firstIndex(of: 0) ?? maximumNameBytes
            guard nameLength > 0, nameBytes[nameLength...].allSatisfy({ $0 == 0 }),
                  nameBytes[..<nameLength].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw damaged("section \(i)'s name is not printable ASCII")
            }
            let name = String(decoding: nameBytes[..<nameLength], as: UTF8.self)
            let offset = u64(entry + 24)
            let length = u64(entry + 32)
            guard offset >= UInt64(headerBytes), offset <= tableOffset, length <= tableOffset - offset else {
                throw damaged("section \(name) (\(length) bytes at \(offset)) lies outside the section area")
            }
            let section = UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset + length)])
            guard u32(entry + 40) == rtes_crc32c(0, section.baseAddress!, section.count) else {
                throw damaged("section \(name)'s CRC does not match")
            }
            guard sections.updateValue(section, forKey: name) == nil else { throw damaged("section \(name) appears twice") }
            names.append(name)
        }
        return SnapshotFile(path: path, coveredSequence: u64(16), stateHash: u64(24), createdAt: u64(32),
                            sectionNames: names, sections: sections, storage: storage)
    }
}

/// Retries a call that returns -1 with EINTR.
@inline(__always)
private func retryingInterruptedCall<R: BinaryInteger>(_ call: () -> R) -> R {
    while true {
        let r = call()
        if r == -1 && errno == EINTR { continue }
        return r
    }
}
