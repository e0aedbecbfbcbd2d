import CExchangeShim
import ExchangeRuntime
import Glibc

/// The market-data agent's datagram sockets (the feed, the re-request server), opened at
/// start (off the hot path); the snapshot service listens through the connection layer's
/// `TCPListener`. Every failure is a `SystemError` naming the call; addresses are IPv4 in
/// host byte order.
///
/// The sockets are blocking on purpose: io_uring never blocks the agent, and on a blocking
/// socket it waits for readiness itself (a full send buffer delays a packet rather than
/// losing it); on an O_NONBLOCK socket it would complete at once with EAGAIN instead.
public enum MarketDataSockets {
    /// What the feed socket obtained, for the start-up log.
    public struct FeedReport: Sendable, CustomStringConvertible {
        public var sendBufferBytes: Int
        public var forcedSendBuffer: Bool
        public var description: String {
            "send buffer \(sendBufferBytes) bytes" + (forcedSendBuffer ? " (SO_SNDBUFFORCE)" : "")
        }
    }

    /// A UDP socket connected to `group:port`: multicast leaves from `interface`, with `ttl`
    /// hops and loopback delivery as asked; the send buffer is `sendBuffer` bytes (forced past
    /// `net.core.wmem_max` where the process may).
    public static func openFeed(group: UInt32, port: UInt16, interface: UInt32, ttl: Int, loopback: Bool,
                                sendBuffer: Int) throws(SystemError) -> (Int32, FeedReport) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket(AF_INET, SOCK_DGRAM)", errno: errno) }
        do throws(SystemError) {
            var address = in_addr(s_addr: interface.bigEndian)
            try option(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &address, "setsockopt(IP_MULTICAST_IF)")
            var hops = Int32(ttl)
            try option(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &hops, "setsockopt(IP_MULTICAST_TTL)")
            var loop: Int32 = loopback ? 1 : 0
            try option(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, "setsockopt(IP_MULTICAST_LOOP)")
            var size = Int32(clamping: sendBuffer)
            var forced = true
            if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                forced = false
                try option(fd, SOL_SOCKET, SO_SNDBUF, &size, "setsockopt(SO_SNDBUF)")
            }
            var obtained: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &obtained, &length)
            var destination = socketAddress(group, port)
            let rc = withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw SystemError(call: "connect(\(dotted(group)):\(port))", errno: errno) }
            return (fd, FeedReport(sendBufferBytes: Int(obtained), forcedSendBuffer: forced))
        } catch {
            close(fd)
            throw error
        }
    }

    /// A UDP socket bound to `address:port` (port 0: any free port). Returns it and its port.
    public static func openDatagramServer(address: UInt32, port: UInt16, receiveBuffer: Int) throws(SystemError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket(AF_INET, SOCK_DGRAM)", errno: errno) }
        do throws(SystemError) {
            var size = Int32(clamping: receiveBuffer)
            try option(fd, SOL_SOCKET, SO_RCVBUF, &size, "setsockopt(SO_RCVBUF)")
            return (fd, try bindAndName(fd, address: address, port: port))
        } catch {
            close(fd)
            throw error
        }
    }

    public static func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr = in_addr(s_addr: address.bigEndian)
        return a
    }

    public static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    static func bindAndName(_ fd: Int32, address: UInt32, port: UInt16) throws(SystemError) -> UInt16 {
        var local = socketAddress(address, port)
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw SystemError(call: "bind(\(dotted(address)):\(port))", errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: local.sin_port)
    }

    static func option<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: inout T, _ call: String) throws(SystemError) {
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<T>.size)) == 0 else {
            throw SystemError(call: call, errno: errno)
        }
    }
}
