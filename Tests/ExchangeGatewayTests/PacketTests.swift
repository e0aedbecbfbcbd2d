import ExchangeGateway
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// Well-framed packets that a client may not send, or not yet, or not with that length; and
/// OUCH messages of unknown types or wrong lengths.
@Suite struct PacketsAndMessages {
    @Test func disconnectsAnOrderSentBeforeLoginWithADebugPacketSayingWhy() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(Client.order("EARLY1", "B", 100, "AAPL", price(229)))
            let (packets, end) = client.readUntilClosed()
            #expect(packets == [DisconnectReason.notLoggedIn.debugPacket])
            #expect(end == .closed)
        }
        #expect(outcome.disconnects == ["not_logged_in": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("protocol_errors") == 1)
        #expect(outcome.otherOrdersIn == 0)
    }

    @Test func ignoresHeartbeatsAndDebugBeforeLoginAndThenLogsIn() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(Client.heartbeat + Client.debug("hello") + Client.heartbeat)
            #expect(client.login(.demo1).packet?.loginAccepted?.sequence == 2)
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
    }

    @Test func closesWithoutAnyPacketOnLogoutBeforeLogin() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
    }

    /// Packet types a client may not send once logged in: unknown ones, the server's own, and
    /// a second Login Request.
    @Test(arguments: ["Q", "a", "S", "A", "J", "H", "Z", "L"] as [Character])
    func disconnectsAPacketTypeAClientMayNotSendAsAProtocolViolation(type: Character) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            let payload = type == "L" ? Array(Client.login(.demo1).dropFirst(3)) : Array("xyz".utf8)
            client.send(Client.packet(type, payload))
            let (packets, end) = client.readUntilClosed()
            #expect(packets == [DisconnectReason.protocolViolation.debugPacket])
            #expect(end == .closed)
        }
        #expect(outcome.disconnects == ["protocol_violation": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("protocol_errors") == 1)
    }

    @Test func disconnectsAClientHeartbeatWithAPayloadAsAProtocolViolation() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.packet("R", [0x20]))
            #expect(client.readUntilClosed() == ([DisconnectReason.protocolViolation.debugPacket], .closed))
        }
        #expect(outcome.disconnects == ["protocol_violation": 1, "logout": 1])
    }

    /// Login Request payloads of 45 and 47 bytes (46 is right), and one whose sequence number
    /// is not a number.
    @Test(arguments: [-1, 1, 0])
    func disconnectsALoginRequestOfTheWrongShapeAsAProtocolViolation(lengthChange: Int) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            var payload = Array(Client.login(.demo1).dropFirst(3))
            switch lengthChange {
            case -1: payload.removeLast()
            case 1: payload.append(0x20)
            default: payload.replaceSubrange(26..<46, with: alpha("12x", 20))
            }
            client.send(Client.packet("L", payload))
            #expect(client.readUntilClosed() == ([DisconnectReason.protocolViolation.debugPacket], .closed))
        }
        #expect(outcome.disconnects == ["protocol_violation": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("logins_accepted") == 1)
    }

    @Test(arguments: ["Z", "Q", "a", "S", "A", "E"] as [Character])
    func disconnectsAnUnknownOUCHMessageTypeAsMalformed(type: Character) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.unsequenced([ascii(type)] + [UInt8](repeating: 0x20, count: 18)))
            #expect(client.readUntilClosed() == ([DisconnectReason.malformedMessage.debugPacket], .closed))
        }
        #expect(outcome.disconnects == ["malformed_message": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("protocol_errors") == 1)
        #expect(outcome.otherOrdersIn == 0)
    }

    @Test func disconnectsAnEmptyUnsequencedDataPacketAsMalformed() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.unsequenced([]))
            #expect(client.readUntilClosed() == ([DisconnectReason.malformedMessage.debugPacket], .closed))
        }
        #expect(outcome.disconnects == ["malformed_message": 1, "logout": 1])
    }

    /// Enter (49), Replace (47), Cancel (19) and Modify (20), each one byte short and one long.
    @Test(arguments: ["O", "U", "X", "M"] as [Character], [-1, 1])
    func disconnectsAnOUCHMessageOfTheWrongLengthForItsTypeAsMalformed(type: Character, lengthChange: Int) throws {
        var message: [UInt8] = switch type {
        case "O": Client.enter("LEN1", "B", 100, "AAPL", price(229))
        case "U": Client.replace("LEN1", "LEN2", 100, price(229))
        case "X": Client.cancel("LEN1")
        default: Client.modify("LEN1", "B", 50)
        }
        if lengthChange < 0 { message.removeLast() } else { message.append(0x20) }
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.unsequenced(message))
            #expect(client.readUntilClosed() == ([DisconnectReason.malformedMessage.debugPacket], .closed))
        }
        #expect(outcome.disconnects == ["malformed_message": 1, "logout": 1])
        #expect(outcome.otherOrdersIn == 0)
    }

    @Test func ignoresADebugPacketFromALoggedInClient() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.debug("client says hello"))
            client.send(Client.order("DBG1", "S", 100, "AAPL", price(231)))
            #expect(client.replies(1)?.first?.token == "DBG1")
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
    }
}
