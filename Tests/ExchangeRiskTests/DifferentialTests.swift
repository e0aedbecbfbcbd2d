import ExchangeCore
import ExchangeRisk
import ExchangeTestSupport
import Foundation
import OrderFlow
import ReferenceModel
import Testing

/// The fast engine and the naive reference model (written separately from
/// docs/MATCHING.md) process the same seeded streams; every event must be equal, and the
/// books must be identical at every checkpoint. In debug builds the fast engine also
/// checks all of its structural invariants after every command.
///
/// CI: 8 seeds × 25,000 commands = 200,000. Long mode (10 M commands):
///     RTES_DIFFERENTIAL_COMMANDS=1250000 swift test -c release --filter DifferentialTests
@Suite struct DifferentialTests {
    static let seeds: [UInt64] = Array(1...8)

    static var commandsPerSeed: Int {
        ProcessInfo.processInfo.environment["RTES_DIFFERENTIAL_COMMANDS"].flatMap(Int.init) ?? 25_000
    }

    static let instruments = Fixtures.instruments + SyntheticInstruments.make(count: 2)

    /// Each seed varies the rules that are configuration: self-trade prevention mode and
    /// whether collars apply.
    static func setup(seed: UInt64) -> (EngineConfiguration, RiskLimits, OrderFlowProfile) {
        let collars = seed % 3 != 0
        let configuration = EngineConfiguration(
            instruments: instruments, orderPoolSize: 5_000, maxClients: 12, priceLevels: 4_096,
            eventBufferCapacity: 64, selfTradePrevention: SelfTradePrevention.allCases[Int(seed) % 4],
            collarMarketOrders: collars)
        let limits = RiskLimits(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000, maxOrdersPerSecond: 40,
                                priceCollarsEnabled: collars)
        let profile = OrderFlowProfile.randomized(
            instruments: instruments, clients: 10,
            limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000))
        return (configuration, limits, profile)
    }

    @Test(arguments: seeds)
    func fastEngineAgreesWithTheReferenceModel(seed: UInt64) {
        let (configuration, limits, profile) = Self.setup(seed: seed)
        guard let coverage = Self.run(seed: seed, configuration: configuration, limits: limits, profile: profile) else { return }
        coverage.expectBroad(seed: seed, commands: Self.commandsPerSeed, collars: limits.priceCollarsEnabled)
    }

    /// The same, through trading days: random phase commands (pre-open, crosses, halts,
    /// resumes, imbalances; one instrument or all) and cross-only orders in the stream.
    @Test(arguments: seeds)
    func fastEngineAgreesWithTheReferenceModelThroughTradingDays(seed: UInt64) {
        // The event buffer holds 64 events: a big cross suspends and resumes.
        let (configuration, limits, plain) = Self.setup(seed: seed)
        var profile = plain
        profile.tradingPhasePerMille = 6
        profile.crossOrderPerMille = 120
        guard let coverage = Self.run(seed: seed, configuration: configuration, limits: limits, profile: profile) else { return }
        guard Self.commandsPerSeed >= 20_000 else { return }
        let dayKinds: Set<String> = ["phase", "marketEvent", "imbalance", "crossFill", "crossCompleted", "executed", "bookAdd"]
        #expect(coverage.kinds.isSuperset(of: dayKinds), "seed \(seed): missing \(dayKinds.subtracting(coverage.kinds))")
        #expect(coverage.rejects.isSuperset(of: [.exchangeClosing, .invalidCrossType]), "seed \(seed): rejects \(coverage.rejects)")
        #expect(coverage.cancels.contains(.system), "seed \(seed): cancel reasons \(coverage.cancels)")
        #expect(coverage.crossShares > 0, "seed \(seed): no cross executed a share")
    }

    /// The same with limit up, limit down on (5 s limit states, 30 s pauses): orders priced
    /// through the bands, limit states, pauses and reopenings, among phase commands.
    @Test(arguments: seeds)
    func fastEngineAgreesWithTheReferenceModelWithLimitUpLimitDown(seed: UInt64) {
        var (configuration, limits, profile) = Self.setup(seed: seed)
        configuration.luld = LULDRules(limitStateNanoseconds: 5_000_000_000, pauseNanoseconds: 30_000_000_000)
        profile.luldRunPerMille = 40
        // Phase commands on two seeds only: closes and pre-opens leave little continuous trading.
        profile.tradingPhasePerMille = seed % 4 == 2 ? 3 : 0
        profile.crossOrderPerMille = seed % 4 == 2 ? 60 : 0
        guard let coverage = Self.run(seed: seed, configuration: configuration, limits: limits, profile: profile) else { return }
        guard Self.commandsPerSeed >= 20_000 else { return }
        let luldKinds: Set<String> = ["limitState", "auctionCollar", "phase", "crossCompleted", "executed"]
        #expect(coverage.kinds.isSuperset(of: luldKinds), "seed \(seed): missing \(luldKinds.subtracting(coverage.kinds))")
        #expect(coverage.luldReopenings > 0, "seed \(seed): no LULD pause ended")
    }

    /// Drives both with one seeded stream; nil after recording a mismatch.
    static func run(seed: UInt64, configuration: EngineConfiguration, limits: RiskLimits, profile: OrderFlowProfile) -> Coverage? {
        var fast = RiskCheckedEngine(configuration: configuration, limits: limits)
        var model = ReferenceExchange(configuration: configuration, limits: limits)
        var generator = OrderFlowGenerator(profile: profile, seed: seed)
        var coverage = Coverage()
        var fastEvents: [EngineEvent] = []
        let count = Self.commandsPerSeed

        for step in 0..<count {
            let command = generator.next()
            fastEvents.removeAll(keepingCapacity: true)
            fast.run(command) { fastEvents.append(contentsOf: $0) }
            let modelEvents = model.process(command)
            if fastEvents != modelEvents {
                Issue.record(Comment(rawValue: Self.describeMismatch(seed: seed, step: step, command: command,
                                                                     fast: fastEvents, model: modelEvents)))
                return nil
            }
            coverage.note(fastEvents)
            for event in fastEvents { generator.observe(event) }
            #if DEBUG
            let violations = fast.engine.invariantViolations()
            if !violations.isEmpty {
                Issue.record("seed \(seed) step \(step) after \(command): \(violations)")
                return nil
            }
            #endif
            if step % 1_000 == 999 || step == count - 1 {
                if let difference = Self.bookDifference(fast: fast, model: model, clients: configuration.maxClients) {
                    Issue.record("seed \(seed) step \(step): \(difference)")
                    return nil
                }
            }
        }
        return coverage
    }

    static func bookDifference(fast: borrowing RiskCheckedEngine, model: ReferenceExchange, clients: Int) -> String? {
        if fast.engine.now != model.now { return "engine time \(fast.engine.now) != model \(model.now)" }
        for instrument in 0..<instruments.count {
            for side in [BookSide.bid, .ask] {
                let a = fast.engine.restingOrders(instrument: InstrumentIndex(instrument), side: side)
                let b = model.restingOrders(instrument: InstrumentIndex(instrument), side: side)
                if a != b { return "instrument \(instrument) \(side):\n  fast  \(a)\n  model \(b)" }
            }
            let a = fast.engine.crossListOrders(instrument: InstrumentIndex(instrument))
            let b = model.crossListOrders(instrument: InstrumentIndex(instrument))
            if a != b { return "instrument \(instrument) cross list:\n  fast  \(a)\n  model \(b)" }
            if fast.engine.phase(of: InstrumentIndex(instrument)) != model.phase(of: InstrumentIndex(instrument)) {
                return "instrument \(instrument) phase \(fast.engine.phase(of: InstrumentIndex(instrument))) != \(model.phase(of: InstrumentIndex(instrument)))"
            }
        }
        for client in 0..<ClientID(clients) where fast.engine.openNotional(client: client) != model.openNotional(client: client) {
            return "client \(client) open notional \(fast.engine.openNotional(client: client)) != \(model.openNotional(client: client))"
        }
        return nil
    }

    static func describeMismatch(seed: UInt64, step: Int, command: EngineCommand, fast: [EngineEvent], model: [EngineEvent]) -> String {
        let first = (0..<min(fast.count, model.count)).first { fast[$0] != model[$0] } ?? min(fast.count, model.count)
        var text = "seed \(seed) step \(step): events differ at index \(first)\ncommand: \(command)\n"
        text += "fast (\(fast.count)):\n" + fast.map { "  \($0)" }.joined(separator: "\n") + "\n"
        text += "model (\(model.count)):\n" + model.map { "  \($0)" }.joined(separator: "\n")
        return text
    }
}

/// What a stream exercised, so that a generator change cannot quietly stop testing a rule.
struct Coverage {
    var kinds = Set<String>()
    var rejects = Set<RejectReason>()
    var cancels = Set<CancelReason>()
    var crossShares: UInt64 = 0
    var luldReopenings = 0

    mutating func note(_ events: [EngineEvent]) {
        for e in events {
            if case .crossCompleted(let c) = e { crossShares += c.shares }
            if case .phaseChanged(let p) = e, p.reason == .luldPause, p.phase == .continuous { luldReopenings += 1 }
            kinds.insert(e.kind.prefix { $0 != "(" }.description)
            if case .rejected(let r) = e { rejects.insert(r.reason) }
            if case .cancelRejected(let r) = e { rejects.insert(r.reason) }
            if case .canceled(let c) = e { cancels.insert(c.reason) }
        }
    }

    func expectBroad(seed: UInt64, commands: Int, collars: Bool) {
        guard commands >= 20_000 else { return }
        let allKinds: Set<String> = ["accepted", "rejected", "replaced", "canceled", "modified", "cancelRejected",
                                     "executed", "bookAdd", "bookCancel", "bookDelete", "bookReplace", "tradingState"]
        #expect(kinds == allKinds, "seed \(seed): missing \(allKinds.subtracting(kinds))")
        // systemBusy is the gateway's own answer when its ring to the engine is full: never an engine event.
        // journalStalled is the gateway's refusal while the journal stalls (mode sync).
        var rare: Set<RejectReason> = [.orderPoolExhausted, .postOnlyCannotPost, .systemBusy, .journalStalled]
        // The OUCH decoder's field refusals reach the engine as refusals like firmNotAuthorized,
        // which the stream does send; OUCHInboundTests and FirmEntitlement cover each field.
        rare.formUnion([.invalidCapacity, .invalidIntermarketSweep, .invalidCrossType, .invalidCustomerType])
        if !collars { rare.insert(.priceCollarBreached) }
        let expected = Set(RejectReason.allCases).subtracting(rare)
        #expect(rejects.isSuperset(of: expected), "seed \(seed): never rejected for \(expected.subtracting(rejects))")
        let expectedCancels: Set<CancelReason> = [.userRequested, .immediateOrCancel, .timeout, .supervisory, .selfMatchPrevention]
        #expect(cancels == expectedCancels, "seed \(seed): cancel reasons \(cancels)")
    }
}
