import ArgumentParser
import BenchSupport
import CExchangeShim
@_spi(Benchmarks) import ExchangeCore
import Foundation
import OrderFlow
import SortedCollections

/// How should one side of a book find its price levels? The engine keeps a ladder (one slot
/// per tick) with a three-level occupancy bitmap; the usual alternatives are a sorted array
/// of active prices and a balanced tree. Each replays the same seeded stream of level
/// operations — add a level, remove one, take the best and find the next — at several
/// book depths, side by side in one run.
@main
struct LevelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "levels-bench", abstract: "Compare price-level structures; writes results/levels.json.")

    @Option(help: "CPU to pin to (-1: do not pin).") var cpu: Int = 1
    @Option(help: "Operations per depth.") var operations: Int = 2_000_000
    @Option(help: "Active levels the stream hovers around.") var depths: [Int] = [16, 256, 4_096]
    @Option(help: "Where to write the JSON results.") var output: String = "results/levels.json"

    mutating func run() throws {
        var pinned: Int?
        if cpu >= 0, rtes_pin_current_thread(Int32(cpu)) == 0 { pinned = cpu }
        let clock = TSCClock()
        let host = BenchmarkHost.current(pinnedCPU: pinned, clock: clock)
        print("levels-bench on \(host.summary)")
        var rows: [LevelResult] = []
        for depth in depths {
            let stream = LevelStream.make(depth: depth, count: operations, ladder: 65_536, seed: UInt64(depth))
            var results: [(String, Double, UInt64)] = []
            for (name, run) in [("ladder + bitmap", runLadder), ("sorted array", runSortedArray), ("B-tree (SortedSet)", runBTree)] {
                var best = Double.infinity
                var checksum: UInt64 = 0
                for _ in 0..<3 {
                    let start = clock.now()
                    checksum = run(stream)
                    best = min(best, Double(clock.nanoseconds(clock.now() - start)) / Double(stream.count))
                }
                results.append((name, best, checksum))
            }
            precondition(Set(results.map(\.2)).count == 1, "structures disagree on the best levels")
            let ladder = results[0].1
            for (name, ns, _) in results {
                rows.append(LevelResult(structure: name, depth: depth, nanosecondsPerOperation: ns, relativeToLadder: ns / ladder))
            }
        }
        var table = TextTable("structure", "active levels", "ns/op", "× ladder")
        for r in rows { table.add(r.structure, "\(r.depth)", String(format: "%.1f", r.nanosecondsPerOperation), String(format: "%.2f", r.relativeToLadder)) }
        print(table.render())
        try writeJSON(LevelsReport(host: host, command: CommandLine.arguments.joined(separator: " "), results: rows), to: output)
        print("wrote \(output)")
    }
}

struct LevelResult: Codable {
    var structure: String
    var depth: Int
    var nanosecondsPerOperation: Double
    var relativeToLadder: Double
    enum CodingKeys: String, CodingKey {
        case structure, depth = "active_levels", nanosecondsPerOperation = "ns_per_op", relativeToLadder = "relative_to_ladder"
    }
}

struct LevelsReport: Codable {
    var host: BenchmarkHost
    var command: String
    var results: [LevelResult]
}

/// A stream of operations on one book side's set of occupied bid levels: `add(level)`,
/// `remove(level)` (a level emptied by cancels) and `takeBest` (the best level traded out;
/// the next best is needed). Every remove names a level that is present.
struct LevelStream {
    enum Operation { case add(UInt32), remove(UInt32), takeBest }
    var operations: [Operation]
    var count: Int { operations.count }

    static func make(depth: Int, count: Int, ladder: Int, seed: UInt64) -> LevelStream {
        var random = SplitMix64(seed: seed)
        var active: [UInt32] = []
        var present = Set<UInt32>()
        var ops: [Operation] = []
        ops.reserveCapacity(count)
        let mid = UInt32(ladder / 2)
        // Levels cluster near the top of the book, as real books do: half the new levels
        // land in the top quarter of the depth, half anywhere within twice the depth.
        func candidate() -> UInt32 {
            let spread = random.chance(500) ? depth / 4 + 1 : 2 * depth
            return mid - UInt32(min(ladder / 2 - 1, random.below(spread)))
        }
        while ops.count < count {
            let roll = random.below(100)
            if active.count < depth || roll < 45 {
                let level = candidate()
                if present.insert(level).inserted { active.append(level); ops.append(.add(level)) }
            } else if roll < 90 {
                let i = random.below(active.count)
                let level = active.swapAt(i)
                present.remove(level)
                ops.append(.remove(level))
            } else {
                let best = active.max()!
                active.removeAll { $0 == best }
                present.remove(best)
                ops.append(.takeBest)
            }
        }
        return LevelStream(operations: ops)
    }
}

extension Array where Element == UInt32 {
    mutating func swapAt(_ i: Int) -> UInt32 {
        let v = self[i]
        self[i] = self[count - 1]
        removeLast()
        return v
    }
}

/// The engine's structure: bits for occupied levels, best = highest set bit.
func runLadder(_ stream: LevelStream) -> UInt64 {
    let (w, s) = OccupancyBitmap.wordCounts(levels: 65_536)
    let words = UnsafeMutablePointer<UInt64>.allocate(capacity: w)
    let summary = UnsafeMutablePointer<UInt64>.allocate(capacity: s)
    words.initialize(repeating: 0, count: w)
    summary.initialize(repeating: 0, count: s)
    defer { words.deallocate(); summary.deallocate() }
    var bits = OccupancyBitmap(words: words, summary: summary)
    var checksum: UInt64 = 0
    for op in stream.operations {
        switch op {
        case .add(let l): bits.insert(l)
        case .remove(let l): bits.remove(l)
        case .takeBest:
            bits.remove(bits.highest())
        }
        if !bits.isEmpty { checksum &+= UInt64(bits.highest()) }
    }
    return checksum
}

/// Active levels kept sorted ascending; best = last. Binary search, then shift.
func runSortedArray(_ stream: LevelStream) -> UInt64 {
    var levels: [UInt32] = []
    levels.reserveCapacity(100_000)
    var checksum: UInt64 = 0
    func position(_ l: UInt32) -> Int {
        var lo = 0
        var hi = levels.count
        while lo < hi {
            let m = (lo + hi) / 2
            if levels[m] < l { lo = m + 1 } else { hi = m }
        }
        return lo
    }
    for op in stream.operations {
        switch op {
        case .add(let l): levels.insert(l, at: position(l))
        case .remove(let l): levels.remove(at: position(l))
        case .takeBest: levels.removeLast()
        }
        if let best = levels.last { checksum &+= UInt64(best) }
    }
    return checksum
}

/// A B-tree (swift-collections' SortedSet, allocating nodes as it grows); best = last.
func runBTree(_ stream: LevelStream) -> UInt64 {
    var levels = SortedSet<UInt32>()
    var checksum: UInt64 = 0
    for op in stream.operations {
        switch op {
        case .add(let l): levels.insert(l)
        case .remove(let l): levels.remove(l)
        case .takeBest: levels.removeLast()
        }
        if let best = levels.last { checksum &+= UInt64(best) }
    }
    return checksum
}
