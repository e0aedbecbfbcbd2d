import ExchangeRuntime
import Foundation
import Glibc
import Testing

/// The counters registry: modules register blocks, a reader in another mapping finds them
/// by name through the directory.
@Suite struct CounterRegistryTests {
    static let engineLike = CounterBlockDescriptor(name: "first_module", counters: [
        .init("commands", .counter, CounterCell(0)), .init("resting", .gauge, CounterCell(1)),
        .init("latency", .histogram, CounterCell(2)),
    ])
    static let gatewayLike = CounterBlockDescriptor(name: "second_module", counters: [
        .init("connections", .gauge, CounterCell(0)), .init("bytes_in", .counter, CounterCell(20)),
    ], cellCount: 33)

    @Test func blocksOfTwoModulesGetDistinctAlignedCells() throws {
        let region = CountersRegion.anonymous(name: "TEST", ticksPerSecond: 1)
        let first = try region.register(Self.engineLike)
        let second = try region.register(Self.gatewayLike)
        for block in [first, second] {
            let offset = block.base - region.base
            #expect(offset % CountersLayout.blockAlignment == 0)
            #expect(offset >= CountersLayout.cellsOffset && offset + 8 * block.cellCount <= CountersLayout.totalBytes)
        }
        #expect(first.cellCount == 2 + LatencyHistogram.cellCount && second.cellCount == 33)
        let a = first.base - region.base, b = second.base - region.base
        #expect(a + 8 * first.cellCount <= b, "the second block starts after the first ends")
        first.store(CounterCell(0), 7)
        second.store(CounterCell(0), 9)
        second.store(CounterCell(32), 11)
        #expect(first.load(CounterCell(0)) == 7 && second.load(CounterCell(0)) == 9)
        #expect(first.load(CounterCell(first.cellCount - 1)) == 0, "the last cell of the first block is untouched")
    }

    @Test func registeringANameAgainFindsTheSameBlock() throws {
        let region = CountersRegion.anonymous(name: "TEST", ticksPerSecond: 1)
        let first = try region.register(Self.engineLike)
        first.store(CounterCell(0), 5)
        let again = try region.register(Self.engineLike)
        #expect(again.base == first.base && again.load(CounterCell(0)) == 5)
        #expect(region.snapshot().blocks.count == 1)
        #expect(throws: SystemError.self) {
            try region.register(CounterBlockDescriptor(name: "first_module", counters: [.init("commands", .counter, CounterCell(0))]))
        }
    }

    @Test func aSecondMappingListsEveryBlocksCountersByName() throws {
        let path = NSTemporaryDirectory() + "rtes-test-registry-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).counters"
        defer { unlink(path) }
        var writer = try CountersRegion.create(path: path, name: "TEST", ticksPerSecond: 1)
        try writer.publish()
        let first = try writer.register(Self.engineLike)
        let second = try writer.register(Self.gatewayLike)
        first.store(CounterCell(0), 12)
        first.store(CounterCell(1), 3)
        first.latencyRecorder(CounterCell(2)).record(100)
        first.latencyRecorder(CounterCell(2)).record(300)
        second.store(CounterCell(20), 4_096)
        let s = try CountersRegion.open(path: path).snapshot()
        #expect(s.blocks.map(\.name) == ["first_module", "second_module"])
        let module = try #require(s.block("first_module"))
        #expect(module.counters.map(\.name) == ["commands", "resting", "latency"])
        #expect(module.counters.map(\.kind) == [.counter, .gauge, .histogram])
        #expect(module["commands"] == 12 && module["resting"] == 3 && module["latency"] == 2)
        #expect(module.counters[2].histogram?.sum == 400)
        #expect(s.values("second_module") == ["connections": 0, "bytes_in": 4_096])
        #expect(s.values("no_such_module").isEmpty)
        #expect(s.directoryText().split(separator: "\n") == [
            "first_module.commands counter 12", "first_module.resting gauge 3", "first_module.latency histogram count 2 sum 400",
            "second_module.connections gauge 0", "second_module.bytes_in counter 4096",
        ])
    }

    @Test func registeringMoreThanTheRegionHoldsFailsClearly() throws {
        let region = CountersRegion.anonymous(name: "TEST", ticksPerSecond: 1)
        let large = { (i: Int) in
            CounterBlockDescriptor(name: "large_\(i)", counters: [.init("n", .counter, CounterCell(0))], cellCount: 1_024)
        }
        var registered = 0
        var failure: SystemError?
        while failure == nil && registered < 100 {
            do {
                _ = try region.register(large(registered))
                registered += 1
            } catch {
                failure = error
            }
        }
        #expect(registered == CountersLayout.cellsBytes / (8 * 1_024))
        let error = try #require(failure)
        #expect(error.errno == ENOSPC)
        #expect(error.description.contains("large_\(registered)") && error.description.contains("bytes of cells left"), "\(error)")
        #expect(region.snapshot().blocks.count == registered, "the failed block left no directory entry")
    }

    @Test func tooManyCountersForTheDirectoryFailClearly() throws {
        let region = CountersRegion.anonymous(name: "TEST", ticksPerSecond: 1)
        let counters = (0...CountersLayout.Directory.maxCounters).map { CounterDescriptor("c\($0)", .counter, CounterCell($0)) }
        #expect {
            try region.register(CounterBlockDescriptor(name: "wide", counters: counters))
        } throws: { error in
            (error as? SystemError)?.errno == ENOSPC && "\(error)".contains("more counters")
        }
    }

    @Test func aReaderRefusesAFileOfAnotherLayoutVersion() throws {
        let path = NSTemporaryDirectory() + "rtes-test-version-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).counters"
        defer { unlink(path) }
        var header = [UInt64](repeating: 0, count: 1_024)  // a small file, as layout version 1 wrote
        header[0] = CountersLayout.magic
        header[1] = CountersLayout.version - 1
        _ = FileManager.default.createFile(atPath: path, contents: header.withUnsafeBytes { Data($0) })
        #expect {
            _ = try CountersRegion.open(path: path)
        } throws: { error in
            "\(error)".contains("counters layout version \(CountersLayout.version - 1)")
                && "\(error)".contains("understands version \(CountersLayout.version)")
        }
    }
}
