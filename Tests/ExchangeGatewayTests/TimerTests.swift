import ExchangeClock
import ExchangeConfig
import ExchangeGateway
import ExchangeRuntime
import ExchangeTestRig
import Glibc
import Testing

/// What happens with time — server heartbeats, the idle and login timeouts, the flood limit —
/// with the gateway on a `ManualClock` (`GatewayEngineRig`, both agents on the test's
/// thread): the test moves the gateway's time; no wall-clock wait decides an outcome (waits
/// for the kernel to deliver bytes are bounded, and only ever wait for something that must
/// come).
@Suite struct GatewayTimers {
    static func rig(_ knobs: ExchangeKnobs, clock: ManualClock) throws -> GatewayEngineRig<ManualClock> {
        try GatewayEngineRig(configuration: StalledEngine.configuration(knobs), clock: clock)
    }

    static func disconnects(_ memory: RigMemory) -> [String: UInt64] { memory.counters.snapshot().disconnects }

    @Test func sendsAServerHeartbeatAfterASilenceOfTheHeartbeatInterval() throws {
        let clock = ManualClock()
        var rig = try Self.rig(ExchangeKnobs(heartbeatIntervalMilliseconds: 50), clock: clock)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        for _ in 0..<4 {
            rig.advance(clock, milliseconds: 49)
            #expect(rig.next(client, seconds: 0.05) == .timeout, "nothing before the interval has passed")
            rig.advance(clock, milliseconds: 1)
            #expect(rig.next(client).packet?.isHeartbeat == true, "a heartbeat once it has")
        }
        rig.advance(clock, milliseconds: 1)
        #expect(memory.counters.snapshot().gatewayCount("heartbeats_sent") == 4)
        client.send(Client.logout)
        #expect(rig.next(client) == .closed)
        rig.shutDown()
        memory.release()
    }

    @Test func keepsAClientThatSendsHeartbeatsAndDropsOneThatFallsSilent() throws {
        let clock = ManualClock()
        var rig = try Self.rig(ExchangeKnobs(heartbeatIntervalMilliseconds: 100, idleTimeoutMilliseconds: 500), clock: clock)
        let memory = rig.memory
        let talker = try SoupTestClient(port: rig.port)
        talker.send(Client.login(.demo1))
        #expect(rig.next(talker).packet?.loginAccepted != nil)
        let silent = try SoupTestClient(port: rig.port)
        silent.send(Client.login(.demo2))
        #expect(rig.next(silent).packet?.loginAccepted != nil)
        var silentPackets: [ServerPacket] = []
        var silentEnd: SoupTestClient.Event?
        // Twelve steps of 100 ms: the talker outlives the idle timeout twice.
        for step in 1...12 {
            talker.send(Client.heartbeat)
            rig.run(seconds: 0.005)
            rig.advance(clock, milliseconds: 100)
            while silentEnd == nil {
                let event = rig.next(silent, seconds: 0.02)
                if let packet = event.packet { silentPackets.append(packet) } else {
                    if event != .timeout { silentEnd = event }
                    break
                }
            }
            if step == 5 { #expect(silentEnd == nil, "still open at exactly the idle timeout") }
        }
        #expect(silentPackets.filter { !$0.isHeartbeat } == [DisconnectReason.idleTimeout.debugPacket])
        #expect(silentPackets.contains { $0.isHeartbeat })
        #expect(silentEnd == .closed)
        talker.send(Client.order("ALIVE1", "S", 100, "AAPL", price(231)))
        var answer: ServerPacket?
        while let packet = rig.next(talker).packet {
            if !packet.isHeartbeat { answer = packet; break }
        }
        #expect(answer?.ouch?.token == "ALIVE1")
        talker.send(Client.logout)
        while rig.next(talker).packet != nil {}
        rig.advance(clock, milliseconds: 1)
        #expect(Self.disconnects(memory) == ["idle_timeout": 1, "logout": 1])
        rig.shutDown()
        memory.release()
    }

    @Test func dropsAConnectionWhosePartialLoginNeverCompletesAtTheLoginTimeout() throws {
        let clock = ManualClock()
        var rig = try Self.rig(ExchangeKnobs(loginTimeoutMilliseconds: 200), clock: clock)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Array(Client.login(.demo1).prefix(20)))  // promises 47 bytes, sends 18 of them
        rig.run(seconds: 0.01)
        rig.advance(clock, milliseconds: 200)
        #expect(rig.next(client, seconds: 0.05) == .timeout, "not before the timeout has passed")
        rig.advance(clock, milliseconds: 1)
        #expect(rig.next(client).packet == DisconnectReason.loginTimeout.debugPacket)
        #expect(rig.next(client) == .closed)
        rig.advance(clock, milliseconds: 1)
        #expect(Self.disconnects(memory) == ["login_timeout": 1])
        #expect(memory.counters.snapshot().gatewayCount("protocol_errors") == 0)
        rig.shutDown()
        memory.release()
    }

    @Test func dropsASessionWhosePartialFrameNeverCompletesAtTheIdleTimeout() throws {
        let clock = ManualClock()
        var rig = try Self.rig(ExchangeKnobs(heartbeatIntervalMilliseconds: 100, idleTimeoutMilliseconds: 600), clock: clock)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        // Bytes that never make a whole packet do not count as hearing from the client.
        client.send(Array(Client.order("HALF1", "B", 100, "AAPL", price(229)).prefix(30)))
        rig.run(seconds: 0.01)
        var packets: [ServerPacket] = []
        for _ in 0..<6 {
            rig.advance(clock, milliseconds: 100)
            while let packet = rig.next(client, seconds: 0.02).packet { packets.append(packet) }
        }
        #expect(packets.count == 6 && packets.allSatisfy(\.isHeartbeat), "server heartbeats while silent, no close at 600 ms")
        rig.advance(clock, milliseconds: 1)
        #expect(rig.next(client).packet == DisconnectReason.idleTimeout.debugPacket)
        #expect(rig.next(client) == .closed)
        rig.advance(clock, milliseconds: 1)
        #expect(Self.disconnects(memory) == ["idle_timeout": 1])
        #expect(memory.counters.snapshot().gatewayCount("orders_in") == 0)
        rig.shutDown()
        memory.release()
    }

    @Test func disconnectsAClientThatSendsMorePacketsPerSecondThanTheLimit() throws {
        let clock = ManualClock()
        var rig = try Self.rig(ExchangeKnobs(maxMessagesPerSecond: 100), clock: clock)
        let memory = rig.memory
        // The clock stands still, so the buckets do not refill: exact counts.
        let calm = try SoupTestClient(port: rig.port)
        calm.send(Client.login(.demo2) + (0..<98).flatMap { _ in Client.heartbeat })  // 99 of the bucket's 100
        #expect(rig.next(calm).packet?.loginAccepted != nil)
        let flooder = try SoupTestClient(port: rig.port)
        flooder.send(Client.login(.demo1) + (0..<300).flatMap { _ in Client.heartbeat })
        #expect(rig.next(flooder).packet?.loginAccepted != nil)
        #expect(rig.next(flooder).packet == DisconnectReason.flood.debugPacket)
        let end = rig.next(flooder)
        #expect(end == .closed || end == .reset(ECONNRESET))
        // A second later the calm client's bucket is full again: 100 more packets go through
        // (98 heartbeats, an order, the Logout).
        rig.advance(clock, milliseconds: 1_000)
        calm.send((0..<98).flatMap { _ in Client.heartbeat } + Client.order("CALM1", "S", 100, "AAPL", price(231)))
        var calmAnswer: ServerPacket?
        while let packet = rig.next(calm).packet {
            if !packet.isHeartbeat { calmAnswer = packet; break }
        }
        #expect(calmAnswer?.ouch?.token == "CALM1")
        calm.send(Client.logout)
        #expect(rig.next(calm) == .closed)
        rig.advance(clock, milliseconds: 1)
        #expect(Self.disconnects(memory) == ["flood": 1, "logout": 1])
        #expect(memory.counters.snapshot().gatewayCount("protocol_errors") == 0)
        rig.shutDown()
        memory.release()
    }
}
