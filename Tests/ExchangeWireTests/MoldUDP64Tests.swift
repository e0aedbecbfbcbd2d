import ExchangeCore
import ExchangeTestSupport
import ExchangeWire
import Testing

@Suite struct MoldUDP64Tests {
    static let ts: Timestamp = 34_200_000_000_123

    @Test func encodesAndReadsAReRequest() {
        var out = [UInt8](repeating: 0, count: 20)
        let n = out.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: testSession, sequence: 3, count: 10, to: $0.baseAddress!) }
        #expect(n == 20)
        #expect(hexDigits(out) == "323631313231313733300000000000000003000a")
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
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
