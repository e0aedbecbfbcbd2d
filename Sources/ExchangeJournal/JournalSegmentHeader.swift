import CChecksum

/// The first block of every journal segment file. docs/DURABILITY.md describes the format.
///
/// A segment is a file `<journal directory>/<first sequence, 20 digits>.rtj`, preallocated
/// (fallocate) to its capacity. Its first `bytes` (4,096: one block, so that O_DIRECT writes
/// of records start aligned) are this header; records follow back to back from there until a
/// zero length word.
///
/// ```
/// offset size  field (little-endian)
///  0     8     magic          "RTESJRNL"
///  8     4     version        2 (1: before FIX session records, `fix_session`; still read)
/// 12     4     crc32c         CRC-32C of bytes 16 ..< 128
/// 16     8     firstSequence  the sequence of the segment's first record
/// 24     8     segmentIndex   0 for the day's first segment, then 1, 2, …
/// 32     8     createdAt      wall-clock nanoseconds since the Unix epoch (information only)
/// 40     8     capacity       the file's preallocated size in bytes
/// 48    16     day            the trading day's name, ASCII, space-padded ("2026-12-07")
/// 64    64     reserved       zero
/// 128 … 4096   zero
/// ```
public struct JournalSegmentHeader: Equatable, Sendable {
    public static let bytes = 4_096
    public static let checkedBytes = 128
    public static let magic: UInt64 = 0x4C4E_524A_5345_5452  // the bytes "RTESJRNL", read as a little-endian UInt64
    public static let currentVersion: UInt32 = 2
    /// The oldest version this build reads (its records are a subset of today's).
    public static let oldestReadableVersion: UInt32 = 1
    public static let fileExtension = "rtj"

    public var version: UInt32
    public var firstSequence: UInt64
    public var segmentIndex: UInt64
    public var createdAt: UInt64
    public var capacity: UInt64
    /// At most 16 ASCII bytes.
    public var day: String

    public init(firstSequence: UInt64, segmentIndex: UInt64, createdAt: UInt64, capacity: UInt64, day: String,
                version: UInt32 = Self.currentVersion) {
        self.version = version
        self.firstSequence = firstSequence
        self.segmentIndex = segmentIndex
        self.createdAt = createdAt
        self.capacity = capacity
        self.day = day
    }

    /// The file name of the segment whose first record is `firstSequence`.
    public static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + fileExtension
    }

    /// Writes the header's `bytes` bytes (zeros after the fields) at `out`.
    public func encode(to out: UnsafeMutableRawPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0, count: Self.bytes)
        out.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
        out.storeBytes(of: firstSequence.littleEndian, toByteOffset: 16, as: UInt64.self)
        out.storeBytes(of: segmentIndex.littleEndian, toByteOffset: 24, as: UInt64.self)
        out.storeBytes(of: createdAt.littleEndian, toByteOffset: 32, as: UInt64.self)
        out.storeBytes(of: capacity.littleEndian, toByteOffset: 40, as: UInt64.self)
        var dayBytes = Array(day.utf8.prefix(16))
        dayBytes += Array(repeating: 0x20, count: 16 - dayBytes.count)
        for (i, b) in dayBytes.enumerated() { out.storeBytes(of: b, toByteOffset: 48 + i, as: UInt8.self) }
        let crc = rtes_crc32c(0, out + 16, Self.checkedBytes - 16)
        out.storeBytes(of: crc.littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case tooShort(Int)
        case badMagic
        case unsupportedVersion(UInt32)
        case checksumMismatch

        public var description: String {
            switch self {
            case .tooShort(let n): "segment header is \(n) bytes, needs \(JournalSegmentHeader.bytes)"
            case .badMagic: "not an RTES journal segment (bad magic)"
            case .unsupportedVersion(let v): "journal segment version \(v) (this build reads \(JournalSegmentHeader.currentVersion))"
            case .checksumMismatch: "segment header CRC-32C mismatch"
            }
        }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<JournalSegmentHeader, DecodingError> {
        guard bytes.count >= Self.checkedBytes, let base = bytes.baseAddress else { return .failure(.tooShort(bytes.count)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard u64(0) == magic else { return .failure(.badMagic) }
        let version = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard (oldestReadableVersion...currentVersion).contains(version) else { return .failure(.unsupportedVersion(version)) }
        let stored = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard stored == rtes_crc32c(0, base + 16, checkedBytes - 16) else { return .failure(.checksumMismatch) }
        var dayBytes = (0..<16).map { base.load(fromByteOffset: 48 + $0, as: UInt8.self) }
        while dayBytes.last == 0x20 { dayBytes.removeLast() }
        return .success(JournalSegmentHeader(
            firstSequence: u64(16), segmentIndex: u64(24), createdAt: u64(32), capacity: u64(40),
            day: String(decoding: dayBytes, as: UTF8.self), version: version))
    }
}
