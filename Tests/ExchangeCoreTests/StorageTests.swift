@_spi(Benchmarks) @testable import ExchangeCore
import ExchangeTestSupport
import OrderFlow
import Testing

@Suite struct StorageLayout {
    @Test func keepsAnOrderInExactlyOneCacheLine() {
        #expect(MemoryLayout<OrderRecord>.size == 64)
        #expect(MemoryLayout<OrderRecord>.stride == 64)
        #expect(MemoryLayout<OrderRecord>.offset(of: \.leaves) == 32)
        #expect(MemoryLayout<OrderRecord>.offset(of: \.placement) == 63)
    }

    @Test func packsFourPriceLevelsToACacheLine() {
        #expect(MemoryLayout<PriceLevel>.stride == 16)
    }

    @Test func alignsEveryRegionOfTheLayoutTo128Bytes() {
        let layout = EngineLayout(Fixtures.configuration())
        #expect(layout.regions.allSatisfy { $0.offset % 128 == 0 })
        #expect(zip(layout.regions, layout.regions.dropFirst()).allSatisfy { $0.offset + $0.bytes <= $1.offset })
        #expect(MatchingEngine.requiredBytes(for: Fixtures.configuration()) == layout.totalBytes)
    }
}

@Suite struct OccupancyBitmapBehaviour {
    @Test func findsHighestLowestAndNeighboursLikeASortedSet() {
        for levels in [64, 4_096, 262_144] {
            let (w, s) = OccupancyBitmap.wordCounts(levels: levels)
            let words = UnsafeMutablePointer<UInt64>.allocate(capacity: w)
            let summary = UnsafeMutablePointer<UInt64>.allocate(capacity: s)
            words.initialize(repeating: 0, count: w)
            summary.initialize(repeating: 0, count: s)
            defer { words.deallocate(); summary.deallocate() }
            var bits = OccupancyBitmap(words: words, summary: summary)
            var model = Set<UInt32>()
            var random = SplitMix64(seed: UInt64(levels))
            for _ in 0..<5_000 {
                let level = UInt32(random.below(levels))
                if random.chance(550) { bits.insert(level); model.insert(level) } else { bits.remove(level); model.remove(level) }
                #expect(bits.isEmpty == model.isEmpty)
                if let max = model.max() { #expect(bits.highest() == max) }
                if let min = model.min() { #expect(bits.lowest() == min) }
                let probe = UInt32(random.below(levels))
                #expect(bits.highest(below: probe) == Int32(model.filter { $0 < probe }.max().map(Int64.init) ?? -1))
                #expect(bits.lowest(above: probe) == Int32(model.filter { $0 > probe }.min().map(Int64.init) ?? -1))
            }
        }
    }
}

@Suite struct TokenTableBehaviour {
    @Test func behavesLikeASetOfLiveTokensUnderRandomChurn() {
        var engine = MatchingEngine(configuration: Fixtures.configuration(poolSize: 64, maxClients: 4))
        var random = SplitMix64(seed: 7)
        var live = Set<OrderToken>()
        var nextToken = 0
        for step in 0..<4_000 {
            if !live.isEmpty && random.chance(450) {
                let tokens = live.sorted { $0.description < $1.description }
                let t = tokens[random.below(tokens.count)]
                _ = engine.runCollecting(.cancel(CancelOrder(timestamp: 1, client: 1, token: t)))
                live.remove(t)
            } else {
                // Mostly new tokens, sometimes an old one (live: a duplicate; dead: free again).
                let t: OrderToken
                if random.chance(200) && nextToken > 0 { t = OrderToken(number: UInt64(random.below(nextToken))) } else {
                    t = OrderToken(number: UInt64(nextToken)); nextToken += 1
                }
                let events = engine.runCollecting(enter(.buy, 1, at: cents(14_000 + UInt32(step % 50)), token: t.description))
                if live.contains(t) {
                    #expect(events.first?.rejected?.reason == .duplicateToken)
                } else if events.first?.accepted != nil {
                    live.insert(t)
                } else {
                    #expect(events.first?.rejected?.reason == .orderPoolExhausted)
                }
            }
            #expect(engine.invariantViolations().isEmpty)
        }
    }

    /// Issue 16: the slots a lookup touches are sized for the live orders, not the pool.
    @Test func usesSlotsForTheLiveOrdersNotForThePool() throws {
        var engine = MatchingEngine(configuration: Fixtures.configuration(poolSize: 100_000, maxClients: 4))
        let reserved = engine.state.pointee.tokens.live.capacity
        #expect(reserved == 262_144)
        #expect(engine.state.pointee.tokens.live.size == 4_096)
        // 10,000 resting buys on 40 levels: the table doubles three times (at 2,048, 4,096
        // and 8,192 live tokens) to 32,768 slots, an eighth of the reservation.
        for i in 0..<10_000 {
            let events = engine.runCollecting(enter(.buy, 100, at: cents(14_000 + UInt32(i % 40)), token: "G\(i)"))
            #expect(events.first?.accepted != nil)
        }
        #expect(engine.state.pointee.tokens.live.size == 32_768)
        #expect(engine.state.pointee.tokens.live.count == 10_000)
        #expect(engine.invariantViolations().isEmpty)  // every resting order's token found again
        // Every token is still found after the rehashes: replace half, cancel the rest.
        for i in stride(from: 0, to: 10_000, by: 2) {
            let events = engine.runCollecting(replace("G\(i)", with: "R\(i)", 100, at: cents(13_900)))
            #expect(events.first?.replaced != nil)
        }
        for i in stride(from: 1, to: 10_000, by: 2) {
            let events = engine.runCollecting(cancel("G\(i)"))
            #expect(events.first?.canceled != nil)
        }
        #expect(engine.invariantViolations().isEmpty)
        #expect(engine.restingOrderCount == 5_000)
        // A snapshot restores into a fresh engine, whose table grows as the orders come back.
        var bytes: [UInt8] = []
        try engine.writeSnapshot { bytes.append(contentsOf: $0) }
        var restored = MatchingEngine(configuration: Fixtures.configuration(poolSize: 100_000, maxClients: 4))
        try bytes.withUnsafeBytes { try restored.restoreSnapshot(from: $0) }
        #expect(restored.stateHash() == engine.stateHash())
        #expect(restored.state.pointee.tokens.live.size == 16_384)
        #expect(restored.invariantViolations().isEmpty)
        let again = restored.runCollecting(cancel("R0"))
        #expect(again.first?.canceled != nil)
    }
}

@Suite struct Determinism {
    static let profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8)

    static func run(eventBufferCapacity: Int, commands: [EngineCommand]) -> [EngineEvent] {
        var engine = MatchingEngine(configuration: Fixtures.configuration(eventBufferCapacity: eventBufferCapacity))
        var all: [EngineEvent] = []
        for c in commands { engine.run(c) { all.append(contentsOf: $0) } }
        return all
    }

    static let commands: [EngineCommand] = {
        var engine = MatchingEngine(configuration: Fixtures.configuration())
        return OrderFlowGenerator.record(profile: profile, seed: 42, count: 5_000) { engine.runCollecting($0) }
    }()

    @Test func producesTheSameEventsForTheSameCommands() {
        let a = Determinism.run(eventBufferCapacity: 256, commands: Determinism.commands)
        let b = Determinism.run(eventBufferCapacity: 256, commands: Determinism.commands)
        #expect(a.count > 5_000)
        #expect(a == b)
        #expect(EventDigest(a) == EventDigest(b))
    }

    @Test func producesTheSameEventsWhateverTheEventBufferSize() {
        let small = Determinism.run(eventBufferCapacity: 64, commands: Determinism.commands)
        let large = Determinism.run(eventBufferCapacity: 100_000, commands: Determinism.commands)
        #expect(small == large)
    }

    @Test func suspendsALongSweepAndFinishesItAfterDraining() {
        var engine = MatchingEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64))
        for i in 0..<500 {
            _ = engine.runCollecting(enter(.sell, 1, at: cents(15_000 + UInt32(i % 100)), token: "S\(i)", client: 2, firm: Fixtures.firmB))
        }
        var status = engine.process(enter(.buy, 500, at: cents(15_100), token: "SWEEP"))
        var batches = 0
        var fills = 0
        while true {
            batches += 1
            fills += engine.events.filter { $0.executed != nil }.count
            engine.clearEvents()
            if status == .completed { break }
            status = engine.resume()
        }
        #expect(fills == 500)
        #expect(batches > 5)
        #expect(engine.counters.suspensions > 0)
        #expect(engine.invariantViolations().isEmpty)
    }

    /// Expiry that fills the event buffer before a command can start: the command waits,
    /// whole, until `resume` has drained the expiry, then runs as it would have unsuspended.
    @Test func runsACommandThatExpiryHeldBackOnceTheExpiryIsDrained() {
        let commands = (0..<100).map { enter(.buy, 100, at: cents(14_900), token: "E\($0)", tif: .seconds(1)) }
            + [enter(.sell, 100, at: cents(15_000), token: "LATE", time: 3_000_000_000)]
        var engine = MatchingEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64))
        for c in commands.dropLast() { _ = engine.runCollecting(c) }
        var status = engine.process(commands[100])
        let idleWhileHeld = engine.isIdle
        #expect(status == .suspended)
        #expect(!idleWhileHeld)
        var events: [EngineEvent] = []
        while true {
            events += engine.events
            engine.clearEvents()
            if status == .completed { break }
            status = engine.resume()
        }
        let idleAfter = engine.isIdle
        #expect(idleAfter)
        #expect(events.count == 202)  // 100 × (canceled, bookReduce), then accepted, bookAdd
        #expect(events.suffix(2).kinds == ["accepted", "bookAdd"])
        #expect(events == Array(Determinism.run(eventBufferCapacity: 100_000, commands: commands).suffix(202)))
    }
}
