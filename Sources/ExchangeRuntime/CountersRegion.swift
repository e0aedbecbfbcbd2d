import CExchangeShim
import Glibc
import Synchronization

/// The counters region, mapped from a file in shared memory (see `CountersLayout`).
/// Agents write their own cells; any process may map the file read-only and read.
public struct CountersRegion: ~Copyable, @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let path: String?
    /// Where the file is until `publish()` (nil once published, and for other regions).
    private var pendingPath: String?
    private let mappedBytes: Int

    /// Creates the counters file for `path` as a new file beside it (`<path>.starting`:
    /// O_EXCL, not following links, mode 0600, or 0640 owned by `group` so that the group's
    /// `rtes-stat` can read it), maps it shared and writes the header (with this process's
    /// PID). Readers see nothing at `path` until `publish()` renames it into place, so a start
    /// that fails never replaces the file of an exchange that runs. Take the `InstanceLock`
    /// first: a leftover `<path>.starting` is then a failed start's, and is removed.
    public static func create(path: String, name: String, ticksPerSecond: UInt64, group: gid_t? = nil) throws(SystemError) -> CountersRegion {
        var existing = stat()
        if lstat(path, &existing) == 0 && (existing.st_mode & S_IFMT) != S_IFREG {
            let what = (existing.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : "not a regular file"
            throw SystemError(call: "\(path) is \(what)", errno: EEXIST,
                              detail: "the counters file is never written through a link: remove it, or choose another --counters path")
        }
        let pending = path + ".starting"
        if unlink(pending) != 0 && errno != ENOENT { throw SystemError(call: "unlink \(pending)", errno: errno) }
        let fd = Glibc.open(pending, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw SystemError(call: "open \(pending)", errno: errno) }
        defer { close(fd) }
        func failed(_ call: String, _ code: Int32, detail: String? = nil) -> SystemError {
            unlink(pending)
            return SystemError(call: call, errno: code, detail: detail)
        }
        if let group {
            // fchown only when needed (see `InstanceLock.acquire`: systemd's Group= already
            // gives the file its group, and the unit's system-call filter refuses chown calls).
            var info = stat()
            if fstat(fd, &info) != 0 { throw failed("fstat \(pending)", errno) }
            if info.st_gid != group, fchown(fd, uid_t.max, group) != 0 {
                throw failed("fchown \(pending) to group \(group)", errno,
                             detail: "run as a member of that group, or leave exchange.counters_group empty")
            }
            if fchmod(fd, 0o640) != 0 { throw failed("fchmod \(pending)", errno) }
        }
        if ftruncate(fd, off_t(CountersLayout.totalBytes)) != 0 { throw failed("ftruncate \(pending)", errno) }
        guard let p = mmap(nil, CountersLayout.totalBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw failed("mmap \(pending)", errno)
        }
        let region = CountersRegion(base: p, path: path, pendingPath: pending, mappedBytes: CountersLayout.totalBytes)
        region.writeHeader(name: name, ticksPerSecond: ticksPerSecond)
        return region
    }

    /// Renames the file `create` made into place at `path` (replacing a link or an earlier
    /// run's file there, never writing through it). Call once the exchange's ports are bound.
    public mutating func publish() throws(SystemError) {
        guard let pending = pendingPath, let path else { return }
        if rename(pending, path) != 0 { throw SystemError(call: "rename \(pending) to \(path)", errno: errno) }
        pendingPath = nil
    }

    /// A private, anonymous region (tests, or when no file is wanted).
    public static func anonymous(name: String, ticksPerSecond: UInt64) -> CountersRegion {
        let p = mmap(nil, CountersLayout.totalBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        precondition(p != MAP_FAILED, "mmap of the counters region failed")
        let region = CountersRegion(base: p, path: nil, pendingPath: nil, mappedBytes: CountersLayout.totalBytes)
        region.writeHeader(name: name, ticksPerSecond: ticksPerSecond)
        return region
    }

    /// Maps an existing counters file read-only (a reader in another process).
    public static func open(path: String) throws(SystemError) -> CountersRegion {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SystemError(call: "open \(path)", errno: errno) }
        defer { close(fd) }
        // The header first: a file of another layout version is refused by name, whatever its size.
        var header = (UInt64(0), UInt64(0))
        let got = withUnsafeMutableBytes(of: &header) { pread(fd, $0.baseAddress, 16, 0) }
        guard got == 16, header.0 == CountersLayout.magic else {
            throw SystemError(call: "\(path) is not an RTES counters file", errno: EINVAL)
        }
        guard header.1 == CountersLayout.version else {
            throw SystemError(call: "\(path) has counters layout version \(header.1); this reader understands version \(CountersLayout.version)",
                              errno: EINVAL, detail: "use the rtes-stat of the same build as the exchange")
        }
        var info = stat()
        if fstat(fd, &info) != 0 { throw SystemError(call: "fstat \(path)", errno: errno) }
        guard Int(info.st_size) >= CountersLayout.totalBytes else { throw SystemError(call: "counters file \(path) is too small", errno: EINVAL) }
        guard let p = mmap(nil, CountersLayout.totalBytes, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw SystemError(call: "mmap \(path)", errno: errno)
        }
        return CountersRegion(base: p, path: path, pendingPath: nil, mappedBytes: CountersLayout.totalBytes)
    }

    private init(base: UnsafeMutableRawPointer, path: String?, pendingPath: String?, mappedBytes: Int) {
        self.base = base
        self.path = path
        self.pendingPath = pendingPath
        self.mappedBytes = mappedBytes
    }

    deinit {
        munmap(base, mappedBytes)
        // A region never published was a start that failed: nothing of it stays behind.
        if let pendingPath { unlink(pendingPath) }
    }

    private func writeHeader(name: String, ticksPerSecond: UInt64) {
        store(CountersLayout.Header.magic, CountersLayout.magic)
        store(CountersLayout.Header.version, CountersLayout.version)
        store(CountersLayout.Header.totalBytes, UInt64(CountersLayout.totalBytes))
        store(CountersLayout.Header.pid, UInt64(getpid()))
        store(CountersLayout.Header.startedAtUnixNanoseconds, rtes_realtime_ns())
        store(CountersLayout.Header.ticksPerSecond, ticksPerSecond)
        store(CountersLayout.Header.state, CountersLayout.State.starting.rawValue)
        writeText(name, at: CountersLayout.Header.name, bytes: CountersLayout.Header.nameBytes)
    }

    // MARK: Cells

    @inlinable public func store(_ offset: Int, _ value: UInt64) { cells.store(offset, value) }

    @inlinable public func load(_ offset: Int) -> UInt64 { cells.load(offset) }

    public func writeText(_ text: String, at offset: Int, bytes: Int) { cells.writeText(text, at: offset, bytes: bytes) }

    /// Registers a module's counter block (see `CounterCells.register(_:)`).
    public func register(_ block: CounterBlockDescriptor) throws(SystemError) -> CounterBlock { try cells.register(block) }

    public var state: CountersLayout.State {
        get { CountersLayout.State(rawValue: load(CountersLayout.Header.state)) ?? .stopped }
        nonmutating set { store(CountersLayout.Header.state, newValue.rawValue) }
    }

    /// Every counter, read now.
    public func snapshot() -> CountersSnapshot { CountersSnapshot(cells) }

    // MARK: Agents and rings

    public func registerAgent(_ slot: CountersLayout.AgentSlot, name: String) {
        writeText(name, at: slot.offset + CountersLayout.AgentCell.name, bytes: 32)
        store(slot.offset + CountersLayout.AgentCell.cpu, .max)
    }

    public func registerRing(_ slot: CountersLayout.RingSlot, capacity: Int) {
        writeText(slot.metricName, at: slot.offset + CountersLayout.RingCell.name, bytes: 32)
        store(slot.offset + CountersLayout.RingCell.capacity, UInt64(capacity))
    }
}
