@testable import ExchangeConfig
import Testing

/// Deterministic hostile input: the parser and the loader must answer every input with a
/// value or an error carrying a sensible position, and never trap.
@Suite struct JSONFuzzTests {
    private static let seed: UInt64 = 0x5254_4553_2024
    private static let fragments: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud83d", "0", "-", ".", "e", "1e999", "true", "null",
        "\"symbols\"", "\"risk\"", "\"performance\"", "\"cores\"", "\"tick_size\"", "\"hmac_key\"", " ", "\n",
        "é", "😀", "/", "'",
    ].map { Array($0.utf8) }

    private static let base: [UInt8] = Array(#"""
    {"exchange": {"name": "X", "bind_address": "127.0.0.1", "tcp_port": 8888, "udp_multicast_group": "239.0.0.1"},
     "symbols": [{"symbol": "AAPL", "tick_size": 0.01, "lot_size": 1, "price_collar_pct": 10, "reference_price": 150.00},
                 {"symbol": "MSFT", "reference_price": 420.5}],
     "risk": {"max_order_size": 100000, "max_notional_per_client": 10000000.5, "self_trade_prevention": "decrement"},
     "performance": {"enable_cpu_pinning": true, "cores": {"gateway": 0, "engine": 1, "market_data": 1},
                     "threading_mode": "dedicated", "idle_strategy": "busy_spin", "price_levels": 16384}}
    """#.utf8)

    /// Parses and fully loads `bytes`; checks that any error has a position inside the input.
    private func exercise(_ bytes: [UInt8]) {
        let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        do {
            _ = try JSONParser.parse(bytes, source: .file("fuzz.json"))
        } catch {
            #expect(error.location.line >= 1 && error.location.line <= lines)
            #expect(error.location.column >= 1 && error.location.column <= bytes.count + 1)
            #expect(!error.message.isEmpty)
        }
        do {
            _ = try ConfigurationLoader.load(bytes: bytes, source: .file("fuzz.json"), environment: [:], host: HostFacts(cpuCount: 2))
        } catch {
            #expect(!error.issues.isEmpty)
        }
    }

    @Test func neverTrapsOnRandomBytes() {
        var generator = SeededGenerator(seed: Self.seed)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...80, using: &generator)
            var bytes: [UInt8] = []
            while bytes.count < length {
                if Bool.random(using: &generator) {
                    bytes += Self.fragments.randomElement(using: &generator)!
                } else {
                    bytes.append(UInt8.random(in: 0...255, using: &generator))
                }
            }
            exercise(bytes)
        }
    }

    @Test func neverTrapsOnMutatedConfigurations() {
        var generator = SeededGenerator(seed: Self.seed ^ 0xFFFF)
        exercise(Self.base)
        for _ in 0..<2_000 {
            var bytes = Self.base
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0 where position < bytes.count:
                    bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 1:
                    bytes.insert(contentsOf: Self.fragments.randomElement(using: &generator)!, at: position)
                case 2:
                    let end = min(bytes.count, position + Int.random(in: 1...12, using: &generator))
                    bytes.removeSubrange(position..<end)
                case 3:
                    let end = min(bytes.count, position + Int.random(in: 1...40, using: &generator))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                case 4:
                    bytes.removeSubrange(position...)
                default:
                    if position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                        bytes.insert(contentsOf: Array("9999999999".utf8), at: position)
                    }
                }
            }
            exercise(bytes)
        }
    }

    @Test func neverTrapsOnDeepOrWideInput() {
        exercise(Array(String(repeating: "[", count: 50_000).utf8))
        exercise(Array(String(repeating: "{\"a\":", count: 50_000).utf8))
        exercise(Array(("[" + String(repeating: "1,", count: 50_000) + "1]").utf8))
        let manyKeys = "{" + (0..<5_000).map { "\"k\($0)\": {\"password\": 1}" }.joined(separator: ",") + "}"
        exercise(Array(manyKeys.utf8))
        let manySymbols = #"{"symbols": ["# + (0..<3_000).map { _ in #"{"symbol": "A", "reference_price": 1}"# }.joined(separator: ",") + "]}"
        exercise(Array(manySymbols.utf8))
    }
}
