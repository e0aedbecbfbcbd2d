import ExchangeAgents
import ExchangeCore
import ExchangeWire
import Testing

/// The agents' decisions without an exchange: the same seed and the same inputs give the
/// same intents; the configuration is checked with clear reasons.
@Suite struct AgentDecisionTests {
    static let instruments = [
        InstrumentSpec(symbol: Symbol("AAPL")!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: 2_300_000),
        InstrumentSpec(symbol: Symbol("MSFT")!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: 4_200_000),
    ]

    static func configuration(seed: UInt64) -> AgentsConfiguration {
        var c = AgentsConfiguration()
        c.seed = seed
        c.decisionIntervalMilliseconds = 10
        c.momentum.lookback = 3
        c.meanReversion.lookback = 3
        c.momentum.thresholdBasisPoints = 0.5
        c.meanReversion.thresholdBasisPoints = 0.5
        return c
    }

    /// Drives a whole population for 2,000 decisions of scripted market data (trades and a
    /// moving touch, a pre-open, a halt, a close and the next pre-open), answering every order
    /// with an acceptance and some with executions and rejects, and returns every intent in order.
    static func script(seed: UInt64) -> [String] {
        let c = configuration(seed: seed)
        var agents = AgentRunnerPopulation.make(c, instruments: instruments)
        var market = MarketState(symbolCount: instruments.count)
        var fair = FairValue(seed: c.seed, parameters: c.fairValue, instruments: instruments)
        var log: [String] = []
        var scriptRandom = SeededGenerator(seed: 99)
        func system(_ code: ITCH.EventCode) {
            market.apply(.systemEvent(.init(timestamp: 0, code: code)))
        }
        system(.startOfSystemHours)
        for step in 0..<2_000 {
            let now = UInt64(step) * 10_000_000
            if step == 100 { system(.startOfMarketHours) }
            if step == 1_500 { system(.endOfMarketHours) }
            if step == 1_700 { system(.startOfSystemHours) }
            if step == 1_800 { system(.startOfMarketHours) }
            for i in instruments.indices {
                let base = Int(instruments[i].referencePrice) + scriptRandom.int(in: -20...20) * 100
                market.symbols[i].bestBid = Price(base - 100)
                market.symbols[i].bestAsk = Price(base + 100)
                market.symbols[i].tradingState = (step >= 600 && step < 700 && i == 1) ? ITCH.TradingState.halted.rawValue : ITCH.TradingState.trading.rawValue
                if step % 3 == 0 {
                    market.apply(.trade(.init(locate: UInt16(i + 1), timestamp: 0, reference: 0, side: ITCH.buy, shares: 100,
                                              symbol: instruments[i].symbol, price: Price(base), matchNumber: 0)))
                }
            }
            fair.advance(toElapsed: now)
            for a in agents.indices {
                for intent in agents[a].decide(now: now, market: market, fair: fair) {
                    log.append("\(step) \(a) \(intent)")
                    for answer in answers(to: intent, agents[a], &scriptRandom) {
                        agents[a].apply(answer, now: now, preOpens: market.preOpens)
                    }
                }
            }
        }
        return log
    }

    /// The exchange's answers in the script: accepted; a third of entries executed in part; 1 in 50 rejected.
    static func answers(to intent: Intent, _ agent: Agent, _ random: inout SeededGenerator) -> [OUCHMessage] {
        switch intent {
        case .enter(let token, let symbol, let side, let shares, let price, let immediate):
            if random.int(in: 0...49) == 0 { return [.rejected(timestamp: 0, token: token, reason: UInt8(ascii: "Y"))] }
            var accepted = OUCHAccepted.sample
            accepted.token = token
            accepted.side = side
            accepted.shares = shares
            accepted.price = price
            accepted.symbol = instruments[symbol].symbol
            var out: [OUCHMessage] = [.accepted(accepted)]
            if random.int(in: 0...2) == 0 {
                out.append(.executed(timestamp: 0, token: token, shares: max(1, shares / 2), price: price, liquidity: 0, matchNumber: 1))
            }
            if immediate { out.append(.canceled(timestamp: 0, token: token, decrement: shares, reason: UInt8(ascii: "I"))) }
            return out
        case .replace(let existing, let replacement, let shares, let price):
            var replaced = OUCHReplaced.sample
            replaced.previousToken = existing
            replaced.token = replacement
            replaced.shares = shares
            replaced.price = price
            return [.replaced(replaced)]
        case .cancel(let token):
            return [.canceled(timestamp: 0, token: token, decrement: 1_000_000, reason: UInt8(ascii: "U"))]
        }
    }

    @Test func theSameSeedAndInputsGiveTheSameDecisions() {
        let first = Self.script(seed: 7)
        let second = Self.script(seed: 7)
        #expect(first.count > 500, "only \(first.count) intents")
        #expect(first == second)
        let other = Self.script(seed: 8)
        #expect(first != other, "another seed decided the same")
    }

    @Test func aMarketMakersSpreadWidensWithVolatilityWithinItsBounds() {
        var c = Self.configuration(seed: 1)
        c.makers.minSpreadTicks = 2
        c.makers.maxSpreadTicks = 9
        let maker = AgentRunnerPopulation.make(c, instruments: Self.instruments)[0]
        #expect(maker.role == .marketMaker)
        let quiet = Array(repeating: Price(2_300_000), count: 30)
        #expect(maker.spreadTicks(quiet) == 2)
        let jumpy = (0..<30).map { Price(2_300_000 + ($0 % 2 == 0 ? 0 : 4_000)) }
        let wide = maker.spreadTicks(jumpy)
        #expect(wide > 2 && wide <= 9, "spread \(wide)")
        let wild = (0..<30).map { Price(2_300_000 + ($0 % 2 == 0 ? 0 : 200_000)) }
        #expect(maker.spreadTicks(wild) == 9)
    }

    @Test func noAgentSendsAfterTheCloseUntilTheNextPreOpen() {
        let c = Self.configuration(seed: 3)
        var agents = AgentRunnerPopulation.make(c, instruments: Self.instruments)
        var market = MarketState(symbolCount: Self.instruments.count)
        let fair = FairValue(seed: c.seed, parameters: c.fairValue, instruments: Self.instruments)
        market.apply(.systemEvent(.init(timestamp: 0, code: .endOfMarketHours)))
        for a in agents.indices { #expect(agents[a].decide(now: 1_000_000_000, market: market, fair: fair).isEmpty) }
        // A reject for a closed exchange pauses an agent even when the feed has not said so yet.
        var open = MarketState(symbolCount: Self.instruments.count)
        open.apply(.systemEvent(.init(timestamp: 0, code: .startOfMarketHours)))
        agents[0].apply(.rejected(timestamp: 0, token: OrderToken("X1")!, reason: UInt8(ascii: "C")), now: 0, preOpens: open.preOpens)
        #expect(agents[0].isPausedForClose)
        #expect(agents[0].decide(now: 2_000_000_000, market: open, fair: fair).isEmpty)
        open.apply(.systemEvent(.init(timestamp: 0, code: .startOfSystemHours)))
        #expect(!agents[0].decide(now: 3_000_000_000, market: open, fair: fair).isEmpty, "the maker quotes again in the next pre-open")
        #expect(!agents[0].isPausedForClose)
    }

    @Test func theFairValueWalksAlikeForOneSeedAndStaysInItsBand() {
        var p = AgentsConfiguration.FairValueParameters()
        p.volatilityBasisPoints = 20
        p.jumpProbability = 0.05
        p.jumpBasisPoints = 200
        p.maxDriftPercent = 3
        var a = FairValue(seed: 4, parameters: p, instruments: Self.instruments)
        var b = FairValue(seed: 4, parameters: p, instruments: Self.instruments)
        var moved = false
        for step in 1...20_000 {
            a.advance(toElapsed: UInt64(step) * 100_000_000)
            b.step()
            #expect(a.values == b.values)
            for i in Self.instruments.indices {
                let reference = Double(Self.instruments[i].referencePrice)
                if abs(a.values[i] - reference) > reference * 0.03 + 1e-6 { Issue.record("symbol \(i) at \(a.values[i]), outside ±3 %") }
                if a.price(i) % Self.instruments[i].tickSize != 0 { Issue.record("price \(a.price(i)) off the tick grid") }
                if a.price(i) != Self.instruments[i].referencePrice { moved = true }
            }
            if a.values != b.values { break }
        }
        #expect(moved)
        var other = FairValue(seed: 5, parameters: p, instruments: Self.instruments)
        other.advance(toElapsed: 20_000 * 100_000_000)
        #expect(other.values != a.values)
    }

    @Test func aShockMovesOneSymbolAtATimeAwayFromItsSideOfTheReference() throws {
        var p = AgentsConfiguration.FairValueParameters()
        p.volatilityBasisPoints = 0
        p.jumpProbability = 0
        p.maxDriftPercent = 10
        p.shockIntervalSeconds = 1
        p.shockPercent = 8
        var fair = FairValue(seed: 1, parameters: p, instruments: Self.instruments)
        let references = Self.instruments.map { Double($0.referencePrice) }
        fair.advance(toElapsed: 999_000_000)
        #expect(fair.values == references && fair.shocks == 0)
        // At 1 s the first symbol drops 8 % (it was at its reference), the others stay.
        fair.advance(toElapsed: 1_000_000_000)
        #expect(fair.shocks == 1)
        #expect(abs(fair.values[0] - references[0] * 0.92) < 1e-6)
        #expect(Array(fair.values.dropFirst()) == Array(references.dropFirst()))
        // Each symbol in turn; the first, now below its reference, comes back up 8 %.
        fair.advance(toElapsed: UInt64(Self.instruments.count) * 1_000_000_000)
        #expect(fair.values.indices.allSatisfy { i in abs(fair.values[i] - references[i] * 0.92) < 1e-6 })
        fair.advance(toElapsed: UInt64(Self.instruments.count + 1) * 1_000_000_000)
        #expect(abs(fair.values[0] - references[0] * 0.92 * 1.08) < 1e-6)
        // Named when it does not fit the drift window; off by default.
        var c = try AgentsConfiguration.parse(#"{"fair_value": {"shock_interval_s": 60, "shock_pct": 12}}"#, source: "s.json")
        #expect(c.problems(symbolCount: 5).contains { $0.contains("fair_value.shock_pct is 12.0") }, "\(c.problems(symbolCount: 5))")
        c = AgentsConfiguration()
        #expect(c.fairValue.shockIntervalSeconds == 0)
    }

    @Test func aHaltedSymbolGetsNoNewOrders() {
        let c = Self.configuration(seed: 5)
        var agents = AgentRunnerPopulation.make(c, instruments: Self.instruments)
        var market = MarketState(symbolCount: Self.instruments.count)
        var fair = FairValue(seed: c.seed, parameters: c.fairValue, instruments: Self.instruments)
        market.apply(.systemEvent(.init(timestamp: 0, code: .startOfMarketHours)))
        market.symbols[1].tradingState = ITCH.TradingState.halted.rawValue
        var onOther = 0
        for step in 0..<500 {
            let now = UInt64(step) * 10_000_000
            for i in Self.instruments.indices {
                market.symbols[i].bestBid = Self.instruments[i].referencePrice - 100
                market.symbols[i].bestAsk = Self.instruments[i].referencePrice + 100
                if step % 2 == 0 {
                    let price = Self.instruments[i].referencePrice + Price(step % 7) * 100
                    market.apply(.trade(.init(locate: UInt16(i + 1), timestamp: 0, side: ITCH.buy, shares: 100,
                                              symbol: Self.instruments[i].symbol, price: price, matchNumber: 0)))
                }
            }
            fair.advance(toElapsed: now)
            for a in agents.indices {
                for intent in agents[a].decide(now: now, market: market, fair: fair) {
                    if case .enter(_, let symbol, _, _, _, _) = intent {
                        #expect(symbol != 1, "agent \(a) entered \(intent) on the halted symbol")
                        onOther += 1
                    }
                    if case .replace(let existing, _, _, _) = intent {
                        #expect(agents[a].orders[existing]?.symbol != 1, "agent \(a) replaced on the halted symbol")
                    }
                }
            }
        }
        #expect(onOther > 0, "nothing entered on the symbol still trading")
    }

    @Test func theConfigurationNamesEveryProblem() {
        #expect(throws: AgentsConfigurationError.self) { try AgentsConfiguration.parse("[1]", source: "x.json") }
        do {
            _ = try AgentsConfiguration.parse(#"{"seed": 1, "market_makrs": {}, "noise_traders": {"count": "two"}}"#, source: "x.json")
            Issue.record("accepted a misspelt member")
        } catch {
            #expect("\(error)".contains("unknown member \"market_makrs\""), "\(error)")
            #expect("\(error)".contains("noise_traders.count must be a whole number"), "\(error)")
        }
        var c = try! AgentsConfiguration.parse(#"{"market_makers": {"count": 3, "min_spread_ticks": 5, "max_spread_ticks": 2}, "noise_traders": {"count": 6}}"#,
                                              source: "y.json")
        let problems = c.problems(symbolCount: 5)
        #expect(problems.contains { $0.contains("max_spread_ticks (2) is below min_spread_ticks (5)") }, "\(problems)")
        #expect(problems.contains { $0.contains("11 agents but 8 accounts") }, "\(problems)")
        c = AgentsConfiguration()
        #expect(c.problems(symbolCount: 5).isEmpty, "\(c.problems(symbolCount: 5))")
        #expect(c.problems(symbolCount: 5, maxOrderSize: 150) == ["an agent may send 200 shares, above the exchange's risk.max_order_size (150)"])
    }
}

/// The population as the runner makes it, without sockets.
enum AgentRunnerPopulation {
    static func make(_ c: AgentsConfiguration, instruments: [InstrumentSpec]) -> [Agent] {
        AgentRunner.population(c, instruments: instruments, symbols: Array(instruments.indices), tokenPrefix: "T")
    }
}

extension OUCHAccepted {
    static var sample: OUCHAccepted {
        OUCHAccepted(timestamp: 0, token: OrderToken("S")!, side: .buy, shares: 1, symbol: Symbol("AAPL")!, price: 1,
                     timeInForce: .marketHours, firm: .blank, display: .anonymous, reference: 1, capacity: .agency,
                     intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live, bboWeight: 0)
    }
}

extension OUCHReplaced {
    static var sample: OUCHReplaced {
        OUCHReplaced(timestamp: 0, token: OrderToken("S")!, side: .buy, shares: 1, symbol: Symbol("AAPL")!, price: 1,
                     timeInForce: .marketHours, firm: .blank, display: .anonymous, reference: 1, capacity: .agency,
                     intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live, previousToken: OrderToken("S")!,
                     bboWeight: 0)
    }
}
