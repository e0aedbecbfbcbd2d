import Glibc

/// One running exchange per counters file: a lock file beside it (`<counters>.lock`), opened
/// without following links, locked with `flock(LOCK_EX | LOCK_NB)` and holding its holder's
/// PID. The exchange takes it before it touches anything else and holds it until it exits
/// (the kernel releases it however the process ends), so a second start with the same name
/// refuses at once, naming the PID that runs, instead of disturbing the running exchange.
///
/// The file is left in place at exit: removing a lock file races with the next start taking
/// it. Its mode is 0600, or 0640 with `group` so that `rtes-stat` run by the group can read it.
public final class InstanceLock: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// The lock file of the counters file at `countersPath`.
    public static func path(forCounters countersPath: String) -> String { countersPath + ".lock" }

    /// Why the lock could not be taken, in words an operator can act on.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        /// The PID that holds the lock, when it is held and the file names it.
        public let holder: Int32?
        public let description: String
    }

    /// Takes the lock at `path`, or refuses: held by another process (naming its PID), a
    /// symbolic link or other non-regular file at `path`, or a system call failing.
    public static func acquire(path: String, group: gid_t? = nil) throws(Refusal) -> InstanceLock {
        let fd = retryingEINTR { open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, group == nil ? 0o600 : 0o640) }
        if fd < 0 {
            let code = errno
            if code == ELOOP {
                throw Refusal(holder: nil, description: "\(path) is a symbolic link; the instance lock does not follow links: remove it, or choose another --counters path")
            }
            throw Refusal(holder: nil, description: "cannot open the instance lock \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Refusal(holder: nil, description: "\(path) is not a regular file; the instance lock must be one: remove it, or choose another --counters path")
        }
        if retryingEINTR({ flock(fd, LOCK_EX | LOCK_NB) }) != 0 {
            let code = errno
            let holder = readPID(fd)
            close(fd)
            if code == EWOULDBLOCK {
                let who = holder.map { "PID \($0)" } ?? "another process"
                throw Refusal(holder: holder, description: "another exchange (\(who)) is running with the lock \(path) (the same exchange name or --counters): "
                    + "stop it first, or give this one another exchange.name or --counters path")
            }
            throw Refusal(holder: nil, description: "cannot lock \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        let mode: mode_t = group == nil ? 0o600 : 0o640
        // fchown only when needed: a process whose group it already is (systemd's Group=)
        // creates the file in it, and the unit's system-call filter refuses chown calls.
        if let group, info.st_gid != group, fchown(fd, uid_t.max, group) != 0 {
            let code = errno
            close(fd)
            throw Refusal(holder: nil, description: "cannot give \(path) to group \(group): \(String(cString: strerror(code))) (errno \(code)); "
                + "run as a member of that group, or leave exchange.counters_group empty")
        }
        let pid = "\(getpid())\n"
        let written = pid.utf8CString.withUnsafeBytes { bytes in
            ftruncate(fd, 0) == 0 ? pwrite(fd, bytes.baseAddress, bytes.count - 1, 0) : -1
        }
        guard fchmod(fd, mode) == 0, written == pid.utf8.count else {
            let code = errno
            close(fd)
            throw Refusal(holder: nil, description: "cannot write the PID into \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        return InstanceLock(path: path, descriptor: fd)
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Whether some process holds the lock at `path` now, read without taking it (taking it,
    /// even shared, could make a starting exchange refuse): nil when that cannot be told
    /// (no file, or `/proc/locks` unreadable).
    public static func isHeld(path: String) -> Bool? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard let locks = readSmallFile("/proc/locks") else { return nil }
        // "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF": the third field of the device
        // and inode column is the inode.
        // glibc's dev_t encoding (gnu_dev_major / gnu_dev_minor are macros Swift does not import).
        let dev = UInt64(info.st_dev)
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF))
        let minor = (dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF))
        for line in locks.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK" else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, UInt64(id[2]) == UInt64(info.st_ino),
                  UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor else { continue }
            return true
        }
        return false
    }

    /// Whether the exchange that wrote `pid` into its counters header still runs: its process
    /// exists (`kill(pid, 0)`; EPERM means it exists under another user) and, when that can
    /// be told, it still holds the lock at `lockPath` (a PID reused by another program does
    /// not). What `rtes-stat` says about a counters file whose state is not `stopped`.
    public enum Holder: Equatable, Sendable {
        case running
        /// The process is gone, or the PID now belongs to something that does not hold the lock.
        case gone(reason: String)
    }

    public static func holder(pid: UInt64, lockPath: String) -> Holder {
        guard pid > 0, pid <= UInt64(Int32.max) else { return .gone(reason: "the counters file names no PID") }
        if kill(pid_t(pid), 0) != 0 && errno == ESRCH {
            return .gone(reason: "PID \(pid) is gone: the exchange ended without stopping (killed or crashed)")
        }
        if isHeld(path: lockPath) == false {
            return .gone(reason: "PID \(pid) exists but does not hold \(lockPath): the exchange ended without stopping and its PID was reused")
        }
        return .running
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingNewlines
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while out.count < 4 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += chunk[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func retryingEINTR(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}

private extension String {
    var trimmingNewlines: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == "\n" || $0 == " " }.reversed())
    }
}
