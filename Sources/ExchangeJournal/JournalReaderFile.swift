import ExchangeRuntime
import Glibc

/// One open journal file for the reader and the repair: positional reads and writes that
/// retry EINTR and throw the errno, typed, with the path. Whoever opens it closes it.
/// Cold path: recovery, tools and tests, never a hot loop.
struct JournalReaderFile {
    let descriptor: Int32
    let path: String
    /// The file's size when it was opened.
    let size: Int

    init(path: String, writable: Bool = false) throws(JournalError) {
        var fd: Int32
        repeat { fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw .io(SystemError(call: "open", errno: errno, detail: path)) }
        var status = Glibc.stat()
        guard fstat(fd, &status) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw .io(SystemError(call: "fstat", errno: error, detail: path))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw .corrupt(JournalCorruption(file: path, offset: nil, sequence: nil, reason: "not a regular file"))
        }
        descriptor = fd
        self.path = path
        size = Int(status.st_size)
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Reads `count` bytes at `offset` into `buffer`; fewer only where the file ends.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(JournalError) -> Int {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(SystemError(call: "pread", errno: errno, detail: "\(path) at offset \(offset + done)"))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Whether every byte of the file is zero (an empty file is), read through `buffer`.
    func isAllZeros(buffer: UnsafeMutableRawPointer, capacity: Int) throws(JournalError) -> Bool {
        var offset = 0
        while offset < size {
            let n = try read(into: buffer, count: capacity, at: offset)
            if n == 0 { break }
            for i in 0..<n where buffer.load(fromByteOffset: i, as: UInt8.self) != 0 { return false }
            offset += n
        }
        return true
    }

    /// Writes zeros over `count` bytes from `offset`.
    func writeZeros(at offset: Int, count: Int) throws(JournalError) {
        let chunk = min(max(count, 1), 1 << 20)
        let zeros = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
        var done = 0
        while done < count {
            let n = pwrite(descriptor, zeros, min(chunk, count - done), off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(SystemError(call: "pwrite", errno: errno, detail: "\(path) at offset \(offset + done)"))
            }
            done += n
        }
    }

    /// fdatasync: the zeros are on the disk before the repair reports them.
    func syncData() throws(JournalError) {
        while fdatasync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw .io(SystemError(call: "fdatasync", errno: errno, detail: path))
        }
    }
}
