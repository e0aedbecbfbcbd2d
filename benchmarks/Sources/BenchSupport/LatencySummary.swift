import Foundation
import Histogram

/// Percentiles of one latency distribution, in nanoseconds.
public struct LatencySummary: Codable, Sendable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var p9999: UInt64
    public var max: UInt64

    enum CodingKeys: String, CodingKey {
        case count, p50 = "p50_ns", p90 = "p90_ns", p99 = "p99_ns", p999 = "p999_ns", p9999 = "p9999_ns", max = "max_ns"
    }

    public init(_ h: Histogram<UInt64>) {
        count = h.totalCount
        p50 = h.valueAtPercentile(50)
        p90 = h.valueAtPercentile(90)
        p99 = h.valueAtPercentile(99)
        p999 = h.valueAtPercentile(99.9)
        p9999 = h.valueAtPercentile(99.99)
        max = h.max
    }
}

/// A latency histogram from 1 ns to 60 s at three significant digits.
public func makeLatencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Writes `histogram` (nanoseconds) as an HdrHistogram percentile distribution in
/// microseconds — the .hgrm that `benchmarks/plot-hgrm.sh` draws. Throws naming the path.
public func writeHgrm(_ histogram: Histogram<UInt64>, to path: String) throws {
    var text = ""
    histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000)
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw HgrmError(description: "cannot write \(path): \(error.localizedDescription)")
    }
}

public struct HgrmError: Error, CustomStringConvertible {
    public let description: String
}

/// Formats nanoseconds for a table: 850 ns, 12.4 µs, 3.20 ms.
public func formatNanoseconds(_ ns: UInt64) -> String {
    if ns < 1_000 { return "\(ns) ns" }
    if ns < 1_000_000 { return String(format: "%.2f µs", Double(ns) / 1e3) }
    if ns < 1_000_000_000 { return String(format: "%.2f ms", Double(ns) / 1e6) }
    return String(format: "%.2f s", Double(ns) / 1e9)
}
