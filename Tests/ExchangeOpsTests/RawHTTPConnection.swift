import ExchangeTestSupport
import Glibc

/// A loopback TCP connection for hostile admin-plane tests: sends bytes as they are (no HTTP
/// client would send these), reads what comes back, and tells whether the server closed it.
/// Non-blocking; every wait is bounded by a `Deadline`.
final class RawHTTPConnection {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks SO_RCVBUF (a client that reads
    /// slowly fills it sooner).
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError("socket: errno \(errno)") }
        if var size = receiveBuffer {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw RawHTTPError("connect: errno \(error)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { Glibc.close(fd) }

    /// Writes as much of `bytes` as the kernel takes now; how much it took (0 when full or closed).
    @discardableResult
    func sendSome(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return max(0, n)
    }

    /// Writes all of `bytes`, waiting (bounded) for room; false if the connection failed first.
    func sendAll(_ text: String, deadline: Deadline = Deadline(after: .seconds(5))) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                bytes = bytes.dropFirst(n)
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                if deadline.hasPassed { return false }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, deadline.remainingMilliseconds(cap: 100))
            } else {
                return false
            }
        }
        return true
    }

    /// What the server sent until it closed the connection, and whether it did before `deadline`.
    func readUntilClosed(deadline: Deadline = Deadline(after: .seconds(5))) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                return (received, true)  // end of stream, or reset
            } else {
                if deadline.hasPassed { return (received, false) }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, deadline.remainingMilliseconds(cap: 100))
            }
        }
    }

    /// Reads until `count` bytes of a response containing `marker` have arrived (bounded);
    /// the text read, or nil when the connection closed or the deadline passed first.
    func readResponse(containing marker: String, deadline: Deadline = Deadline(after: .seconds(5))) -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if text.contains(marker) { return text }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                return nil
            } else {
                if deadline.hasPassed { return nil }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, deadline.remainingMilliseconds(cap: 100))
            }
        }
    }

    /// Whether the server has closed the connection (end of stream or reset), even with
    /// answers still unread in the receive buffer (POLLRDHUP).
    var isClosedByPeer: Bool {
        let readHangUp: Int16 = 0x2000  // POLLRDHUP
        var p = pollfd(fd: fd, events: Int16(POLLIN) | readHangUp, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        return p.revents & (Int16(POLLHUP | POLLERR) | readHangUp) != 0
    }
}

struct RawHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// This process's resident set size in bytes (VmRSS in /proc/self/status).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        if text.hasPrefix("VmRSS:") {
            let digits = text.dropFirst(6).filter(\.isNumber)
            return (Int(digits) ?? 0) * 1_024
        }
    }
    return 0
}
