import ExchangeClient
import ExchangeCore
import ExchangeWire
import Foundation
import Testing

/// The client against a scripted server that controls how bytes arrive: packets split
/// across reads, many packets in one read, then a malformed length.
@Suite struct ClientFraming {
    @Test func reassemblesPacketsSplitAcrossReadsAndSplitsManyInOneRead() throws {
        let server = try ScriptedServer()
        let accepted = OUCHMessage.accepted(OUCHAccepted(
            timestamp: 34_200_000_000_000, token: OrderToken("SPLIT")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!,
            price: 2_300_000, timeInForce: .marketHours, firm: Firm("DEM1")!, display: .anonymous, reference: 42,
            capacity: 0x41, intermarketSweep: 0x4E, minimumQuantity: 0, crossType: 0x4E, state: .live))
        let startOfDay = OUCHMessage.systemEvent(timestamp: 1, eventCode: OUCH.SystemEventCode.startOfDay)
        server.run { connection in
            _ = connection.read(count: 49)  // the Login Request
            let login = packet { SoupBinTCP.loginAccepted(session: SoupSessionName("SESSION1")!, sequence: 7, to: $0) }
            for piece in [login[0..<1], login[1..<2], login[2..<20], login[20...]] {
                connection.write(Array(piece))
                usleep(20_000)
            }
            // Four packets in one write.
            connection.write(sequenced(startOfDay) + sequenced(accepted)
                + packet { SoupBinTCP.serverHeartbeat(to: $0) }
                + packet { out in
                    let hello: StaticString = "hello"
                    return SoupBinTCP.debug(text: UnsafeRawBufferPointer(start: hello.utf8Start, count: hello.utf8CodeUnitCount), to: out)
                })
            usleep(20_000)
            // One packet in three writes, the split inside the length field and the message.
            let split = sequenced(accepted)
            for piece in [split[0..<1], split[1..<30], split[30...]] {
                connection.write(Array(piece))
                usleep(20_000)
            }
            connection.write([0x00, 0x00])  // a length of 0
            usleep(200_000)
        }
        defer { server.finish() }

        let client = try OrderEntryClient(port: server.port, options: .init(heartbeatInterval: nil))
        defer { client.close() }
        #expect(try client.login(username: "DEMO1", password: "demo1pass") == .accepted(session: "SESSION1", nextSequence: 7))
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 7, message: startOfDay)))
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 8, message: accepted)))
        #expect(try client.receive(timeout: .seconds(2)) == .heartbeat)
        #expect(try client.receive(timeout: .seconds(2)) == .debug("hello"))
        #expect(try client.receive(timeout: .seconds(2)) == .sequenced(SequencedMessage(sequence: 9, message: accepted)))
        #expect(throws: ClientError.malformedFrame(.zeroLength)) { try client.receive(timeout: .seconds(2)) }
    }
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

/// A one-connection TCP server on loopback that runs a script on its own thread.
final class ScriptedServer: @unchecked Sendable {
    let listener: Int32
    let port: Int
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw ClientError.system(call: "bind/listen", errno: errno)
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    struct Connection {
        let fd: Int32

        func read(count: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n <= 0 { break }
                got += n
            }
            return Array(bytes[0..<got])
        }

        func write(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Accepts one connection and runs `script` with it on a thread of its own, then closes it.
    func run(_ script: @escaping @Sendable (Connection) -> Void) {
        let listener = self.listener
        let done = self.done
        Thread.detachNewThread {
            let fd = accept(listener, nil, nil)
            if fd >= 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                script(Connection(fd: fd))
                close(fd)
            }
            done.signal()
        }
    }

    /// Waits for the script to end and closes the listener.
    func finish() {
        _ = done.wait(timeout: .now() + 10)
        close(listener)
    }
}
