import ExchangeCore
import ExchangeWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Seeded fuzzing in every test run: a few thousand random and mutated inputs through
// WireFuzzOracle. RTES_FUZZ_ITERATIONS raises the count for a long run, RTES_FUZZ_SEED
// picks another seed (see README.md in this directory; for coverage-guided fuzzing under
// AddressSanitizer, .ci/fuzz-wire).

enum FuzzSettings {
    static func environment(_ name: String) -> UInt64? {
        guard let raw = getenv(name) else { return nil }
        return UInt64(String(cString: raw))
    }
    static var iterations: Int { Int(environment("RTES_FUZZ_ITERATIONS") ?? 4_000) }
    static var seed: UInt64 { environment("RTES_FUZZ_SEED") ?? 20_260_105 }
}

@Suite struct WireFuzzing {
    /// Runs `count` inputs whose bytes come from `make`; stops at the first failure and
    /// reports the input that caused it.
    func fuzz(_ count: Int, seed: UInt64, _ make: (inout SplitMix64) -> [UInt8]) {
        var random = SplitMix64(seed: seed)
        for iteration in 0..<count {
            let input = make(&random)
            if let failure = input.withUnsafeBytes({ WireFuzzOracle.run($0) }) {
                Issue.record("iteration \(iteration), seed \(seed): \(failure)\ninput: \(input)")
                return
            }
        }
    }

    @Test func framesAndDecodesRandomBytesWithoutCrashing() {
        fuzz(FuzzSettings.iterations, seed: FuzzSettings.seed) { random in
            let length = Int(random.next() % 300)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !bytes.isEmpty { bytes[0] &= 0xFE }   // raw-stream mode
            // Small length fields make many frames: keep some high bytes zero.
            for i in stride(from: 2, to: bytes.count, by: 7) where random.next() % 2 == 0 { bytes[i] = 0 }
            return bytes
        }
    }

    @Test func framesAndDecodesMutatedValidSessionsWithoutCrashing() {
        fuzz(FuzzSettings.iterations, seed: FuzzSettings.seed &+ 1) { random in
            // Mode byte, maximum-length byte, packet count, packet picks, then 0 to 3
            // mutations, so that most packets stay decodable and some do not.
            let packets = Int(random.next() % 16)
            let mutations = Int(random.next() % 4)
            var bytes: [UInt8] = [1, UInt8(truncatingIfNeeded: random.next()), UInt8(packets)]
            bytes += (0...packets).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            bytes += (0..<(3 * mutations)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return bytes
        }
    }

    @Test func decodesEveryMessageTypeWithEveryByteMutated() {
        // Each OUCH payload in the seed set, each byte position, a few values: exercises
        // every rejectable and malformed branch deterministically.
        for packet in WireFuzzOracle.seedPackets where packet.count > 3 {
            let payload = Array(packet[3...])
            for position in payload.indices {
                for value: UInt8 in [0x00, 0x20, 0x42, 0x7F, 0xFF] {
                    var mutated = payload
                    mutated[position] = value
                    if let failure = WireFuzzOracle.checkPayload(mutated) {
                        Issue.record("\(failure) at \(position)=\(value)")
                        return
                    }
                }
            }
            for cut in 0..<payload.count {
                if let failure = WireFuzzOracle.checkPayload(Array(payload[..<cut])) {
                    Issue.record("\(failure) cut at \(cut)")
                    return
                }
            }
        }
    }

    @Test func agreesWithTheReferenceFramerOnEveryMaximum() {
        let stream = WireFuzzOracle.seedPackets.joined()
        for maximum in WireFuzzOracle.maximumLengths {
            var random = SplitMix64(seed: UInt64(maximum))
            #expect(WireFuzzOracle.checkFraming(Array(stream), maximum: maximum, random: &random) == nil)
        }
    }
}
