import ExchangeCore
import ExchangeWire
import Testing

/// A packet as the tests compare it: type and a copy of the payload.
struct CopiedFrame: Equatable, CustomStringConvertible {
    var type: UInt8
    var payload: [UInt8]
    init(_ frame: SoupFrame) {
        type = frame.type
        payload = Array(frame.payload)
    }
    init(type: UInt8, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }
    var description: String { "\(Character(UnicodeScalar(type)))[\(payload.count)]" }
}

/// What feeding a sequence of chunks produced.
struct FeedOutcome {
    var frames: [CopiedFrame] = []
    var error: SoupFramingError?
    var buffered = 0
}

/// Feeds `chunks` one by one (each in its own exact-size allocation), draining each.
func feed(_ reader: inout SoupFrameReader, _ chunks: [[UInt8]]) -> FeedOutcome {
    var outcome = FeedOutcome()
    for chunk in chunks {
        withPayload(chunk) { memory in
            var input = memory
            drain: while true {
                switch reader.next(&input) {
                case .frame(let frame): outcome.frames.append(CopiedFrame(frame))
                case .needMoreData:
                    #expect(input.count == 0, "needMoreData with input left")
                    break drain
                case .malformed(let error):
                    outcome.error = error
                    break drain
                }
            }
        }
        if outcome.error != nil { break }
    }
    outcome.buffered = reader.bufferedBytes
    return outcome
}

/// A session's worth of mixed packets, client and server types, payloads of 0 to 80 bytes.
func mixedStream() -> (bytes: [UInt8], frames: [CopiedFrame]) {
    var bytes: [UInt8] = []
    var frames: [CopiedFrame] = []
    func add(_ packet: [UInt8]) {
        bytes += packet
        frames.append(CopiedFrame(type: packet[2], payload: Array(packet[3...])))
    }
    add(written { SoupBinTCP.loginRequest(username: SoupUsername("u1")!, password: SoupPassword("p1")!, to: $0) })
    add(written { SoupBinTCP.loginAccepted(session: SoupSessionName("S1")!, sequence: 1, to: $0) })
    add(written { SoupBinTCP.serverHeartbeat(to: $0) })
    add(written { out in
        let n = OUCHInboundEncoder.enter(token: Fixture.token, side: .buy, shares: 100, symbol: Fixture.symbol,
                                         price: 1_502_500, to: out + 3)
        return SoupBinTCP.unsequencedDataHeader(payloadLength: n, to: out) + n
    })
    add(written { SoupBinTCP.clientHeartbeat(to: $0) })
    add(written { out in
        let n = OUCHOutbound.replaced(
            timestamp: 1, token: Fixture.token2, side: .sell, shares: 5, symbol: Fixture.symbol, price: 10_000,
            timeInForce: .marketHours, firm: Fixture.firm, display: .anonymous, reference: 9, capacity: .agency,
            intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live, previousToken: Fixture.token,
            to: out + 3)
        return SoupBinTCP.sequencedDataHeader(payloadLength: n, to: out) + n
    })
    add(written { SoupBinTCP.debug(text: UnsafeRawBufferPointer(start: nil, count: 0), to: $0) })
    add(written { SoupBinTCP.endOfSession(to: $0) })
    return (bytes, frames)
}

@Suite struct SoupFrameReaderTests {
    @Test func readsManyPacketsFromOneInputWithoutCopying() {
        let (bytes, expected) = mixedStream()
        var reader = SoupFrameReader(maximumPacketLength: 81)
        var frames: [CopiedFrame] = []
        bytes.withUnsafeBytes { memory in
            var input = memory
            while case .frame(let frame) = reader.next(&input) {
                // Zero copy: the payload lies inside the caller's input.
                #expect(frame.payload.count == 0 || (frame.payload.baseAddress! >= memory.baseAddress!
                    && frame.payload.baseAddress! + frame.payload.count <= memory.baseAddress! + memory.count))
                frames.append(CopiedFrame(frame))
            }
            #expect(input.count == 0)
        }
        #expect(frames == expected)
        #expect(reader.bufferedBytes == 0)
    }

    @Test func yieldsTheSamePacketsWhereverTheStreamIsSplit() {
        let (bytes, expected) = mixedStream()
        for split in 0...bytes.count {
            var reader = SoupFrameReader(maximumPacketLength: 81)
            let outcome = feed(&reader, [Array(bytes[..<split]), Array(bytes[split...])])
            #expect(outcome.frames == expected, "split at \(split)")
            #expect(outcome.error == nil)
            #expect(outcome.buffered == 0)
        }
    }

    @Test func yieldsTheSamePacketsWhereverTwoSplitsFall() {
        let (bytes, expected) = mixedStream()
        for first in stride(from: 0, through: bytes.count, by: 3) {
            for second in first...bytes.count {
                var reader = SoupFrameReader(maximumPacketLength: 81)
                let outcome = feed(&reader, [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])])
                if outcome.frames != expected {
                    Issue.record("splits at \(first) and \(second): \(outcome.frames)")
                    return
                }
            }
        }
    }

    @Test func yieldsTheSamePacketsFedOneByteAtATime() {
        let (bytes, expected) = mixedStream()
        var reader = SoupFrameReader(maximumPacketLength: 81)
        let outcome = feed(&reader, bytes.map { [$0] })
        #expect(outcome.frames == expected)
        #expect(outcome.buffered == 0)
    }

    @Test func keepsASplitLengthFieldAcrossCalls() {
        var reader = SoupFrameReader(maximumPacketLength: 16)
        var outcome = feed(&reader, [[0x00]])
        #expect(outcome.frames.isEmpty)
        #expect(outcome.buffered == 1)
        outcome = feed(&reader, [[0x03]])
        #expect(outcome.buffered == 2)
        outcome = feed(&reader, [[0x55, 0xAA, 0xBB, 0x00]])
        #expect(outcome.frames == [CopiedFrame(type: 0x55, payload: [0xAA, 0xBB])])
        #expect(outcome.buffered == 1)
    }

    @Test func waitsForALengthThatPromisesMoreThanArrived() {
        let packet: [UInt8] = [0x00, 0x32] + [0x53] + (1...49).map { UInt8($0) }   // length 50
        var reader = SoupFrameReader(maximumPacketLength: 81)
        var outcome = feed(&reader, [Array(packet[..<12])])
        #expect(outcome.frames.isEmpty)
        #expect(outcome.error == nil)
        #expect(outcome.buffered == 12)
        outcome = feed(&reader, [Array(packet[12..<30]), Array(packet[30..<51])])
        #expect(outcome.frames.isEmpty)
        #expect(outcome.buffered == 51)
        outcome = feed(&reader, [Array(packet[51...]) + [0x00, 0x01, 0x48]])
        #expect(outcome.frames == [CopiedFrame(type: 0x53, payload: Array(packet[3...])), CopiedFrame(type: 0x48, payload: [])])
        #expect(outcome.buffered == 0)
    }

    @Test func needsMoreDataForAnEmptyInput() throws {
        var reader = SoupFrameReader(maximumPacketLength: 8)
        var input = UnsafeRawBufferPointer(start: nil, count: 0)
        let next = reader.next(&input)
        let needsMoreData: Bool = if case .needMoreData = next { true } else { false }
        try #require(needsMoreData, "expected needMoreData")
        #expect(reader.bufferedBytes == 0)
    }

    @Test func refusesAZeroLength() {
        var reader = SoupFrameReader(maximumPacketLength: 81)
        let outcome = feed(&reader, [[0x00, 0x01, 0x48, 0x00, 0x00, 0x00, 0x01, 0x48]])
        #expect(outcome.frames == [CopiedFrame(type: 0x48, payload: [])])
        #expect(outcome.error == .zeroLength)
    }

    @Test func refusesALengthAboveTheMaximumEvenWhenItArrivesSplit() {
        for chunks in [[[0x00, 0x52]], [[0x00], [0x52]]] as [[[UInt8]]] {
            var reader = SoupFrameReader(maximumPacketLength: 81)
            #expect(feed(&reader, chunks).error == .tooLong(82))
        }
        var reader = SoupFrameReader(maximumPacketLength: 81)
        #expect(feed(&reader, [[0xFF, 0xFF]]).error == .tooLong(65535))
    }

    @Test func acceptsExactlyTheMaximumLength() {
        var reader = SoupFrameReader(maximumPacketLength: 3)
        let outcome = feed(&reader, [[0x00, 0x03, 0x2B, 0x01], [0x02]])
        #expect(outcome.frames == [CopiedFrame(type: 0x2B, payload: [1, 2])])
        var whole = SoupFrameReader(maximumPacketLength: 3)
        #expect(feed(&whole, [[0x00, 0x03, 0x2B, 0x01, 0x02]]).frames == [CopiedFrame(type: 0x2B, payload: [1, 2])])
    }

    @Test func staysMalformedUntilReset() {
        var reader = SoupFrameReader(maximumPacketLength: 81)
        #expect(feed(&reader, [[0x00, 0x00]]).error == .zeroLength)
        #expect(feed(&reader, [[0x00, 0x01, 0x48]]).error == .zeroLength)
        reader.reset()
        let outcome = feed(&reader, [[0x00, 0x01, 0x48]])
        #expect(outcome.error == nil)
        #expect(outcome.frames == [CopiedFrame(type: 0x48, payload: [])])
    }

    @Test func resetDropsAPartialPacket() {
        var reader = SoupFrameReader(maximumPacketLength: 81)
        _ = feed(&reader, [[0x00, 0x05, 0x53, 0x01]])
        #expect(reader.bufferedBytes == 4)
        reader.reset()
        #expect(reader.bufferedBytes == 0)
        #expect(feed(&reader, [[0x00, 0x01, 0x5A]]).frames == [CopiedFrame(type: 0x5A, payload: [])])
    }
}
