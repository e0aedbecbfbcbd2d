import ExchangeCore
import ExchangeTestSupport
import ExchangeWire
import Testing

/// Golden bytes (`ITCHGoldens`), computed independently from the ITCH 5.0 layouts with Python's struct.pack.
@Suite struct ITCHCodecTests {
    static let ts: Timestamp = 34_200_000_000_123  // 09:30:00.000000123

    static let goldens = ITCHGoldens.all

    @Test(arguments: 0..<goldens.count)
    func encodesEveryMessageToItsPublishedLayout(_ i: Int) {
        let (name, message, golden) = Self.goldens[i]
        let bytes = encoded(message)
        #expect(hexDigits(bytes) == golden, "\(name)")
        #expect(bytes.count == message.length, "\(name)")
        #expect(ITCH.Length.of(type: bytes[0]) == bytes.count, "\(name)")
    }

    @Test(arguments: 0..<goldens.count)
    func decodesEveryGoldenMessageBackToItsValues(_ i: Int) {
        let (name, message, golden) = Self.goldens[i]
        #expect(decoded(bytes(hex: golden)) == .success(message), "\(name)")
    }

    @Test func wrapsATimestampPastMidnightIntoTheDay() {
        // The gateway's clock keeps counting past midnight; ITCH carries the time of day.
        let nextDay: Timestamp = ITCHEncoder.nanosecondsPerDay + Self.ts
        let bytes = encoded(.orderDelete(.init(locate: 3, timestamp: nextDay, reference: 1)))
        #expect(hexDigits(bytes[5..<11]) == "1f1aced9f07b")
        let lastNanosecond = encoded(.orderDelete(.init(locate: 3, timestamp: ITCHEncoder.nanosecondsPerDay - 1, reference: 1)))
        #expect(hexDigits(lastNanosecond[5..<11]) == "4e94914effff")
    }

    @Test func rejectsAMessageOfTheWrongLength() {
        var golden = bytes(hex: "44000100001f1aced9f07b000000000000002a")
        golden.append(0)
        #expect(decoded(golden) == .failure(.wrongLength(type: 0x44, expected: 19, actual: 20)))
        #expect(decoded(Array(golden.prefix(18))) == .failure(.wrongLength(type: 0x44, expected: 19, actual: 18)))
    }

    @Test func rejectsAnUnknownTypeAndAnEmptyBuffer() {
        #expect(decoded([0x5A, 0, 0]) == .failure(.unknownType(0x5A)))
        #expect(decoded([]) == .failure(.empty))
    }

    @Test func rejectsASideThatIsNeitherBuyNorSell() {
        var add = bytes(hex: "41000100001f1aced9f07b000000000000002a420000012c4141504c2020202000231e3c")
        add[19] = 0x54
        #expect(decoded(add) == .failure(.invalidCode(type: 0x41, offset: 19, value: 0x54)))
    }

    @Test func decodesEveryByteSequenceToAMessageOrAnError() {
        // Fuzz: random lengths and types, including every known type at its exact length.
        var random = SystemRandomNumberGenerator()
        let types: [UInt8] = [0x53, 0x52, 0x48, 0x41, 0x46, 0x45, 0x43, 0x58, 0x44, 0x55, 0x50, 0x51, 0x49, 0x00, 0xFF]
        for _ in 0..<20_000 {
            let type = types.randomElement(using: &random)!
            let length = Bool.random(using: &random) ? (ITCH.Length.of(type: type) ?? 5) : Int.random(in: 0...60, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = type }
            if bytes.count >= 5 { bytes[3] = 0; bytes[4] = 0 }  // tracking number: always 0 here
            if bytes.count >= 6 { bytes[5] = 0 }  // timestamps below 2^40 ns (a day is 8.64e13 < 2^47)
            if bytes.count >= 3 && type == ITCH.MessageType.systemEvent { bytes[1] = 0; bytes[2] = 0 }  // about no stock
            switch decoded(bytes) {
            case .success(let message):
                #expect(message.length == bytes.count)
                #expect(encoded(message) == bytes)
            case .failure(.wrongLength(_, let expected, let actual)):
                #expect(expected != actual && actual == bytes.count)
            case .failure: break
            }
        }
    }

    @Test func reEncodesEveryDecodedMessageToTheSameBytes() {
        // Whatever decodes must re-encode identically (tracking number aside, which is always 0 here).
        var random = SystemRandomNumberGenerator()
        var checked = 0
        for (_, _, golden) in Self.goldens {
            let base = bytes(hex: golden)
            for _ in 0..<500 {
                var mutated = base
                for i in 11..<mutated.count where Bool.random(using: &random) { mutated[i] = UInt8.random(in: 0...255, using: &random) }
                if case .success(let message) = decoded(mutated) {
                    #expect(encoded(message) == mutated)
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
    }

    @Test func describesEachMessageOnOneReadableLine() {
        let lines = Self.goldens.map { $0.1.description }
        #expect(lines.contains("A add order ref 42 B 300 AAPL @ 230.1500"))
        #expect(lines.contains("F add order (MPID ALCE) ref 43 S 200 AAPL @ 230.2000"))
        #expect(lines.contains("U replace ref 42 → 44 150 @ 230.1600"))
        #expect(lines.contains("X cancel ref 42 50 shares"))
        #expect(lines.contains("S system event O"))
        #expect(lines.contains("Q cross trade O 1500 AAPL @ 230.1000 match 10"))
        #expect(lines.contains("I imbalance O AAPL paired 1200 imbalance 300 B near 230.1000 far 230.1000 reference 230.0000"))
        #expect(lines.allSatisfy { !$0.contains("\n") && !$0.isEmpty })
    }

    @Test func refusesCrossAndImbalanceCodesOutsideTheirSets() {
        var cross = bytes(hex: "51000100001f1aced9f07b00000000000005dc4141504c2020202000231c48000000000000000a4f")
        cross[39] = 0x41  // A: an imbalance-only cross type
        #expect(decoded(cross) == .failure(.invalidCode(type: 0x51, offset: 39, value: 0x41)))
        var imbalance = bytes(hex: "49000100001f1aced9f07b00000000000004b0000000000000012c424141504c2020202000231c4800231c48002318604f4c")
        imbalance[27] = 0x58
        #expect(decoded(imbalance) == .failure(.invalidCode(type: 0x49, offset: 27, value: 0x58)))
    }

    @Test func bucketsThePriceVariationAsNasdaqDoes() {
        #expect(ITCH.priceVariation(price: 0, reference: 100) == 0x20)
        #expect(ITCH.priceVariation(price: 10_050, reference: 10_000) == 0x4C)  // 0.5 %
        #expect(ITCH.priceVariation(price: 10_100, reference: 10_000) == 0x31)  // 1 %
        #expect(ITCH.priceVariation(price: 9_050, reference: 10_000) == 0x39)   // 9.5 %
        #expect(ITCH.priceVariation(price: 11_000, reference: 10_000) == 0x41)  // 10 %
        #expect(ITCH.priceVariation(price: 12_500, reference: 10_000) == 0x42)  // 25 %
        #expect(ITCH.priceVariation(price: 20_000, reference: 10_000) == 0x43)  // 100 %
    }
}
