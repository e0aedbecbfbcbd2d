import Glibc

/// A failed socket call of a feed client: which call and the errno it returned.
public struct FeedSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `"setsockopt(IP_ADD_MEMBERSHIP)"`.
    public let call: String
    /// The errno value (positive).
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The feed client's blocking sockets (tests and tools; not a hot path). Addresses are
/// IPv4 in host byte order.
enum FeedSockets {
    /// A UDP socket bound to `address:port` (port 0: any free port) with a receive buffer
    /// of about `receiveBuffer` bytes. Returns it and its port.
    static func openDatagramSocket(address: UInt32, port: UInt16, receiveBuffer: Int) throws(FeedSocketError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FeedSocketError(call: "socket(AF_INET, SOCK_DGRAM)", errno: errno) }
        var size = Int32(clamping: receiveBuffer)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let e = errno
            close(fd)
            throw FeedSocketError(call: "setsockopt(SO_RCVBUF)", errno: e)
        }
        var local = socketAddress(address, port)
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw FeedSocketError(call: "bind(\(dotted(address)):\(port))", errno: e)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: local.sin_port))
    }

    static func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr = in_addr(s_addr: address.bigEndian)
        return a
    }

    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }
}
