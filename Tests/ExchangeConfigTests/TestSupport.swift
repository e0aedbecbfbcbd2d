@testable import ExchangeConfig
import Foundation

/// The machine these tests describe unless they say otherwise.
let twoCPUs = HostFacts(cpuCount: 2)

/// The smallest valid configuration: everything else takes its default.
let minimalJSON = #"{"symbols": [{"symbol": "AAPL", "reference_price": 150.00}]}"#

func load(_ json: String, environment: [String: String] = [:], host: HostFacts = twoCPUs) throws(ConfigurationError) -> LoadedConfiguration {
    try ConfigurationLoader.load(json: json, source: "test.json", environment: environment, host: host)
}

/// The issues loading `json` reports; empty when it loads.
func issues(_ json: String, environment: [String: String] = [:], host: HostFacts = twoCPUs) -> [ConfigurationIssue] {
    do {
        _ = try load(json, environment: environment, host: host)
        return []
    } catch {
        return error.issues
    }
}

extension Array where Element == ConfigurationIssue {
    func at(_ path: String) -> [ConfigurationIssue] { filter { $0.path == path } }
    var paths: Set<String> { Set(map(\.path)) }
}

/// A JSON document with `symbols` and one section replaced by the given text.
func document(symbols: String = #"[{"symbol": "AAPL", "reference_price": 150.00}]"#, _ sections: String = "") -> String {
    sections.isEmpty ? #"{"symbols": \#(symbols)}"# : #"{"symbols": \#(symbols), \#(sections)}"#
}

/// `/work/main/configs` (or wherever the repository is), found from this file's path.
let configsDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()  // ExchangeConfigTests
    url.deleteLastPathComponent()  // Tests
    url.deleteLastPathComponent()  // repository root
    return url.appendingPathComponent("configs").path
}()

/// A small deterministic generator (SplitMix64) for the fuzz tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
