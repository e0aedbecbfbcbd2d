import Glibc

/// The calling thread's timer slack: how late the kernel may end its timed waits (50 µs by
/// default). The load generator's waits end just before the next request is due; a slack
/// of 1 µs keeps them from ending after it.
enum TimerSlack {
    /// Sets the calling thread's timer slack to 1 µs (Linux: /proc/TID/timerslack_ns; by
    /// default 50 µs, by which every timed wait may end late). Returns the old value, or nil
    /// when it could not be changed (nothing else depends on it).
    static func reduce() -> String? {
        guard let old = read(), set("1000") else { return nil }
        return old
    }

    /// /proc/TID/timerslack_ns of the calling thread (TID from the /proc/thread-self link).
    static func path() -> String? {
        var link = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &link, link.count - 1)
        guard n > 0, let tid = String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "/").last
        else { return nil }
        return "/proc/\(tid)/timerslack_ns"
    }

    static func read() -> String? {
        guard let path = path() else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).filter { $0 != "\n" }
    }

    @discardableResult
    static func set(_ value: String) -> Bool {
        guard let path = path() else { return false }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.utf8.withContiguousStorageIfAvailable { write(fd, $0.baseAddress, $0.count) == $0.count } ?? false
    }
}
