import ExchangeCore
import ExchangeRisk
import ExchangeTestSupport
import OrderFlow
import Testing

/// Snapshots of the risk-checked engine: taken after k seeded commands, restored into a
/// fresh engine, and both engines then run the same remaining commands: every event and
/// the state hash must agree. Damaged bytes end in a clear error, never a crash and never
/// a different state.
@Suite struct EngineSnapshotTests {
    static let instruments = Fixtures.instruments + SyntheticInstruments.make(count: 2)

    static func configuration(seed: UInt64, pool: Int = 5_000, eventBuffer: Int = 64, maxClients: Int = 12,
                              priceLevels: Int = 4_096) -> EngineConfiguration {
        EngineConfiguration(
            instruments: instruments, orderPoolSize: pool, maxClients: maxClients, priceLevels: priceLevels,
            eventBufferCapacity: eventBuffer, selfTradePrevention: SelfTradePrevention.allCases[Int(seed) % 4],
            collarMarketOrders: seed % 3 != 0)
    }

    static func limits(seed: UInt64) -> RiskLimits {
        RiskLimits(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000, maxOrdersPerSecond: 40, priceCollarsEnabled: seed % 3 != 0)
    }

    static func generator(seed: UInt64) -> OrderFlowGenerator {
        OrderFlowGenerator(profile: .randomized(
            instruments: instruments, clients: 10,
            limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000)), seed: seed)
    }

    /// Runs `count` generated commands, the generator observing the events.
    static func drive(_ engine: inout RiskCheckedEngine, _ generator: inout OrderFlowGenerator, count: Int) {
        for _ in 0..<count {
            engine.run(generator.next()) { generator.observe($0) }
        }
    }

    /// Puts what a random stream reaches only sometimes into the state for certain: a timed
    /// order pending expiry, a hidden and a post-only order resting, a killed client, a halted
    /// instrument.
    static func stage(_ engine: inout RiskCheckedEngine) {
        let t = engine.engine.now + 1
        let sym = instruments[2].symbol
        let mid = instruments[2].referencePrice
        let commands: [EngineCommand] = [
            .reinstateExchange(t),
            .resumeInstrument(InstrumentAction(timestamp: t, symbol: sym)),
            .enter(EnterOrder(timestamp: t, client: 11, token: token("TIMED"), side: .buy, shares: 100, symbol: sym,
                              price: mid - 5_000, timeInForce: .seconds(30), firm: Fixtures.firmA)),
            .enter(EnterOrder(timestamp: t, client: 11, token: token("HIDDEN"), side: .buy, shares: 200, symbol: sym,
                              price: mid - 6_000, firm: Fixtures.firmA, display: .nonDisplayed, capacity: .principal)),
            .enter(EnterOrder(timestamp: t, client: 11, token: token("POST"), side: .sell, shares: 300, symbol: sym,
                              price: mid + 9_000, firm: Fixtures.firmB, display: .postOnly, intermarketSweep: .eligible,
                              crossType: .supplemental)),
            .killClient(ClientAction(timestamp: t, client: 10)),
            .haltInstrument(InstrumentAction(timestamp: t, symbol: instruments[3].symbol)),
        ]
        // The generator does not see these: client 11 is beyond its clients, and it must
        // never pick one of these orders to replace.
        for command in commands { engine.run(command) { _ in } }
    }

    static func snapshot(_ engine: borrowing RiskCheckedEngine, chunkBytes: Int = 1 << 16) throws -> (engine: [UInt8], risk: [UInt8]) {
        var engineBytes: [UInt8] = []
        var riskBytes: [UInt8] = []
        try engine.writeEngineSnapshot(chunkBytes: chunkBytes) { engineBytes.append(contentsOf: $0) }
        try engine.writeRiskSnapshot { riskBytes.append(contentsOf: $0) }
        return (engineBytes, riskBytes)
    }

    static func restore(_ engine: inout RiskCheckedEngine, _ bytes: (engine: [UInt8], risk: [UInt8])) throws {
        try bytes.engine.withUnsafeBytes { e in
            try bytes.risk.withUnsafeBytes { r in try engine.restoreSnapshot(engine: e, risk: r) }
        }
    }

    static let cases: [(seed: UInt64, before: Int, staged: Bool)] = [
        (1, 0, false), (2, 300, true), (3, 2_000, false), (4, 2_000, true), (5, 6_000, true), (6, 4_000, false),
    ]

    @Test(arguments: cases)
    func restoredEngineContinuesExactlyAsTheOriginal(seed: UInt64, before: Int, staged: Bool) throws {
        let configuration = Self.configuration(seed: seed)
        var original = RiskCheckedEngine(configuration: configuration, limits: Self.limits(seed: seed))
        var generator = Self.generator(seed: seed)
        Self.drive(&original, &generator, count: before)
        if staged { Self.stage(&original) }

        // Small chunks, so that the sink is called many times.
        let bytes = try Self.snapshot(original, chunkBytes: 256)
        let hash = original.stateHash()
        // A larger pool and event buffer: neither is part of the state.
        var restored = RiskCheckedEngine(configuration: Self.configuration(seed: seed, pool: 9_000, eventBuffer: 4_096),
                                         limits: Self.limits(seed: seed))
        try Self.restore(&restored, bytes)
        #expect(restored.stateHash() == hash)
        #expect(restored.engine.invariantViolations() == [])
        #expect(restored.engine.counters.restingOrders == original.engine.counters.restingOrders)
        for i in 0..<Self.instruments.count {
            for side in [BookSide.bid, .ask] {
                #expect(restored.engine.restingOrders(instrument: InstrumentIndex(i), side: side)
                    == original.engine.restingOrders(instrument: InstrumentIndex(i), side: side))
            }
        }
        if staged {
            let killed = restored.isKilled(client: 10)
            let halted = restored.engine.isHalted(3)
            #expect(killed)
            #expect(halted)
            let hidden = restored.engine.restingOrders(instrument: 2, side: .bid).filter { $0.display == .nonDisplayed }
            #expect(!hidden.isEmpty)
        }
        // Snapshotting the restored engine gives the same bytes but for the pool size it notes.
        let again = try Self.snapshot(restored)
        #expect(again.risk == bytes.risk)
        #expect(again.engine.count == bytes.engine.count)

        var originalDigest = EventDigest()
        var restoredDigest = EventDigest()
        var expiredAfter: UInt64 = 0
        let expiredBefore = original.engine.counters.ordersExpired
        for step in 0..<3_000 {
            let command = generator.next()
            var a: [EngineEvent] = []
            var b: [EngineEvent] = []
            original.run(command) { a.append(contentsOf: $0) }
            restored.run(command) { b.append(contentsOf: $0) }
            guard a == b else {
                Issue.record("seed \(seed): after the restore, command \(step) (\(command)) gave different events:\n\(a)\n\(b)")
                return
            }
            originalDigest.add(a)
            restoredDigest.add(b)
            for event in a { generator.observe(event) }
            // Time moves on so that the staged timed order (30 s) expires.
            if step == 1_500 {
                let later = original.engine.now + 31 * 1_000_000_000
                original.run(.advanceTime(later)) { a = Array($0) }
                restored.run(.advanceTime(later)) { b = Array($0) }
                #expect(a == b)
                for event in a { generator.observe(event) }
            }
        }
        expiredAfter = original.engine.counters.ordersExpired - expiredBefore
        #expect(originalDigest == restoredDigest)
        #expect(original.stateHash() == restored.stateHash())
        if staged { #expect(expiredAfter > 0) }
    }

    @Test func engineHashesAreEqualAfterTheSameCommandsAndDifferOtherwise() {
        let configuration = Self.configuration(seed: 1)
        var a = RiskCheckedEngine(configuration: configuration, limits: Self.limits(seed: 1))
        var b = RiskCheckedEngine(configuration: Self.configuration(seed: 1, pool: 7_000, eventBuffer: 1_024), limits: Self.limits(seed: 1))
        var generator = Self.generator(seed: 1)
        for _ in 0..<2_000 {
            let command = generator.next()
            a.run(command) { generator.observe($0) }
            b.run(command) { _ in }
        }
        #expect(a.stateHash() == b.stateHash())
        #expect(a.engine.stateHash() == b.engine.stateHash())
        b.run(.killClient(ClientAction(timestamp: b.engine.now, client: 11))) { _ in }
        #expect(a.stateHash() != b.stateHash(), "a kill switch is risk state")
    }

    /// One order, entered into otherwise identical engines with one field different each time:
    /// every field of a resting order enters the hash.
    @Test func hashChangesWhenAnyOneOrderFieldDiffers() {
        let sym = Fixtures.aapl
        let base = EnterOrder(timestamp: 5, client: 1, token: token("ORD"), side: .buy, shares: 100, symbol: sym,
                              price: cents(14_990), firm: Fixtures.firmA)
        var variants: [(String, EnterOrder)] = []
        func variant(_ name: String, _ change: (inout EnterOrder) -> Void) {
            var o = base
            change(&o)
            variants.append((name, o))
        }
        variant("token") { $0.token = token("ORE") }
        variant("client") { $0.client = 2 }
        variant("side") { $0.side = .sell; $0.price = cents(15_010) }
        variant("sell variant") { $0.side = .sellShort; $0.price = cents(15_010) }
        variant("shares") { $0.shares = 101 }
        variant("price") { $0.price = cents(14_989) }
        variant("firm") { $0.firm = Fixtures.firmB }
        variant("display") { $0.display = .attributable }
        variant("capacity") { $0.capacity = .riskless }
        variant("intermarket sweep") { $0.intermarketSweep = .eligible }
        variant("cross type") { $0.crossType = .retail }
        variant("deadline") { $0.timeInForce = .seconds(60) }
        variant("instrument") { $0.symbol = Fixtures.msft; $0.price = cents(39_990) }
        variant("timestamp") { $0.timestamp = 6 }

        func hash(_ order: EnterOrder) -> UInt64 {
            var engine = RiskCheckedEngine(configuration: Fixtures.configuration(), limits: .unlimited)
            let events = engine.runCollecting(.enter(order))
            #expect(events.count >= 1 && events.allSatisfy { if case .rejected = $0 { false } else { true } }, "\(events)")
            return engine.stateHash()
        }
        let original = hash(base)
        var seen: [UInt64: String] = [original: "base"]
        for (name, order) in variants {
            let h = hash(order)
            #expect(seen[h] == nil, "changing the \(name) left the hash equal to that of \(seen[h] ?? "")")
            seen[h] = name
        }
        // Time priority: the same two orders at one price, entered in the other order.
        func pair(_ first: String, _ second: String) -> UInt64 {
            var engine = RiskCheckedEngine(configuration: Fixtures.configuration(), limits: .unlimited)
            for t in [first, second] {
                var o = base
                o.token = token(t)
                engine.run(.enter(o)) { _ in }
            }
            return engine.stateHash()
        }
        #expect(pair("P", "Q") != pair("Q", "P"))
    }

    @Test func damagedBytesEndInAClearErrorOrTheSameState() throws {
        var original = RiskCheckedEngine(configuration: Self.configuration(seed: 4), limits: Self.limits(seed: 4))
        var generator = Self.generator(seed: 4)
        Self.drive(&original, &generator, count: 1_500)
        Self.stage(&original)
        let bytes = try Self.snapshot(original)
        let hash = original.stateHash()
        var random = SplitMix64(seed: 99)
        var caught = 0
        let trials = 400
        for _ in 0..<trials {
            var damaged = bytes
            let section = random.next() % 4 == 0 ? 1 : 0
            let count = section == 0 ? damaged.engine.count : damaged.risk.count
            let at = Int(random.next() % UInt64(count))
            let bit = UInt8(1) << UInt8(random.next() % 8)
            if section == 0 { damaged.engine[at] ^= bit } else { damaged.risk[at] ^= bit }
            var fresh = RiskCheckedEngine(configuration: Self.configuration(seed: 4), limits: Self.limits(seed: 4))
            do {
                try Self.restore(&fresh, damaged)
                // Only bytes that hold no state (reserved words, the pool size noted for
                // information, the suspension count) may change without an error.
                #expect(fresh.stateHash() == hash, "a flip at \(at) of section \(section) changed the state silently")
            } catch {
                caught += 1
                #expect(error is EngineSnapshotError)
                #expect(!"\(error)".isEmpty)
                #expect(fresh.engine.restingOrderCount == 0, "a refused restore leaves the engine fresh")
            }
        }
        #expect(caught > trials * 9 / 10)

        // After refusals, the same engine takes the good snapshot.
        var fresh = RiskCheckedEngine(configuration: Self.configuration(seed: 4), limits: Self.limits(seed: 4))
        var bad = bytes
        bad.engine[bad.engine.count / 2] ^= 0x40
        #expect(throws: EngineSnapshotError.self) { try Self.restore(&fresh, bad) }
        try Self.restore(&fresh, bytes)
        #expect(fresh.stateHash() == hash)
    }

    @Test func everyTruncationIsRefused() throws {
        var original = RiskCheckedEngine(configuration: Self.configuration(seed: 2), limits: Self.limits(seed: 2))
        var generator = Self.generator(seed: 2)
        Self.drive(&original, &generator, count: 400)
        let bytes = try Self.snapshot(original)
        let step = max(1, bytes.engine.count / 1_500)
        for cut in stride(from: 0, to: bytes.engine.count, by: step) {
            var fresh = RiskCheckedEngine(configuration: Self.configuration(seed: 2), limits: Self.limits(seed: 2))
            #expect(throws: EngineSnapshotError.self) {
                try Self.restore(&fresh, (Array(bytes.engine[..<cut]), bytes.risk))
            }
        }
        for cut in 0..<bytes.risk.count {
            var fresh = RiskCheckedEngine(configuration: Self.configuration(seed: 2), limits: Self.limits(seed: 2))
            #expect(throws: EngineSnapshotError.self) {
                try Self.restore(&fresh, (bytes.engine, Array(bytes.risk[..<cut])))
            }
        }
        // Bytes after the end are damage too.
        var fresh = RiskCheckedEngine(configuration: Self.configuration(seed: 2), limits: Self.limits(seed: 2))
        #expect(throws: EngineSnapshotError.self) { try Self.restore(&fresh, (bytes.engine + [0], bytes.risk)) }
    }

    @Test func aDifferentConfigurationIsRefusedByName() throws {
        var original = RiskCheckedEngine(configuration: Self.configuration(seed: 1), limits: Self.limits(seed: 1))
        var generator = Self.generator(seed: 1)
        Self.drive(&original, &generator, count: 1_000)
        let resting = original.engine.restingOrderCount
        #expect(resting > 10)
        let bytes = try Self.snapshot(original)

        func refusal(_ configuration: EngineConfiguration, _ limits: RiskLimits = Self.limits(seed: 1)) -> EngineSnapshotError? {
            var fresh = RiskCheckedEngine(configuration: configuration, limits: limits)
            do {
                try Self.restore(&fresh, bytes)
                return nil
            } catch {
                return error as? EngineSnapshotError
            }
        }
        func isMismatch(_ error: EngineSnapshotError?, mentioning text: String) -> Bool {
            guard case .configurationMismatch(let why) = error else { return false }
            return why.contains(text)
        }
        #expect(isMismatch(refusal(Self.configuration(seed: 1, priceLevels: 8_192)), mentioning: "price levels"))
        #expect(isMismatch(refusal(Self.configuration(seed: 1, maxClients: 16)), mentioning: "clients"))
        #expect(isMismatch(refusal(Self.configuration(seed: 1, pool: resting - 1)), mentioning: "order pool"))
        #expect(refusal(Self.configuration(seed: 1, pool: resting)) == nil, "a pool that holds the orders is enough")
        #expect(isMismatch(refusal(Self.configuration(seed: 2)), mentioning: "self-trade"))
        var other = Self.configuration(seed: 1)
        other.instruments[1].tickSize = 1
        #expect(isMismatch(refusal(other), mentioning: "instrument 1"))
        other = Self.configuration(seed: 1)
        other.instruments.removeLast()
        #expect(isMismatch(refusal(other), mentioning: "instruments"))
        var limits = Self.limits(seed: 1)
        limits.maxOrdersPerSecond = 41
        #expect(isMismatch(refusal(Self.configuration(seed: 1), limits), mentioning: "risk limits"))
    }

    @Test func snapshotsAreTakenOnlyAtACommandBoundaryAndRestoredOnlyIntoAFreshEngine() throws {
        var engine = RiskCheckedEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64), limits: .unlimited)
        for i in 0..<100 {
            engine.run(enter(.buy, 10, at: cents(14_900), token: "B\(i)", client: 1)) { _ in }
        }
        // A kill switch cancels 100 orders: more events than the buffer holds.
        #expect(engine.process(.killClient(ClientAction(timestamp: 2, client: 1))) == .suspended)
        #expect(throws: EngineSnapshotError.self) { try engine.writeEngineSnapshot { _ in } }
        engine.clearEvents()
        #expect(throws: EngineSnapshotError.self) { try engine.writeEngineSnapshot { _ in } }
        while engine.resume() == .suspended { engine.clearEvents() }
        #expect(throws: EngineSnapshotError.self) { try engine.writeRiskSnapshot { _ in } }
        engine.clearEvents()
        let bytes = try Self.snapshot(engine)

        var used = RiskCheckedEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64), limits: .unlimited)
        used.run(enter(.buy, 10, at: cents(14_900), token: "X")) { _ in }
        do {
            try Self.restore(&used, bytes)
            Issue.record("a used engine took a snapshot")
        } catch {
            guard case .engineNotFresh = error as? EngineSnapshotError else { Issue.record("\(error)"); return }
        }
        #expect(used.engine.restingOrderCount == 1, "a refused restore into a used engine changes nothing")
    }

    @Test func aSinkErrorPassesThrough() {
        struct DiskFull: Error {}
        let engine = RiskCheckedEngine(configuration: Fixtures.configuration(), limits: .unlimited)
        #expect(throws: DiskFull.self) { try engine.writeEngineSnapshot(chunkBytes: 64) { _ in throw DiskFull() } }
    }
}
