import ExchangeCore
import ExchangeMarketData
import ExchangeWire
import Testing

@Suite struct MoldUDP64Tests {
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
        #expect(hex(packet) == "3236313132313137333000000000000000050002001344000100001f1aced9f07b000000000000002a0017"
            + "58000100001f1aced9f07b000000000000002a00000032")
    }

    @Test func writesHeartbeatsAndEndOfSessionWithTheNextSequenceNumber() {
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: [spec("AAPL", reference: 2_300_000)],
                                      packetSlots: 8, historyMessages: 16, orderCapacity: 16)
        for _ in 0..<6 { publisher.publish(.systemEvent(.init(timestamp: Self.ts, code: .startOfMessages))) }
        publisher.heartbeat()
        _ = publisher.packets.takeReady()
        let heartbeat = publisher.packets.takeReady()!
        #expect(hex(UnsafeRawBufferPointer(start: publisher.packets.bytes(heartbeat), count: publisher.packets.length(heartbeat)))
            == "3236313132313137333000000000000000070000")
        while !publisher.advanceClosing(timestamp: Self.ts) {}
        var last = -1
        while let s = publisher.packets.takeReady() { last = s }
        #expect(hex(UnsafeRawBufferPointer(start: publisher.packets.bytes(last), count: publisher.packets.length(last)))
            == "3236313132313137333000000000000000" + "0a" + "ffff")  // M, E, C took 7, 8, 9: the next is 10
    }

    @Test func encodesAndReadsAReRequest() {
        var out = [UInt8](repeating: 0, count: 20)
        let n = out.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: testSession, sequence: 3, count: 10, to: $0.baseAddress!) }
        #expect(n == 20)
        #expect(hex(out) == "323631313231313733300000000000000003000a")
        let request = out.withUnsafeBytes { MoldUDP64.readRequest($0) }
        #expect(request == MoldUDP64.Request(session: testSession, sequence: 3, count: 10))
        #expect(Array(out.dropLast()).withUnsafeBytes { MoldUDP64.readRequest($0) } == nil)
    }

    @Test func readsAPacketAndRejectsTruncatedOrOverlongOnes() throws {
        let golden = bytes(hex: "3236313132313137333000000000000000050002001344000100001f1aced9f07b000000000000002a0017"
            + "58000100001f1aced9f07b000000000000002a00000032")
        try golden.withUnsafeBytes { raw in
            let packet = try MoldUDP64.readPacket(raw).get()
            #expect(packet.session == testSession && packet.sequence == 5 && packet.count == 2)
            var seen: [(UInt64, Int)] = []
            packet.forEachMessage { seen.append(($0, $1.count)) }
            #expect(seen.map(\.0) == [5, 6] && seen.map(\.1) == [19, 23])
        }
        #expect(Array(golden.dropLast()).withUnsafeBytes { MoldUDP64.readPacket($0).failureValue } == .truncatedBlock(index: 1))
        #expect((golden + [0]).withUnsafeBytes { MoldUDP64.readPacket($0).failureValue } == .trailingBytes(1))
        #expect(Array(golden.prefix(19)).withUnsafeBytes { MoldUDP64.readPacket($0).failureValue } == .shorterThanHeader(19))
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

extension Result {
    var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
