import ExchangeCore
@testable import ExchangeFIX
import Testing

/// A deterministic generator (SplitMix64).
struct Seeded {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Every byte sequence yields a message, a clear problem or a disconnect — never a crash, a
/// read out of bounds or a hang: valid messages mutated (bytes flipped, dropped, duplicated,
/// SOHs and `=` moved) and random bytes go through the frame reader, the parser, the session
/// and the application mapping (FIXFuzzOracle, which the libFuzzer entry in
/// Tests/WireFuzzer/FIXFuzzer.swift also runs).
@Suite struct FIXFuzz {
    @Test func seededMutationsNeverCrashAndAlwaysProgress() {
        var g = Seeded(state: 0xF1C5_0044)
        let seeds = FIXFuzzOracle.seedMessages
        for _ in 0..<20_000 {
            var bytes = seeds[g.below(seeds.count)]
            for _ in 0..<(1 + g.below(4)) {
                guard !bytes.isEmpty else { break }
                let at = g.below(bytes.count)
                switch g.below(6) {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: g.next())
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(bytes[at], at: at)
                case 3: bytes[at] = 0x01
                case 4: bytes[at] = UInt8(ascii: "=")
                default: bytes[at] = UInt8(ascii: "0") + UInt8(g.below(10))
                }
            }
            if let failure = bytes.withUnsafeBytes({ FIXFuzzOracle.run($0) }) { Issue.record("\(failure): \(text(bytes))") }
        }
        for _ in 0..<2_000 {
            let bytes = (0..<g.below(300)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            if let failure = bytes.withUnsafeBytes({ FIXFuzzOracle.run($0) }) { Issue.record("\(failure)") }
        }
    }
}
