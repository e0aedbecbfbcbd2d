import CChecksum
import ExchangeRuntime
import Glibc

/// Writes one snapshot file (format: `SnapshotFile`) and publishes it atomically: the bytes
/// go to a temporary name in the same directory (`.snapshot-<sequence>.rtsnap.tmp`), then
/// fdatasync, rename to the final name, fsync of the directory. A reader therefore sees
/// either no file or a whole one; a crash leaves at most a temporary file, which
/// `SnapshotDirectory` ignores and `retain` removes. Dropping an unpublished writer
/// removes its temporary file.
///
/// Sections stream: a producer hands its bytes over in chunks (`MatchingEngine.writeSnapshot`
/// writes 64 KiB at a time), each chunk is checksummed and written, so the state is never
/// held twice in memory.
///
/// ```swift
/// let writer = try SnapshotFileWriter(directory: dir, coveredSequence: sequence,
///                                     stateHash: engine.stateHash(), createdAt: wallClockNanoseconds)
/// try writer.section("engine") { try engine.writeEngineSnapshot(to: $0) }
/// try writer.section("risk") { try engine.writeRiskSnapshot(to: $0) }
/// try writer.section("gateway", bytes: sessionState)
/// let path = try writer.publish()
/// ```
public final class SnapshotFileWriter {
    public let directory: String
    public let coveredSequence: UInt64
    public let path: String
    public let temporaryPath: String

    private var descriptor: Int32
    private var offset: UInt64 = 0
    private var fileCRC: UInt32 = 0
    private var entries: [(name: String, offset: UInt64, length: UInt64, crc: UInt32)] = []
    private var finished = false

    /// Creates the temporary file and writes the header.
    public init(directory: String, coveredSequence: UInt64, stateHash: UInt64, createdAt: UInt64) throws(SnapshotFileError) {
        self.directory = directory
        self.coveredSequence = coveredSequence
        let name = SnapshotDirectory.fileName(coveredSequence: coveredSequence)
        path = directory + "/" + name
        temporaryPath = directory + "/." + name + SnapshotDirectory.temporarySuffix
        let temporary = temporaryPath
        descriptor = retryingInterruptedCall { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        if descriptor < 0 { throw SnapshotFileError.system(SystemError(call: "open \(temporary)", errno: errno)) }
        var header = [UInt8](repeating: 0, count: SnapshotFile.headerBytes)
        header.withUnsafeMutableBytes { h in
            h.storeBytes(of: SnapshotFile.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            h.storeBytes(of: SnapshotFile.currentVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            h.storeBytes(of: coveredSequence.littleEndian, toByteOffset: 16, as: UInt64.self)
            h.storeBytes(of: stateHash.littleEndian, toByteOffset: 24, as: UInt64.self)
            h.storeBytes(of: createdAt.littleEndian, toByteOffset: 32, as: UInt64.self)
            let crc = rtes_crc32c(0, h.baseAddress! + 16, SnapshotFile.headerBytes - 16)
            h.storeBytes(of: crc.littleEndian, toByteOffset: 12, as: UInt32.self)
        }
        do throws(SnapshotFileError) {
            try append(header[...])
        } catch {
            abandon()
            throw error
        }
    }

    deinit { abandon() }

    /// Adds a section whose bytes `produce` hands to the sink it is given, in as many chunks
    /// as it likes. An error the producer throws abandons nothing yet: the writer can still
    /// be dropped (removing the temporary file) or given no more sections.
    public func section(_ name: String, _ produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws(SnapshotFileError) {
        try checkName(name)
        let start = offset
        var crc: UInt32 = 0
        var failure: SnapshotFileError?
        do {
            try produce { chunk in
                crc = rtes_crc32c(crc, chunk.baseAddress, chunk.count)
                do throws(SnapshotFileError) { try self.append(chunk) } catch { failure = error; throw error }
            }
        } catch {
            if let failure { throw failure }
            throw SnapshotFileError.producer(section: name, reason: "\(error)")
        }
        entries.append((name, start, offset - start, crc))
        try pad()
    }

    /// Adds a section of bytes the caller already holds.
    public func section(_ name: String, bytes: UnsafeRawBufferPointer) throws(SnapshotFileError) {
        try checkName(name)
        let start = offset
        try append(bytes)
        entries.append((name, start, offset - start, rtes_crc32c(0, bytes.baseAddress, bytes.count)))
        try pad()
    }

    public func section(_ name: String, bytes: [UInt8]) throws(SnapshotFileError) {
        var failure: SnapshotFileError?
        bytes.withUnsafeBytes { b in
            do throws(SnapshotFileError) { try section(name, bytes: b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes the section table and footer, makes the file durable and gives it its name.
    /// Returns the published path.
    @discardableResult
    public func publish() throws(SnapshotFileError) -> String {
        precondition(!finished, "a snapshot file is published once")
        let tableOffset = offset
        var table = [UInt8](repeating: 0, count: entries.count * SnapshotFile.tableEntryBytes + SnapshotFile.footerBytes)
        table.withUnsafeMutableBytes { t in
            for (i, entry) in entries.enumerated() {
                let at = i * SnapshotFile.tableEntryBytes
                for (j, byte) in entry.name.utf8.enumerated() { t[at + j] = byte }
                t.storeBytes(of: entry.offset.littleEndian, toByteOffset: at + 24, as: UInt64.self)
                t.storeBytes(of: entry.length.littleEndian, toByteOffset: at + 32, as: UInt64.self)
                t.storeBytes(of: entry.crc.littleEndian, toByteOffset: at + 40, as: UInt32.self)
            }
            let footer = entries.count * SnapshotFile.tableEntryBytes
            t.storeBytes(of: tableOffset.littleEndian, toByteOffset: footer, as: UInt64.self)
            t.storeBytes(of: UInt32(entries.count).littleEndian, toByteOffset: footer + 8, as: UInt32.self)
            t.storeBytes(of: SnapshotFile.footerMagic.littleEndian, toByteOffset: footer + 16, as: UInt64.self)
        }
        do throws(SnapshotFileError) {
            try append(table.dropLast(4))
            let crc = fileCRC
            try append([UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                        UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)][...])
            if retryingInterruptedCall({ fdatasync(descriptor) }) != 0 { throw .system(SystemError(call: "fdatasync \(temporaryPath)", errno: errno)) }
            if close(descriptor) != 0 { descriptor = -1; throw .system(SystemError(call: "close \(temporaryPath)", errno: errno)) }
            descriptor = -1
            if rename(temporaryPath, path) != 0 { throw .system(SystemError(call: "rename \(temporaryPath) to \(path)", errno: errno)) }
            finished = true
            try SnapshotDirectory.syncDirectory(directory)
        } catch {
            abandon()
            throw error
        }
        return path
    }

    // MARK: Writing

    private func checkName(_ name: String) throws(SnapshotFileError) {
        precondition(!finished, "no sections after publish")
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, utf8.count <= SnapshotFile.maximumNameBytes, utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              !entries.contains(where: { $0.name == name }) else {
            throw .invalidSectionName(name)
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws(SnapshotFileError) {
        guard descriptor >= 0 else { throw .system(SystemError(call: "write \(temporaryPath)", errno: EBADF, detail: "the writer failed earlier")) }
        var done = 0
        while done < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(SystemError(call: "write \(temporaryPath)", errno: errno))
            }
            done += n
        }
        if !bytes.isEmpty { fileCRC = rtes_crc32c(fileCRC, bytes.baseAddress, bytes.count) }
        offset += UInt64(bytes.count)
    }

    /// Appends bytes the writer holds in an array.
    private func append(_ bytes: ArraySlice<UInt8>) throws(SnapshotFileError) {
        var failure: SnapshotFileError?
        bytes.withUnsafeBytes { b in
            do throws(SnapshotFileError) { try append(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Zeros up to the next multiple of 8.
    private func pad() throws(SnapshotFileError) {
        let padding = Int((8 - offset % 8) % 8)
        guard padding > 0 else { return }
        try append([UInt8](repeating: 0, count: padding)[...])
    }

    /// Closes and removes the temporary file (a failed or dropped writer).
    private func abandon() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        if !finished { unlink(temporaryPath); finished = true }
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
