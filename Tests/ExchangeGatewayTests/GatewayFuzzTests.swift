import ExchangeRuntime
import ExchangeTestRig
import Foundation
import OrderFlow
import Testing

/// Seeded random input on many connections at once: pure noise, noise after a valid login,
/// well-framed packets of random types, valid OUCH messages with bytes flipped, random length
/// fields, sent in random pieces and then read to the end or dropped. The process must not
/// crash, every connection must end with a counted reason, and the well-behaved session
/// beside them must see nothing.
///
/// `RTES_GATEWAY_FUZZ_SEED` and `RTES_GATEWAY_FUZZ_CONNECTIONS` run other or longer mixes.
@Suite struct GatewayFuzzing {
    static let seed = UInt64(ProcessInfo.processInfo.environment["RTES_GATEWAY_FUZZ_SEED"] ?? "") ?? 0x5EED_0F_F022
    static let connections = Int(ProcessInfo.processInfo.environment["RTES_GATEWAY_FUZZ_CONNECTIONS"] ?? "") ?? 48

    @Test func randomBytesOnManyConnectionsNeverDisturbAWellBehavedSession() throws {
        let knobs = ExchangeKnobs(
            maxConnections: Self.connections + 16,
            heartbeatIntervalMilliseconds: 100,
            idleTimeoutMilliseconds: 1_000,
            loginTimeoutMilliseconds: 200)
        try #require(ensureOpenFiles(2 * Self.connections + 256))
        var random = SplitMix64(seed: Self.seed)
        let accounts: [Credentials] = [.demo1, .demo2, .trader] + (1...7).map { Credentials.load($0) }
        let outcome = try withExchange(knobs) { exchange, bystander in
            var rounds = 0
            var remaining = Self.connections
            while remaining > 0 {
                let batch = min(remaining, 64)
                remaining -= batch
                rounds += 1
                var streams: [(client: SoupTestClient, bytes: [UInt8], hangUp: Int)] = []
                for _ in 0..<batch {
                    let bytes = Self.stream(&random, accounts: accounts)
                    streams.append((try SoupTestClient(port: exchange.port), bytes, Int(random.next() % 4)))
                }
                for stream in streams {
                    var offset = 0
                    while offset < stream.bytes.count {
                        let piece = min(stream.bytes.count - offset, 1 + Int(random.next() % 200))
                        if !stream.client.send(Array(stream.bytes[offset..<offset + piece])) { break }
                        offset += piece
                    }
                    bystander.keepAlive()
                }
                for stream in streams {
                    switch stream.hangUp {
                    case 0: stream.client.close()
                    case 1: stream.client.reset()
                    default:
                        // Read to the end: the login or idle timeout ends whatever is still open.
                        let (packets, end) = stream.client.readUntilClosed(timeout: 4, meanwhile: bystander.keepAlive)
                        #expect(end == .closed || end == .reset(ECONNRESET), "seed \(Self.seed): connection still open")
                        for packet in packets {
                            #expect(Self.isServerPacket(packet), "seed \(Self.seed): \(packet)")
                        }
                    }
                }
                bystander.roundTrip()
            }
            let accepted = UInt64(Self.connections + 1)
            #expect(exchange.waitFor(.seconds(5)) { $0.gatewayCount("closed_connections") == accepted - 1 },
                    "seed \(Self.seed): \(exchange.snapshot().gatewayCount("closed_connections")) of \(accepted - 1) closed")
            print("gateway fuzz: seed \(Self.seed), \(Self.connections) connections in \(rounds) rounds: \(exchange.snapshot().disconnects)")
        }
        let final = outcome.final
        let counted = final.disconnectsByReason.reduce(0) { $0 + $1.count }
        #expect(final.gatewayCount("accepted_connections") == UInt64(Self.connections + 1))
        #expect(final.gatewayCount("closed_connections") == UInt64(Self.connections + 1))
        let expected = UInt64(Self.connections + 1)
        #expect(counted == expected, "\(final.disconnects)")
        #expect(final.disconnects["shutdown"] == nil && final.disconnects["table_full"] == nil)
    }

    /// What a server may send: the packet types of SoupBinTCP 3.0 server → client, and OUCH
    /// 4.2 messages of their documented lengths inside Sequenced Data.
    static func isServerPacket(_ packet: ServerPacket) -> Bool {
        switch Character(UnicodeScalar(packet.type)) {
        case "A": packet.loginAccepted != nil
        case "J": packet.loginRejected == "A" || packet.loginRejected == "S"
        case "H", "Z": packet.payload.isEmpty
        case "+": !packet.payload.isEmpty
        case "S": packet.ouch.map { OUCHReply.lengths[$0.type] == $0.length } ?? false
        default: false
        }
    }

    /// One connection's bytes, of one of five kinds.
    static func stream(_ random: inout SplitMix64, accounts: [Credentials]) -> [UInt8] {
        let login = Client.login(accounts[Int(random.next() % UInt64(accounts.count))])
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        switch random.next() % 5 {
        case 0:
            return noise(1 + Int(random.next() % 600))
        case 1:
            return login + noise(1 + Int(random.next() % 600))
        case 2:
            var bytes = login
            for _ in 0..<(1 + random.next() % 20) {
                let types = Array("LUROS+AHZJQX\u{0}".utf8)
                bytes += Client.packet(Character(UnicodeScalar(types[Int(random.next() % UInt64(types.count))])),
                                       noise(Int(random.next() % 60)))
            }
            return bytes
        case 3:
            var bytes = login
            for i in 0..<(1 + random.next() % 20) {
                var message: [UInt8] = switch random.next() % 4 {
                case 0: Client.enter("FZ\(i)", "S", 100, "AAPL", price(250))
                case 1: Client.replace("FZ\(i)", "FY\(i)", 100, price(251))
                case 2: Client.cancel("FZ\(i)")
                default: Client.modify("FZ\(i)", "S", 50)
                }
                for _ in 0..<(random.next() % 3) {
                    message[Int(random.next() % UInt64(message.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                if random.next() % 8 == 0 { message.removeLast(Int(random.next() % UInt64(message.count))) }
                var packet = Client.unsequenced(message)
                if random.next() % 8 == 0 { packet[Int(random.next() % UInt64(packet.count))] ^= 0x40 }
                bytes += packet
            }
            return bytes
        default:
            var bytes = random.next() % 2 == 0 ? login : []
            for _ in 0..<(1 + random.next() % 4) {
                let length = Int(random.next() % 1_100)
                bytes += [UInt8(length >> 8), UInt8(length & 0xFF)] + noise(min(length, Int(random.next() % 1_100)))
            }
            return bytes
        }
    }
}
