import ExchangeGateway
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// SoupBinTCP framing gone wrong: length fields of 0 or above the maximum, frames that never
/// complete, garbage, connections that vanish mid-frame. Each has one documented outcome
/// (docs: `DisconnectReason`) and a counter; the well-behaved session beside it sees nothing.
@Suite struct SoupFraming {
    @Test(arguments: [false, true])
    func closesAConnectionWhoseLengthFieldIsZero(loggedIn: Bool) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            if loggedIn { #expect(client.login(.demo1).packet?.loginAccepted != nil) }
            client.send([0x00, 0x00, ascii("R")])
            let (packets, end) = client.readUntilClosed()
            #expect(packets == [DisconnectReason.malformedFrame.debugPacket])
            #expect(end == .closed)
        }
        #expect(outcome.disconnects == ["malformed_frame": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("protocol_errors") == 1)
    }

    @Test(arguments: [1_025, 0xFFFF])
    func closesAConnectionWhoseLengthFieldIsAboveTheMaximum(length: Int) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            // A Debug packet one byte longer than the gateway takes, sent in full.
            client.send([UInt8(length >> 8), UInt8(length & 0xFF), ascii("+")] + [UInt8](repeating: 0x41, count: min(length - 1, 2_000)))
            let (packets, end) = client.readUntilClosed()
            #expect(packets == [DisconnectReason.malformedFrame.debugPacket])
            #expect(end == .closed || end == .reset(ECONNRESET))
        }
        #expect(outcome.disconnects == ["malformed_frame": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("protocol_errors") == 1)
    }

    @Test func reassemblesPacketsSplitIntoSingleBytesAndSplitsManyPacketsInOneSegment() throws {
        let outcome = try withExchange { exchange, _ in
            // Byte by byte: a login and three orders, one write per byte. How the kernel
            // segments them is its business: that every split of a packet is reassembled is
            // proven on the frame reader itself (ExchangeWireTests' SoupFrameReaderTests feed
            // every split point, every pair of split points and single bytes).
            let trickle = try SoupTestClient(port: exchange.port)
            let session = Client.login(.demo1) + (1...3).flatMap { Client.order("TR\($0)", "S", 100, "AAPL", price(240)) }
            for byte in session { trickle.send([byte]) }
            #expect(trickle.next().packet?.loginAccepted != nil)
            #expect(trickle.replies(3)?.map(\.token) == ["TR1", "TR2", "TR3"])
            // All at once: a login, 50 orders and a Logout in one write.
            let burst = try SoupTestClient(port: exchange.port)
            burst.send(Client.login(.demo2) + (1...50).flatMap { Client.order("BU\($0)", "S", 100, "AAPL", price(241)) } + Client.logout)
            let (packets, end) = burst.readUntilClosed()
            #expect(packets.first?.loginAccepted != nil)
            #expect(packets.dropFirst().compactMap(\.ouch).map(\.token) == (1...50).map { "BU\($0)" })
            #expect(end == .closed)
            #expect(trickle.logOut())
        }
        #expect(outcome.disconnects == ["logout": 3])
        #expect(outcome.otherOrdersIn == 53)
    }

    @Test func ignoresADebugPacketOfTheLargestAcceptedLength() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.debug(String(repeating: "d", count: 1_023)))  // length field 1,024
            client.send(Client.order("BIG1", "S", 100, "AAPL", price(231)))
            #expect(client.replies(1)?.first?.type == "A")
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
        #expect(outcome.final.gatewayCount("protocol_errors") == 0)
    }

    /// Garbage of several kinds, sent before login; each ends the one way its first bytes decide.
    @Test(arguments: [
        ("an HTTP request", Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), "malformed_frame"),
        ("TLS client hello", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + [UInt8](repeating: 0x5A, count: 64),
         "malformed_frame"),
        ("NUL bytes", [UInt8](repeating: 0, count: 64), "malformed_frame"),
        ("a well-framed unknown packet", Client.packet("?", Array("garbage".utf8)), "not_logged_in"),
        ("0xFF bytes", [UInt8](repeating: 0xFF, count: 64), "malformed_frame"),
    ])
    func closesAConnectionThatSendsGarbage(name: String, bytes: [UInt8], reason: String) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(bytes)
            let (packets, end) = client.readUntilClosed()
            let expected = DisconnectReason.allCases.first { $0.description == reason }!.debugPacket
            #expect(packets == [expected], "\(name)")
            #expect(end == .closed || end == .reset(ECONNRESET), "\(name)")
        }
        #expect(outcome.disconnects == [reason: 1, "logout": 1], "\(name)")
        #expect(outcome.otherOrdersIn == 0)
    }

    @Test func countsAConnectionClosedMidFrameAsPeerClosedAndSendsNothingToTheEngine() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Array(Client.order("CUT1", "B", 100, "AAPL", price(229)).prefix(30)))
            client.close()
            #expect(exchange.waitFor { $0.disconnects["peer_closed"] == 1 })
        }
        #expect(outcome.disconnects == ["peer_closed": 1, "logout": 1])
        #expect(outcome.otherOrdersIn == 0)
        #expect(outcome.final.gatewayCount("protocol_errors") == 0)
    }

    @Test func countsAConnectionResetMidFrameAsAConnectionError() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Array(Client.order("CUT2", "B", 100, "AAPL", price(229)).prefix(30)))
            client.reset()
            #expect(exchange.waitFor { $0.gatewayCount("closed_connections") == 1 })
        }
        #expect(outcome.disconnects == ["connection_error": 1, "logout": 1])
        #expect(outcome.otherOrdersIn == 0)
    }

    @Test func countsAConnectionClosedMidFrameBeforeLoginAsPeerClosed() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(Array(Client.login(.demo1).prefix(10)))
            client.close()
            #expect(exchange.waitFor { $0.disconnects["peer_closed"] == 1 })
        }
        #expect(outcome.disconnects == ["peer_closed": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("logins_accepted") == 1)  // the well-behaved session's only
    }
}
