import ExchangeCore
import OrderFlow
import ExchangeTestSupport
import Testing

/// docs/MATCHING.md §Limit up, limit down: bands, the limit state, the pause and the reopening.
/// AAPL's reference is $150.00, so its 5 % bands are $142.50…$157.50.
@Suite struct LULD_ {
    static let second: Timestamp = 1_000_000_000
    static let rules = LULDRules(limitStateNanoseconds: 15 * second, pauseNanoseconds: 300 * second)
    let otherFirm = Fixtures.firmB

    func engine(rules: LULDRules = LULD_.rules) -> CheckedEngine {
        CheckedEngine(configuration: Fixtures.configuration(luld: rules))
    }

    func tick(_ time: Timestamp) -> EngineCommand { .advanceTime(time) }

    // MARK: Bands

    @Test func bandsFollowNasdaqsPriceTiersOnTheTickLadder() {
        let r = LULDRules.nasdaq
        // ≥ $3.00: 5 %.
        #expect(r.bands(reference: cents(15_000), tickSize: 100) == (cents(14_250), cents(15_750)))
        // $0.75–$3.00: 20 %.
        #expect(r.bands(reference: cents(100), tickSize: 100) == (cents(80), cents(120)))
        // Below $0.75: the lesser of $0.15 and 75 %.
        #expect(r.bands(reference: cents(50), tickSize: 100) == (cents(35), cents(65)))
        // 75 % of $0.10 is $0.075: upper rounded down, lower rounded up to the cent.
        #expect(r.bands(reference: cents(10), tickSize: 100) == (cents(3), cents(17)))
        // Never below one tick.
        #expect(r.bands(reference: cents(1), tickSize: 100).lower == cents(1))
    }

    @Test func anEngineWithoutLULDHasNoBands() {
        let x = CheckedEngine()
        #expect(x.core.luldBands(of: 0) == nil)
        let y = engine()
        #expect(y.core.luldBands(of: 0)! == (cents(14_250), cents(15_750)))
        #expect(y.core.luldBands(of: 1)! == (cents(38_000), cents(42_000)))
    }

    @Test func aBuyThroughTheUpperBandIsRepricedToTheBandAndTradesNothingBeyondIt() {
        var x = engine()
        x.send([
            enter(.sell, 100, at: cents(15_700), token: "S1", client: 2, firm: otherFirm),
            enter(.sell, 100, at: cents(15_800), token: "S2", client: 2, firm: otherFirm),
        ])
        let events = x.send(enter(.buy, 300, at: cents(16_000), token: "B1"))
        #expect(events.kinds == ["accepted", "executed", "bookAdd"])
        #expect(events[0].accepted?.price == cents(15_750))
        #expect(events[1].executed?.price == cents(15_700) && events[1].executed?.shares == 100)
        #expect(events[2].bookAdd?.price == cents(15_750) && events[2].bookAdd?.shares == 200)
        // The trade moved the bands: $157.00 ± $7.85.
        #expect(x.core.luldBands(of: 0)! == (cents(14_915), cents(16_485)))
        #expect(x.asks().map(\.price) == [cents(15_800)])
    }

    @Test func aSellThroughTheLowerBandIsRepricedToTheBand() {
        var x = engine()
        let events = x.send(enter(.sell, 100, at: cents(14_000), token: "S1", client: 2, firm: otherFirm))
        #expect(events[0].accepted?.price == cents(14_250))
        #expect(x.asks().map(\.price) == [cents(14_250)])
    }

    @Test func aMarketOrderStopsAtTheBandAndTheRestIsCancelled() {
        var x = engine()
        x.send([
            enter(.sell, 100, at: cents(15_700), token: "S1", client: 2, firm: otherFirm),
            enter(.sell, 100, at: cents(15_750), token: "S2", client: 2, firm: otherFirm),
            enter(.sell, 100, at: cents(15_800), token: "S3", client: 2, firm: otherFirm),
        ])
        let events = x.send(marketOrder(.buy, 300, token: "B1"))
        #expect(events.kinds == ["accepted", "executed", "executed", "canceled(immediate_or_cancel)"])
        #expect(events.compactMap(\.executed).map(\.price) == [cents(15_700), cents(15_750)])
        #expect(x.asks().map(\.price) == [cents(15_800)])
    }

    @Test func crossOnlyOrdersAndOrdersWhileNothingMatchesAreNotRepriced() {
        var x = engine()
        x.send(phase(.preOpen))
        let events = x.send(enter(.buy, 100, at: cents(16_000), token: "B1"))
        #expect(events[0].accepted?.price == cents(16_000))
    }

    // MARK: The limit state

    @Test func aBidAtTheUpperBandIsALimitStateThatEndsWhenTheBidLeaves() {
        var x = engine()
        let entered = x.send(enter(.buy, 100, at: cents(15_750), token: "B1"))
        #expect(entered.kinds == ["accepted", "bookAdd", "limitState(upper)"])
        #expect(entered[2].limitState == LimitStateChanged(
            timestamp: 1, instrument: 0, state: .upper, lowerBand: cents(14_250), upperBand: cents(15_750)))
        #expect(x.core.limitState(of: 0) == .upper)
        // A second bid at the band changes nothing.
        #expect(x.send(enter(.buy, 100, at: cents(15_750), token: "B2")).kinds == ["accepted", "bookAdd"])
        x.send(cancel("B2"))
        #expect(x.core.limitState(of: 0) == .upper)
        let left = x.send(cancel("B1", time: 2))
        #expect(left.kinds == ["canceled(user_requested)", "bookDelete", "limitState(none)"])
        #expect(left[2].limitState?.timestamp == 2)
        #expect(x.core.limitState(of: 0) == .none)
    }

    @Test func anAskAtTheLowerBandIsALimitStateThatATradeAtTheBandEnds() {
        var x = engine()
        #expect(x.send(enter(.sell, 100, at: cents(14_250), token: "S1", client: 2, firm: otherFirm)).kinds
            == ["accepted", "bookAdd", "limitState(lower)"])
        // A buy takes 50 at the band: the reference becomes $142.50 and the bands follow it.
        let events = x.send(enter(.buy, 50, at: cents(14_250), token: "B1"))
        #expect(events.kinds == ["accepted", "executed", "limitState(none)"])
        #expect(events[2].limitState?.lowerBand == cents(13_538) && events[2].limitState?.upperBand == cents(14_962))
    }

    // MARK: The pause

    @Test func aLimitStateHeldForNMillisecondsPausesTheInstrumentAndPublishesTheCollar() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        // One nanosecond short of 15 s: nothing.
        #expect(x.send(tick(10 + 15 * Self.second - 1)).isEmpty)
        let paused = x.send(tick(10 + 15 * Self.second))
        #expect(paused.kinds == ["phase(halted)", "auctionCollar"])
        #expect(paused[0].phaseChanged?.reason == .luldPause && paused[0].phaseChanged?.previous == .continuous)
        // Collar: reference $157.50 (the band held), lower the lower band, upper $157.50 + 5 %.
        #expect(paused[1].auctionCollar == AuctionCollar(
            timestamp: 10 + 15 * Self.second, instrument: 0, referencePrice: cents(15_750), upperPrice: cents(16_537),
            lowerPrice: cents(14_250), extensions: 0))
        #expect(x.core.phase(of: 0) == .halted && x.core.isLULDPaused(0) && x.core.limitState(of: 0) == .none)
        // MSFT trades on.
        #expect(x.core.phase(of: 1) == .continuous)
    }

    @Test func aLimitStateThatEndsBeforeItsDeadlineDoesNotPause() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        x.send(cancel("B1", time: 20))
        #expect(x.send(tick(10 + 20 * Self.second)).isEmpty)
        #expect(x.core.phase(of: 0) == .continuous)
    }

    @Test func thePauseEndsAfterMMillisecondsThroughTheHaltCross() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        let start = 10 + 15 * Self.second
        x.send(tick(start))
        // During the pause orders are taken and wait; nothing executes.
        #expect(x.send(enter(.sell, 100, at: cents(15_000), token: "S1", client: 2, firm: otherFirm, time: start + 1)).kinds
            == ["accepted"])
        #expect(x.send(tick(start + 300 * Self.second - 1)).isEmpty)
        let reopened = x.send(tick(start + 300 * Self.second))
        #expect(reopened.kinds == ["imbalance", "crossFill", "crossCompleted", "phase(continuous)"])
        #expect(reopened[0].imbalance?.cross == .halt)
        // Every price from $150.00 to $157.50 pairs 100; $150.00 is the reference.
        #expect(reopened[2].crossCompleted?.price == cents(15_000) && reopened[2].crossCompleted?.shares == 100)
        #expect(reopened[3].phaseChanged?.reason == .luldPause)
        #expect(x.core.phase(of: 0) == .continuous && x.core.isLULDPaused(0) == false)
    }

    @Test func aReopeningPriceOutsideTheCollarExtendsThePauseAndWidensTheCollar() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        let start = 10 + 15 * Self.second
        x.send(tick(start))
        // Collar $142.50…$165.37. A buy at $170.00 and a sell at $170.00 would cross at $170.00.
        x.send(enter(.buy, 100, at: cents(17_000), token: "B2", time: start + 1))
        x.send(enter(.sell, 100, at: cents(17_000), token: "S1", client: 2, firm: otherFirm, time: start + 2))
        let end = start + 300 * Self.second
        let extended = x.send(tick(end))
        #expect(extended.kinds == ["auctionCollar"])
        // Upper collar + 5 % of $165.37 ($8.2685), rounded down: $173.63.
        #expect(extended[0].auctionCollar == AuctionCollar(
            timestamp: end, instrument: 0, referencePrice: cents(15_750), upperPrice: cents(17_363),
            lowerPrice: cents(14_250), extensions: 1))
        let stillPaused = x.core.isLULDPaused(0)
        #expect(stillPaused)
        // The extension lasts another pause: now the price is inside and the cross reopens it.
        #expect(x.send(tick(end + 300 * Self.second - 1)).isEmpty)
        let reopened = x.send(tick(end + 300 * Self.second))
        #expect(reopened.kinds == ["imbalance", "crossFill", "crossCompleted", "phase(continuous)"])
        #expect(reopened[2].crossCompleted?.price == cents(17_000))
    }

    @Test func theReopeningCanFindTheBookAtTheBandAgain() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        let start = 10 + 15 * Self.second
        x.send(tick(start))
        let reopened = x.send(tick(start + 300 * Self.second))
        // Nothing crosses; the bid is still at the band: a new limit state.
        #expect(reopened.kinds == ["imbalance", "crossCompleted", "phase(continuous)", "limitState(upper)"])
        let again = x.send(tick(start + 315 * Self.second))
        #expect(again.kinds == ["phase(halted)", "auctionCollar"])
    }

    @Test func aResumeCommandDoesNotEndAnLULDPause() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        x.send(tick(10 + 15 * Self.second))
        #expect(x.send(phase(.resume, time: 20 * Self.second)).isEmpty)
        #expect(x.core.isLULDPaused(0) && x.core.phase(of: 0) == .halted)
    }

    @Test func aHaltCommandTurnsThePauseIntoAHaltThatOnlyResumeEnds() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        x.send(tick(10 + 15 * Self.second))
        #expect(x.send(phase(.halt, time: 20 * Self.second)).isEmpty)
        #expect(x.core.isLULDPaused(0) == false && x.core.phase(of: 0) == .halted)
        // The pause's end passes without a reopening…
        #expect(x.send(tick(400 * Self.second)).isEmpty)
        // …and resume reopens it, an ordinary phase change.
        let resumed = x.send(phase(.resume, time: 401 * Self.second))
        #expect(resumed.kinds == ["imbalance", "crossCompleted", "phase(continuous)", "limitState(upper)"])
        #expect(resumed[2].phaseChanged?.reason == .command)
    }

    @Test func theOperatorsHaltInstrumentIsIndependentOfLULD() {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        x.send(.haltInstrument(InstrumentAction(timestamp: 11, symbol: Fixtures.aapl)))
        let paused = x.send(tick(10 + 15 * Self.second))
        #expect(paused.kinds == ["phase(halted)", "auctionCollar"])
        let halted = x.core.isHalted(0)
        #expect(halted)
    }

    // MARK: Beyond the near band

    @Test func aTakerFacingAnAskBelowTheLowerBandTakesNothingAndDoesNotCrossTheBook() {
        var x = engine()
        // An ask entered in pre-open at $140.00, below the lower band; the open crosses nothing.
        x.send(phase(.preOpen))
        x.send(enter(.sell, 100, at: cents(14_000), token: "S1", client: 2, firm: otherFirm))
        let opened = x.send(phase(.openingCross))
        #expect(opened.kinds.last == "limitState(lower)")
        // A buy at $150.00 would trade at $140.00, outside the bands: it cannot trade or rest.
        let events = x.send(enter(.buy, 100, at: cents(15_000), token: "B1"))
        #expect(events.kinds == ["accepted", "canceled(system)"])
        // A buy below the ask rests as usual.
        #expect(x.send(enter(.buy, 100, at: cents(13_900), token: "B2")).kinds == ["accepted", "bookAdd"])
        #expect(x.asks().map(\.price) == [cents(14_000)])
    }

    // MARK: Snapshots

    /// Writes a snapshot and restores it into a fresh engine of the same configuration.
    func restored(_ x: borrowing CheckedEngine, rules: LULDRules? = LULD_.rules) throws -> MatchingEngine {
        try restored(snapshot(x), rules: rules)
    }

    func snapshot(_ x: borrowing CheckedEngine) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try x.core.writeSnapshot { bytes += $0 }
        return bytes
    }

    func restored(_ bytes: [UInt8], rules: LULDRules?) throws -> MatchingEngine {
        var engine = MatchingEngine(configuration: Fixtures.configuration(luld: rules))
        try bytes.withUnsafeBytes { try engine.restoreSnapshot(from: $0) }
        return engine
    }

    @Test func aSnapshotInALimitStateRestoresTheStateAndItsDeadline() throws {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        #expect(x.core.limitState(of: 0) == .upper)
        var copy = try restored(x)
        #expect(copy.limitState(of: 0) == .upper)
        #expect(copy.luldBands(of: 0)! == x.core.luldBands(of: 0)!)
        #expect(copy.stateHash() == x.core.stateHash())
        // The deadline came along: both pause at the same moment with the same events.
        let early = tick(10 + 15 * Self.second - 1)
        #expect(copy.runCollecting(early) == x.send(early))
        #expect(copy.isLULDPaused(0) == false)
        let due = tick(10 + 15 * Self.second)
        let original = x.send(due)
        #expect(original.contains { if case .auctionCollar = $0 { true } else { false } })
        #expect(copy.runCollecting(due) == original)
        #expect(copy.isLULDPaused(0) && copy.stateHash() == x.core.stateHash())
    }

    @Test func aSnapshotInAPauseRestoresItsEndAndCollarAndReopensAlike() throws {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_750), token: "B1", time: 10))
        x.send(tick(10 + 15 * Self.second))
        #expect(x.core.isLULDPaused(0) && x.core.phase(of: 0) == .halted)
        // A sell at the bid: the reopening cross trades it, at the same moment in both.
        x.send(enter(.sell, 100, at: cents(15_750), token: "S1", client: 2, firm: otherFirm, time: 20 * Self.second))
        var copy = try restored(x)
        #expect(copy.isLULDPaused(0) && copy.phase(of: 0) == .halted)
        #expect(copy.stateHash() == x.core.stateHash())
        for t in [320 * Self.second, 640 * Self.second, 960 * Self.second] {
            let original = x.send(tick(t))
            #expect(copy.runCollecting(tick(t)) == original)
            #expect(copy.stateHash() == x.core.stateHash())
        }
        #expect(x.core.isLULDPaused(0) == false)
        #expect(copy.invariantViolations().isEmpty)
    }

    @Test func aSnapshotTakenWithLULDDoesNotRestoreIntoAnEngineWithout() throws {
        var x = engine()
        x.send(enter(.buy, 100, at: cents(15_000), token: "B1", time: 10))
        let withLULD = try snapshot(x)
        #expect(throws: EngineSnapshotError.self) { _ = try restored(withLULD, rules: nil) }
        let plain = CheckedEngine(configuration: Fixtures.configuration())
        let withoutLULD = try snapshot(plain)
        #expect(throws: EngineSnapshotError.self) { _ = try restored(withoutLULD, rules: Self.rules) }
    }

    /// Random streams with LULD on, snapshotted every 2,000 commands and often in limit states
    /// and pauses: each restored engine gives the same events as the original for the next
    /// 1,500 commands and then hashes as the original did there.
    @Test(arguments: [5, 13])
    func aSnapshotAnywhereWithLULDRestoresAnEngineThatContinuesTheSame(seed: UInt64) throws {
        let rules = LULDRules(limitStateNanoseconds: 1_000_000_000, pauseNanoseconds: 5_000_000_000)
        let configuration = Fixtures.configuration(poolSize: 20_000, luld: rules)
        var profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8)
        profile.luldRunPerMille = 40
        let window = 1_500
        var recorder = MatchingEngine(configuration: configuration)
        let commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: 30_000) { recorder.runCollecting($0) }
        var original = MatchingEngine(configuration: configuration)
        var snapshots: [(at: Int, bytes: [UInt8])] = []
        var eventsAfter: [[EngineEvent]] = []
        var hashAt: [Int: UInt64] = [:]
        var inLimitState = 0
        var inPause = 0
        let instruments = (0..<Fixtures.instruments.count).map { InstrumentIndex($0) }
        for (i, c) in commands.enumerated() {
            if hashAt[i] != nil { hashAt[i] = original.stateHash() }
            let limited = instruments.contains { original.limitState(of: $0) != .none }
            let paused = instruments.contains { original.isLULDPaused($0) }
            // Every 2,000 commands, and every 5th command spent in a limit state or pause (up to
            // 20 of each), while the window after it fits in the stream.
            let wanted = i % 2_000 == 0 || (limited && i % 5 == 0 && inLimitState < 20) || (paused && i % 5 == 0 && inPause < 20)
            if wanted && i + window <= commands.count {
                var bytes: [UInt8] = []
                try original.writeSnapshot { bytes += $0 }
                snapshots.append((i, bytes))
                hashAt[i + window] = 0
                if limited { inLimitState += 1 }
                if paused { inPause += 1 }
            }
            eventsAfter.append(original.runCollecting(c))
        }
        if hashAt[commands.count] != nil { hashAt[commands.count] = original.stateHash() }
        #expect(inLimitState > 0, "seed \(seed): no snapshot was taken in a limit state")
        #expect(inPause > 0, "seed \(seed): no snapshot was taken in a pause")
        for (at, bytes) in snapshots {
            var copy = MatchingEngine(configuration: configuration)
            try bytes.withUnsafeBytes { try copy.restoreSnapshot(from: $0) }
            #expect(copy.invariantViolations().isEmpty)
            var same = true
            for i in at..<(at + window) where same {
                same = copy.runCollecting(commands[i]) == eventsAfter[i]
                if !same { Issue.record("seed \(seed): the engine restored at \(at) differs at command \(i): \(commands[i])") }
            }
            #expect(copy.stateHash() == hashAt[at + window], "seed \(seed): restored at \(at)")
        }
    }

    // MARK: Suspension

    @Test func limitStatesOfManyInstrumentsSettleAcrossASmallEventBuffer() {
        // 40 instruments, a 64-event buffer: a market-wide opening cross puts every one at
        // its band, so the limit states at the end of the command need more than one drain.
        let specs = (0..<40).map { i in
            InstrumentSpec(symbol: Symbol("S\(i)")!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: cents(10_000))
        }
        var x = CheckedEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64, instruments: specs, luld: Self.rules))
        x.send(phase(.preOpen, nil))
        for i in 0..<40 { x.send(enter(.buy, 100, Symbol("S\(i)")!, at: cents(10_500), token: "B\(i)")) }
        let events = x.send(phase(.openingCross, nil, time: 2))
        #expect(events.filter { $0.kind == "limitState(upper)" }.count == 40)
        #expect(events.compactMap(\.limitState).map(\.instrument) == (0..<40).map { InstrumentIndex($0) })
        let paused = x.send(tick(2 + 15 * Self.second))
        #expect(paused.filter { $0.kind == "auctionCollar" }.count == 40)
    }
}
