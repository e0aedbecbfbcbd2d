import ExchangeCore
import ExchangeMarketData
import ExchangeTestSupport
import ExchangeWire
import Testing

/// The publisher's MoldUDP64 packets: what goes in each, heartbeats, end of session, size.
@Suite struct FeedPublisherPacketTests {
    static let ts: Timestamp = 34_200_000_000_123

    @Test func packsMessagesBehindAHeaderWithTheFirstSequenceAndTheCount() {
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: [spec("AAPL", reference: 2_300_000)],
                                      packetSlots: 4, historyMessages: 16, orderCapacity: 16)
        // Sequence numbers 1…4 first, so the packet under test starts at 5.
        for _ in 0..<4 { publisher.publish(.systemEvent(.init(timestamp: Self.ts, code: .startOfMessages))) }
        publisher.flush()
        _ = publisher.packets.takeReady().map { publisher.packets.complete($0) }
        publisher.publish(.orderDelete(.init(locate: 1, timestamp: Self.ts, reference: 42)))
        publisher.publish(.orderCancel(.init(locate: 1, timestamp: Self.ts, reference: 42, canceledShares: 50)))
        publisher.flush()
        let slot = publisher.packets.takeReady()!
        let packet = Array(UnsafeRawBufferPointer(start: publisher.packets.bytes(slot), count: publisher.packets.length(slot)))
        #expect(hexDigits(packet) == "3236313132313137333000000000000000050002001344000100001f1aced9f07b000000000000002a0017"
            + "58000100001f1aced9f07b000000000000002a00000032")
    }

    @Test func writesHeartbeatsAndEndOfSessionWithTheNextSequenceNumber() {
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: [spec("AAPL", reference: 2_300_000)],
                                      packetSlots: 8, historyMessages: 16, orderCapacity: 16)
        for _ in 0..<6 { publisher.publish(.systemEvent(.init(timestamp: Self.ts, code: .startOfMessages))) }
        publisher.heartbeat()
        _ = publisher.packets.takeReady()
        let heartbeat = publisher.packets.takeReady()!
        #expect(hexDigits(UnsafeRawBufferPointer(start: publisher.packets.bytes(heartbeat), count: publisher.packets.length(heartbeat)))
            == "3236313132313137333000000000000000070000")
        while !publisher.advanceClosing(timestamp: Self.ts) {}
        var last = -1
        while let s = publisher.packets.takeReady() { last = s }
        #expect(hexDigits(UnsafeRawBufferPointer(start: publisher.packets.bytes(last), count: publisher.packets.length(last)))
            == "3236313132313137333000000000000000" + "0a" + "ffff")  // M, E, C took 7, 8, 9: the next is 10
    }

    @Test func neverLetsAPacketPassTheConfiguredPayload() throws {
        var publisher = FeedPublisher(session: testSession, maxPayload: 100, instruments: [spec("AAPL", reference: 2_300_000)],
                                      packetSlots: 64, historyMessages: 256, orderCapacity: 16)
        for i in 0..<50 {
            publisher.publish(.addOrder(.init(locate: 1, timestamp: Self.ts, reference: UInt64(i + 1), side: ITCH.buy, shares: 1,
                                              symbol: aapl, price: 100)))
        }
        publisher.flush()
        var total = 0
        var expectedSequence: UInt64 = 1
        while let slot = publisher.packets.takeReady() {
            let length = publisher.packets.length(slot)
            #expect(length <= 100)
            let packet = UnsafeRawBufferPointer(start: publisher.packets.bytes(slot), count: length)
            let read = try MoldUDP64.readPacket(packet).get()
            #expect(read.sequence == expectedSequence)
            #expect(read.count == 2)  // 20 + 2 × 38 = 96; a third would make 134
            expectedSequence += UInt64(read.count)
            total += Int(read.count)
        }
        #expect(total == 50)
    }
}
