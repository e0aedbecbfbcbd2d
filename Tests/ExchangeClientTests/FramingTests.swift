import ExchangeClient
import ExchangeCore
import ExchangeWire
import ExchangeTestSupport
import Foundation
import Testing

/// The client against a server the test drives byte by byte, on the test's own thread:
/// each piece of a split packet is written only after the client has read the piece before
/// it (the test checks how many bytes each read took), so the packets really arrive split
/// across reads — and many packets really arrive in one read. No sleep decides anything.
@Suite struct ClientFraming {
    @Test func reassemblesPacketsSplitAcrossReadsAndSplitsManyInOneRead() throws {
        let server = try ScriptedServer()
        defer { server.close() }
        let accepted = OUCHMessage.accepted(OUCHAccepted(
            timestamp: 34_200_000_000_000, token: OrderToken("SPLIT")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!,
            price: 2_300_000, timeInForce: .marketHours, firm: Firm("DEM1")!, display: .anonymous, reference: 42,
            capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live))
        let startOfDay = OUCHMessage.systemEvent(timestamp: 1, eventCode: OUCH.SystemEventCode.startOfDay)
        let client = try OrderEntryClient(port: server.port, options: .init(heartbeatInterval: nil))
        defer { client.close() }
        let connection = try server.accept()
        defer { connection.close() }

        // The Login Accepted in four pieces: the first three each in a read of its own,
        // buffered by the client's frame reader; the last one read by `login`.
        let login = packet { SoupBinTCP.loginAccepted(session: SoupSessionName("SESSION1")!, sequence: 7, to: $0) }
        let loginPieces = [login[0..<1], login[1..<2], login[2..<20], login[20...]]
        for piece in loginPieces.dropLast() {
            try connection.write(Array(piece))
            #expect(try readOnce(client) == piece.count)
            #expect(try client.connection.nextBufferedFrame() == nil)
        }
        try connection.write(Array(loginPieces.last!))
        #expect(try client.login(username: "DEMO1", password: "demo1pass") == .accepted(session: "SESSION1", nextSequence: 7))
        #expect(try connection.read(count: 49).count == 49)  // the Login Request

        // Four packets in one write, taken by one read.
        let four = sequenced(startOfDay) + sequenced(accepted)
            + packet { SoupBinTCP.serverHeartbeat(to: $0) }
            + packet { out in
                let hello: StaticString = "hello"
                return SoupBinTCP.debug(text: UnsafeRawBufferPointer(start: hello.utf8Start, count: hello.utf8CodeUnitCount), to: out)
            }
        try connection.write(four)
        #expect(try readOnce(client) == four.count)
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 7, message: startOfDay)))
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 8, message: accepted)))
        #expect(try client.receive(timeout: .seconds(2)) == .heartbeat)
        #expect(try client.receive(timeout: .seconds(2)) == .debug("hello"))

        // One packet in three reads, split inside the length field and inside the message.
        let split = sequenced(accepted)
        let splitPieces = [split[0..<1], split[1..<30], split[30...]]
        for piece in splitPieces.dropLast() {
            try connection.write(Array(piece))
            #expect(try readOnce(client) == piece.count)
            #expect(try client.connection.nextBufferedFrame() == nil)
        }
        try connection.write(Array(splitPieces.last!))
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 9, message: accepted)))

        try connection.write([0x00, 0x00])  // a length of 0
        #expect(throws: ClientError.malformedFrame(.zeroLength)) { try client.receive(timeout: .seconds(2)) }
    }
}

/// Reads once what the kernel holds for `client`, waiting (bounded) until it holds
/// something; returns how many bytes that read took (0 if nothing came within the bound).
func readOnce(_ client: OrderEntryClient) throws -> Int {
    var taken = 0
    try waitUntil(pollInterval: .microseconds(100)) {
        taken = try client.connection.receiveAvailable()
        return taken > 0
    }
    return taken
}

/// Bytes of one packet a SoupBinTCP writer produces.
func packet(_ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
    defer { buffer.deallocate() }
    return Array(UnsafeRawBufferPointer(start: buffer, count: write(buffer)))
}

/// An OUCH message in Sequenced Data.
func sequenced(_ message: OUCHMessage) -> [UInt8] {
    packet { out in
        let length = message.encode(to: out + SoupBinTCP.headerLength)
        return SoupBinTCP.sequencedDataHeader(payloadLength: length, to: out) + length
    }
}

/// A one-connection TCP server on loopback, driven by the test.
final class ScriptedServer {
    let listener: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 1) == 0 else {
            _ = Glibc.close(fd)
            throw ClientError.system(call: "bind/listen", errno: errno)
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The server's end of one connection, used from the test's thread.
    struct Connection {
        let fd: Int32

        /// Reads exactly `count` bytes (fewer if the peer closes or 5 s pass).
        func read(count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n <= 0 { break }
                got += n
            }
            return Array(bytes[0..<got])
        }

        /// Writes every byte (one `send` for a packet this small).
        func write(_ bytes: [UInt8]) throws {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == bytes.count else { throw ClientError.system(call: "send", errno: errno) }
        }

        func close() { _ = Glibc.close(fd) }
    }

    /// Accepts the connection a client has made (it waits in the listen queue).
    func accept() throws -> Connection {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw ClientError.system(call: "accept", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return Connection(fd: fd)
    }

    func close() { _ = Glibc.close(listener) }
}
