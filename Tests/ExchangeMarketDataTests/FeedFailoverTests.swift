import ExchangeClock
import ExchangeFeed
import ExchangeWire
import Glibc
import Testing

/// A receiver given backup re-request servers (docs/FAILOVER.md, "The feed"): a request repeated
/// for the same gap goes to the next server, round the list. Two UDP sockets of the test stand
/// for the primary's and the standby's re-request servers; time is a `ManualClock`.
@Suite struct FeedFailoverTests {
    /// A UDP socket on 127.0.0.1 (port from the kernel), with a receive timeout.
    static func udpSocket() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        try #require(bound == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// The first sequence number of the request that arrives on `fd` (5 s at most), nil if none.
    static func request(on fd: Int32) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return buffer.withUnsafeBytes { MoldUDP64.readRequest(UnsafeRawBufferPointer(rebasing: $0[0..<n]))?.sequence }
    }

    static func nothing(on fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        return buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) } < 0
    }

    @Test func aRequestRepeatedForTheSameGapGoesToTheNextReRequestServer() throws {
        let primary = try Self.udpSocket()
        let standby = try Self.udpSocket()
        defer { close(primary.fd); close(standby.fd) }
        let group = FeedRig.uniqueGroup() &+ 4
        let port = UInt16(freeUDPPort())
        let clock = ManualClock()
        let client = try FeedClient(group: group, port: port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001, retransmitPort: primary.port,
                                    retransmitBackups: [FeedServiceAddress(host: 0x7F00_0001, port: standby.port)],
                                    instrumentCount: 4, orderCapacity: 64, clock: clock)

        // A live packet at sequence 5: messages 1-4 are missing.
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(sender) }
        var interface = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        _ = setsockopt(sender, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size))
        var loop: UInt8 = 1
        _ = setsockopt(sender, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, 1)
        var packet = [UInt8](repeating: 0, count: 20 + 2 + 12)
        packet.withUnsafeMutableBytes { raw in
            MoldUDP64.writeHeader(session: SoupSessionName("FEEDFO")!, sequence: 5, count: 1, to: raw.baseAddress!)
            raw[20] = 0
            raw[21] = 12
            raw[22] = ITCH.MessageType.systemEvent
            raw[33] = UInt8(ascii: "O")
        }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_addr.s_addr = group.bigEndian
        to.sin_port = port.bigEndian
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        try #require(sent == packet.count)
        var polls = 0
        while client.multicastPackets == 0 && polls < 100 {
            client.poll(timeoutMilliseconds: 50)
            polls += 1
        }
        try #require(client.multicastPackets == 1, "the live packet did not arrive")

        // The first request goes to the primary's server.
        #expect(Self.request(on: primary.fd) == 1)
        #expect(Self.nothing(on: standby.fd))
        // Unanswered for the retry time: the repeat goes to the standby's, then round to the primary's.
        clock.advance(milliseconds: 60)
        client.poll(timeoutMilliseconds: 0)
        #expect(Self.request(on: standby.fd) == 1)
        #expect(client.retransmitIndex == 1)
        clock.advance(milliseconds: 60)
        client.poll(timeoutMilliseconds: 0)
        #expect(Self.request(on: primary.fd) == 1)
        #expect(client.retransmitIndex == 0)
    }
}
