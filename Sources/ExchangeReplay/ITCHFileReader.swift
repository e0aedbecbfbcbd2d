import CZlibShim
import Glibc

/// Reads a TotalView-ITCH 5.0 file message by message (`ITCHFileFormat`), plain or gzip,
/// through one buffer allocated at the start: `next()` gives a view of the next message that
/// stays valid until the following call. Every malformation is a clear `ITCHFileError`.
public final class ITCHFileReader {
    public let path: String
    var file: OpaquePointer?
    let buffer: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes [start, end) of the buffer are read and not yet handed out.
    var start = 0
    var end = 0
    var atEnd = false
    /// Offset of `buffer[start]` in the uncompressed stream.
    public private(set) var offset: UInt64 = 0
    /// Messages handed out so far.
    public private(set) var messages: UInt64 = 0
    /// Whether the file is gzip-compressed (known after the first read).
    public private(set) var compressed = false

    /// Opens `path` (gzip or plain).
    public init(path: String, bufferBytes: Int = 1 << 20) throws(ITCHFileError) {
        self.path = path
        var error: Int32 = 0
        guard let f = rtes_gz_open(path, "rb", &error) else { throw .cannotOpen(path: path, errno: -error) }
        file = f
        capacity = max(bufferBytes, 1 << 16)
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    /// Reads from memory (tests, benchmarks): the bytes as a file would hold them, uncompressed.
    public init(bytes: [UInt8]) {
        path = "(memory)"
        file = nil
        capacity = max(bytes.count, 1)
        buffer = .allocate(byteCount: capacity, alignment: 64)
        bytes.withUnsafeBytes { if $0.count > 0 { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        end = bytes.count
        atEnd = true
    }

    deinit {
        if let file { _ = rtes_gz_close(file) }
        buffer.deallocate()
    }

    /// Tops the buffer up so that at least `needed` bytes follow `start`, unless the file ends.
    func fill(_ needed: Int) throws(ITCHFileError) {
        while end - start < needed && !atEnd {
            if start > 0 {
                let n = end - start
                if n > 0 { buffer.copyMemory(from: buffer + start, byteCount: n) }
                start = 0
                end = n
            }
            let read = rtes_gz_read(file, buffer + end, capacity - end)
            if read < 0 {
                let why = read <= -1000 ? String(cString: rtes_gz_error_text(file)) : String(cString: strerror(Int32(-read)))
                throw .readFailed(path: path, why: why)
            }
            if messages == 0 && offset == 0 && end == 0 { compressed = rtes_gz_is_compressed(file) == 1 }
            if read == 0 { atEnd = true }
            end += read
        }
    }

    /// The next message (type byte first), or nil at the end of the file.
    @inline(__always)
    public func next() throws(ITCHFileError) -> UnsafeRawBufferPointer? {
        if end - start < 2 {
            try fill(2)
            if end - start == 0 { return nil }
            if end - start == 1 { throw .truncatedLength(offset: offset, message: messages + 1) }
        }
        let p = buffer + start
        let length = Int(p.load(as: UInt8.self)) << 8 | Int(p.load(fromByteOffset: 1, as: UInt8.self))
        guard length > 0 else { throw .zeroLength(offset: offset, message: messages + 1) }
        if end - start < 2 + length {
            try fill(2 + length)
            if end - start < 2 + length {
                throw .truncatedMessage(offset: offset, message: messages + 1, length: length, available: end - start - 2)
            }
        }
        let message = UnsafeRawBufferPointer(start: buffer + start + 2, count: length)
        let type = message[0]
        let expected = ITCHFileFormat.lengths[Int(type)]
        guard expected != 0 else { throw .unknownType(type: type, offset: offset, message: messages + 1) }
        guard expected == length else {
            throw .wrongLength(type: type, expected: expected, actual: length, offset: offset, message: messages + 1)
        }
        start += 2 + length
        offset &+= UInt64(2 + length)
        messages &+= 1
        return message
    }
}

/// Writes an ITCH 5.0 file (each message after its 2-byte length), gzip when asked: for
/// captures of the feed (`rtes-itch-replay --capture`) and tests.
public final class ITCHFileWriter {
    public let path: String
    var file: OpaquePointer?
    public private(set) var messages: UInt64 = 0

    public init(path: String, gzip: Bool) throws(ITCHFileError) {
        self.path = path
        var error: Int32 = 0
        guard let f = rtes_gz_open(path, gzip ? "wb6" : "wbT", &error) else { throw .cannotOpen(path: path, errno: -error) }
        file = f
    }

    deinit { if let file { _ = rtes_gz_close(file) } }

    public func write(_ message: UnsafeRawBufferPointer) throws(ITCHFileError) {
        var header = (UInt8(truncatingIfNeeded: message.count >> 8), UInt8(truncatingIfNeeded: message.count))
        let n = withUnsafeBytes(of: &header) { rtes_gz_write(file, $0.baseAddress, 2) }
        let m = message.count == 0 ? 0 : rtes_gz_write(file, message.baseAddress, message.count)
        guard n == 2 && m == message.count else { throw .readFailed(path: path, why: "write failed") }
        messages += 1
    }

    public func write(_ message: [UInt8]) throws(ITCHFileError) {
        let failure: ITCHFileError? = message.withUnsafeBytes { b in
            do throws(ITCHFileError) { try write(b) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Flushes and closes; a failure to write the end shows here.
    public func close() throws(ITCHFileError) {
        guard let f = file else { return }
        file = nil
        let code = rtes_gz_close(f)
        if code != 0 { throw .readFailed(path: path, why: "close failed (\(code))") }
    }
}
