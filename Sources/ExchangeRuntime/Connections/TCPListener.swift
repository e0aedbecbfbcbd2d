import CExchangeShim

/// A listening TCP socket (`rtes_tcp_listen`: non-blocking, close-on-exec, SO_REUSEADDR),
/// owned: closed when the listener goes. Opened where the process starts, so that a port
/// in use is reported there, then handed to a `ConnectionTable`, which accepts on it.
public struct TCPListener: ~Copyable, @unchecked Sendable {
    /// The listening descriptor.
    public let descriptor: Int32
    /// The address and port actually bound (the port the kernel chose when asked for 0).
    public let address: UInt32
    public let port: UInt16

    /// - Parameters:
    ///   - address: IPv4 address in host byte order (0: every interface).
    ///   - port: 0 for any free port.
    /// - Throws: `SystemError` naming the address and port, e.g. EADDRINUSE when the port
    ///   is taken.
    public init(address: UInt32, port: UInt16, backlog: Int32 = 1_024) throws(SystemError) {
        let where_ = "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF):\(port)"
        let fd = rtes_tcp_listen(address, port, backlog)
        guard fd >= 0 else { throw SystemError(call: "listen", errno: -fd, detail: "TCP \(where_)") }
        let bound = rtes_socket_local_port(fd)
        guard bound >= 0 else {
            _ = rtes_close(fd)
            throw SystemError(call: "getsockname", errno: -bound, detail: "TCP \(where_)")
        }
        descriptor = fd
        self.address = address
        self.port = UInt16(truncatingIfNeeded: bound)
    }

    deinit {
        _ = rtes_close(descriptor)
    }
}
