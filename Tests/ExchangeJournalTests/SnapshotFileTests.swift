import ExchangeCore
import ExchangeJournal
import Foundation
import Testing

/// Snapshot files: sections round-trip with their CRCs, publishing is atomic (a temporary
/// name, then rename), every flipped byte and every cut is caught, the newest valid file is
/// found past damaged ones, and retention keeps the newest.
@Suite struct SnapshotFileTests {
    /// A temporary directory, removed by `remove()`.
    struct Scratch {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "rtes-snapshot-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
        func names() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    static let symbol = Symbol("AAPL")!
    static let configuration = EngineConfiguration(
        instruments: [InstrumentSpec(symbol: symbol, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: 1_500_000)],
        orderPoolSize: 1_000, maxClients: 8, priceLevels: 1_024, eventBufferCapacity: 64)

    /// An engine with a few resting orders on both sides.
    static func engine() -> MatchingEngine {
        var engine = MatchingEngine(configuration: configuration)
        for i in 0..<40 {
            let side: Side = i % 2 == 0 ? .buy : .sell
            let price: Price = side == .buy ? 1_490_000 - Price(i % 7) * 100 : 1_510_000 + Price(i % 5) * 100
            engine.run(.enter(EnterOrder(timestamp: UInt64(i + 1), client: ClientID(i % 8), token: OrderToken("T\(i)")!, side: side,
                                         shares: Shares(10 + i), symbol: symbol, price: price, firm: Firm("FRMA")!))) { _ in }
        }
        return engine
    }

    /// Publishes a snapshot of `engine` with two extra sections; returns its path.
    @discardableResult
    static func publish(_ engine: borrowing MatchingEngine, in directory: String, sequence: UInt64, extra: [UInt8] = [1, 2, 3]) throws -> String {
        let writer = try SnapshotFileWriter(directory: directory, coveredSequence: sequence, stateHash: engine.stateHash(), createdAt: 42)
        try writer.section("engine") { try engine.writeSnapshot(chunkBytes: 100, to: $0) }
        try writer.section("gateway", bytes: extra)
        try writer.section("feed", bytes: [])
        return try writer.publish()
    }

    @Test func publishesAtomicallyAndEverySectionReadsBack() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let engine = Self.engine()
        let path = try Self.publish(engine, in: scratch.path, sequence: 1_234)
        #expect(path == scratch.path + "/snapshot-00000000000000001234.rtsnap")
        #expect(scratch.names() == ["snapshot-00000000000000001234.rtsnap"], "no temporary file stays behind")

        let file = try SnapshotFile.read(path: path)
        #expect(file.coveredSequence == 1_234)
        #expect(file.stateHash == engine.stateHash())
        #expect(file.createdAt == 42)
        #expect(file.sectionNames == ["engine", "gateway", "feed"])
        #expect(file.sectionBytes("gateway") == [1, 2, 3])
        #expect(file.sectionBytes("feed") == [])
        #expect(file.section("missing") == nil)

        var restored = MatchingEngine(configuration: Self.configuration)
        try restored.restoreSnapshot(from: #require(file.section("engine")))
        #expect(restored.stateHash() == file.stateHash)
        #expect(restored.restingOrderCount == 40)
    }

    @Test func everyFlippedByteAndEveryCutIsCaught() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try Self.publish(Self.engine(), in: scratch.path, sequence: 7)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let damagedPath = scratch.path + "/damaged"
        for at in 0..<good.count {
            var bad = good
            bad[at] ^= 0x01
            try bad.write(to: URL(fileURLWithPath: damagedPath))
            #expect(throws: SnapshotFileError.self, "a flip at byte \(at) went unnoticed") { try SnapshotFile.read(path: damagedPath) }
        }
        for cut in 0..<good.count {
            try good.prefix(cut).write(to: URL(fileURLWithPath: damagedPath))
            #expect(throws: SnapshotFileError.self, "a cut at byte \(cut) went unnoticed") { try SnapshotFile.read(path: damagedPath) }
        }
    }

    @Test func fallsBackToThePreviousSnapshotWhenTheNewestIsDamaged() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let engine = Self.engine()
        try Self.publish(engine, in: scratch.path, sequence: 10, extra: [10])
        let newest = try Self.publish(engine, in: scratch.path, sequence: 20, extra: [20])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: newest))

        let search = try SnapshotDirectory.newestValid(in: scratch.path)
        #expect(search.snapshot?.coveredSequence == 10)
        #expect(search.snapshot?.sectionBytes("gateway") == [10])
        #expect(search.rejected.count == 1)
        #expect(search.rejected.first?.path == newest)
        #expect(search.rejected.first?.reason.contains("CRC") == true, "\(search.rejected)")
    }

    @Test func aFileWhoseNameAndHeaderDisagreeIsPassedOver() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try Self.publish(Self.engine(), in: scratch.path, sequence: 10)
        try FileManager.default.copyItem(atPath: path, toPath: scratch.path + "/" + SnapshotDirectory.fileName(coveredSequence: 30))
        let search = try SnapshotDirectory.newestValid(in: scratch.path)
        #expect(search.snapshot?.coveredSequence == 10)
        #expect(search.rejected.first?.reason.contains("its header covers sequence 10") == true, "\(search.rejected)")
    }

    @Test func aLeftoverTemporaryFileIsIgnoredAndRetainRemovesIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let engine = Self.engine()
        try Self.publish(engine, in: scratch.path, sequence: 5)
        // A crash mid-write: the temporary file of a newer snapshot, half written.
        let leftover = scratch.path + "/.snapshot-00000000000000000009.rtsnap.tmp"
        try Data([0x52, 0x54, 0x45, 0x53]).write(to: URL(fileURLWithPath: leftover))
        // An unpublished writer removes its own temporary file when dropped.
        do {
            let writer = try SnapshotFileWriter(directory: scratch.path, coveredSequence: 8, stateHash: 0, createdAt: 0)
            try writer.section("engine", bytes: [1])
            withExtendedLifetime(writer) {
                #expect(scratch.names().contains(".snapshot-00000000000000000008.rtsnap.tmp"))
            }
        }
        #expect(!scratch.names().contains(".snapshot-00000000000000000008.rtsnap.tmp"))

        let search = try SnapshotDirectory.newestValid(in: scratch.path)
        #expect(search.snapshot?.coveredSequence == 5)
        #expect(search.rejected.isEmpty)
        let removed = try SnapshotDirectory.retain(newest: 1, in: scratch.path)
        #expect(removed == [leftover])
        #expect(scratch.names() == ["snapshot-00000000000000000005.rtsnap"])
    }

    @Test func findsNoneInAnEmptyOrMissingDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: scratch.path + "/snapshot-notes.txt"))
        #expect(try SnapshotDirectory.newestValid(in: scratch.path).snapshot == nil)
        #expect(try SnapshotDirectory.newestValid(in: scratch.path + "/missing").snapshot == nil)
    }

    @Test func retainKeepsTheNewest() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let engine = Self.engine()
        for sequence: UInt64 in [3, 100, 7, 55, 12] { try Self.publish(engine, in: scratch.path, sequence: sequence) }
        let removed = try SnapshotDirectory.retain(newest: 2, in: scratch.path)
        #expect(removed.count == 3)
        #expect(try SnapshotDirectory.list(scratch.path).map { $0.coveredSequence } == [55, 100])
    }

    @Test func aFailingProducerPublishesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        struct Refused: Error {}
        do {
            let writer = try SnapshotFileWriter(directory: scratch.path, coveredSequence: 1, stateHash: 0, createdAt: 0)
            #expect(throws: SnapshotFileError.self) { try writer.section("engine") { _ in throw Refused() } }
            #expect(throws: SnapshotFileError.self) { try writer.section("", bytes: [1]) }
            #expect(throws: SnapshotFileError.self) { try writer.section("a name longer than 24 bytes", bytes: [1]) }
            try writer.section("gateway", bytes: [1])
            #expect(throws: SnapshotFileError.self) { try writer.section("gateway", bytes: [2]) }
        }
        #expect(scratch.names() == [])
        #expect(SnapshotDirectory.coveredSequence(fileName: "snapshot-1.rtsnap") == nil)
        #expect(SnapshotDirectory.coveredSequence(fileName: SnapshotDirectory.fileName(coveredSequence: .max)) == .max)
    }

    @Test func aDirectoryThatCannotTakeTheFileIsAClearError() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        do {
            _ = try SnapshotFileWriter(directory: scratch.path + "/missing", coveredSequence: 1, stateHash: 0, createdAt: 0)
            Issue.record("a writer opened in a missing directory")
        } catch {
            guard case .system(let e) = error else { Issue.record("\(error)"); return }
            #expect(e.errno == ENOENT)
            #expect(error.description.contains("missing"))
        }
    }
}
