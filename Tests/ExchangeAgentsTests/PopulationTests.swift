import ExchangeAgents
import ExchangeClient
import ExchangeCore
import ExchangeFeed
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Glibc
import Testing

/// A small population against an in-process exchange running an accelerated day (pre-open
/// 1 s, continuous 4 s, post-close 1 s, then the next day's pre-open and open), all of it
/// through the gateway and the multicast feed: trades on every symbol, the makers' spreads
/// within bounds, positions within the limit, a pause through post-close and trading again
/// after the next open, and no agent over its message rate or open-order bound.
@Suite(.serialized) struct PopulationTests {
    static let day = #""enabled": true, "pre_open": "09:00", "open": "09:02", "close": "09:10", "end": "09:12", "clock_rate": 120, "start_time": "09:00", "opening_imbalance_seconds": 60, "closing_imbalance_seconds": 60, "imbalance_interval_seconds": 30"#


    enum Event {
        case phase(MarketPhase)
        case sent(agent: Int, at: UInt64, intent: Intent, seen: MarketPhase)
        case rejectedClosed(agent: Int)
    }

    @Test func aPopulationTradesPausesThroughPostCloseAndResumes() throws {
        let instruments = [
            InstrumentSpec(symbol: Symbol("AAPL")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 2_300_000),
            InstrumentSpec(symbol: Symbol("MSFT")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 4_200_000),
            InstrumentSpec(symbol: Symbol("QUIET")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 500_000),
        ]
        var c = AgentsConfiguration()
        c.seed = 11
        c.decisionIntervalMilliseconds = 20
        c.maxOpenOrders = 8
        c.maxMessagesPerSecond = 60
        c.maxPosition = 600
        c.makers.count = 2
        c.makers.quoteShares = 100
        c.makers.minSpreadTicks = 2
        c.makers.maxSpreadTicks = 12
        c.noise.count = 2
        c.noise.activity = 0.8
        c.noise.marketableProbability = 0.6
        c.noise.maxShares = 100
        c.momentum.lookback = 4
        c.momentum.thresholdBasisPoints = 1
        c.meanReversion.lookback = 4
        c.meanReversion.thresholdBasisPoints = 1
        c.fairValue.stepMilliseconds = 50

        let port = loopbackUDPPort()
        var knobs = ExchangeKnobs()
        knobs.udpPort = port
        knobs.tradingDay = Self.day
        let feed = try FeedClient(group: 0xEF00_0001, port: UInt16(port), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                  retransmitPort: 9, instrumentCount: instruments.count, orderCapacity: 20_000)
        let runner = try AgentRunner(configuration: c, instruments: instruments, feed: feed, clock: monotonicNanoseconds, tokenPrefix: "PT")
        var events: [Event] = []
        var sends = 0
        runner.onSend = { agent, at, intent, seen in
            events.append(.sent(agent: agent, at: at, intent: intent, seen: seen))
            sends += 1
        }
        runner.onMessage = { agent, message in
            if case .rejected(_, _, let reason) = message, reason == UInt8(ascii: "C") { events.append(.rejectedClosed(agent: agent)) }
        }
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        try runner.connect(addresses: [ExchangeAddress(port: exchange.port)], password: { Credentials.password($0) })
        defer { runner.close() }

        var phases: [MarketPhase] = []
        var tradesAtFirstClose: [UInt64]?
        var sendsAtReopen: Int?
        var opensAfterClose = 0
        var widestQuote = 0, narrowestQuote = Int.max
        let tick = 100
        let done = waitUntil(timeout: .seconds(40), pollInterval: .microseconds(1)) {
            runner.step(waitMilliseconds: 2)
            let phase = runner.market.phase
            if phases.last != phase {
                phases.append(phase)
                events.append(.phase(phase))
                // The first close by which every symbol has traded (a loaded host may log the
                // agents in late in the first day), and the opens after it.
                if phase == .closed && (tradesAtFirstClose == nil || tradesAtFirstClose!.contains(0)) {
                    tradesAtFirstClose = runner.market.symbols.map(\.tradeCount)
                    opensAfterClose = 0
                    sendsAtReopen = nil
                }
                if phase == .open && tradesAtFirstClose != nil { opensAfterClose += 1 }
            }
            for agent in runner.agents where agent.role == .marketMaker {
                for (_, q) in agent.quotes {
                    let spread = Int(q.ask - q.bid) / tick
                    widestQuote = max(widestQuote, spread)
                    narrowestQuote = min(narrowestQuote, spread)
                }
            }
            // The second day's open, and trades in it.
            let reopened = opensAfterClose >= 1 && phases.last == .open
            guard reopened, let before = tradesAtFirstClose else { return false }
            if sendsAtReopen == nil { sendsAtReopen = sends }
            return sends > sendsAtReopen! + 20 && zip(runner.market.symbols, before).contains { $0.tradeCount > $1 }
        }
        #expect(runner.failures.allSatisfy { $0 == nil }, "sessions ended: \(runner.failures)")
        #expect(done, "phases seen \(phases), trades \(runner.market.symbols.map(\.tradeCount)) (at the close \(tradesAtFirstClose ?? []))")

        // Trades on every symbol in a day's continuous trading.
        let first = tradesAtFirstClose ?? []
        #expect(first.count == 3 && first.allSatisfy { $0 > 0 }, "trades per symbol at the close: \(first)")
        // The makers' quotes within their bounds.
        #expect(narrowestQuote >= c.makers.minSpreadTicks && widestQuote <= c.makers.maxSpreadTicks,
                "quoted spreads from \(narrowestQuote) to \(widestQuote) ticks")
        for agent in runner.agents {
            #expect(agent.counters.peakPosition <= c.maxPosition, "agent \(agent.index) held \(agent.counters.peakPosition)")
            #expect(agent.counters.peakOpenOrders <= c.maxOpenOrders, "agent \(agent.index) had \(agent.counters.peakOpenOrders) open")
            #expect(agent.counters.rejected < 40, "agent \(agent.index): \(agent.counters.rejected) rejects")
        }
        #expect(runner.agents.contains { $0.counters.executions > 0 && $0.role != .marketMaker }, "no taker traded")
        #expect(runner.agents.contains { $0.counters.executions > 0 && $0.role == .marketMaker }, "no maker traded")

        // From the sends themselves: at most max_messages_per_second in any second, per agent.
        var sendTimes: [[UInt64]] = Array(repeating: [], count: runner.agents.count)
        for case .sent(let agent, let at, _, _) in events { sendTimes[agent].append(at) }
        for (agent, times) in sendTimes.enumerated() {
            var low = 0, most = 0
            for high in times.indices {
                while times[high] - times[low] >= 1_000_000_000 { low += 1 }
                most = max(most, high - low + 1)
            }
            #expect(most <= c.maxMessagesPerSecond, "agent \(agent) sent \(most) messages in one second")
            #expect(!times.isEmpty, "agent \(agent) sent nothing")
        }

        // Nothing sent while the agent saw post-close, nor after a reject for a closed
        // exchange until the next pre-open; takers nothing in pre-open; makers quoted in pre-open.
        var paused = Set<Int>()
        var makersInPreOpen = 0, sentAfterReopen = 0, closedSeen = false, reopened = false
        var current = MarketPhase.unknown
        for event in events {
            switch event {
            case .phase(let p):
                current = p
                if p == .preOpen { paused.removeAll() }
                if p == .closed { closedSeen = true }
                if p == .open && closedSeen { reopened = true }
            case .rejectedClosed(let agent):
                // A reject for the closed exchange that reaches the agent after the next
                // pre-open already began (a loaded host: its order was sent before the close)
                // pauses nothing that the new day has not already ended.
                if current == .closed || current == .ended { paused.insert(agent) }
            case .sent(let agent, _, let intent, let seen):
                // Phases are logged after each runner step, sends during it: a send made after
                // the step saw the next pre-open is logged before that phase; its own view of
                // the phase (`seen`) is the later one.
                if seen != current && seen != .unknown {
                    if seen == .preOpen { paused.removeAll() }
                    current = seen
                }
                #expect(seen != .closed && seen != .ended, "agent \(agent) sent \(intent) in \(seen)")
                #expect(!paused.contains(agent), "agent \(agent) sent \(intent) after a reject for a closed exchange")
                if seen == .preOpen {
                    if runner.agents[agent].role.isTaker { Issue.record("taker \(agent) sent \(intent) in pre-open") } else { makersInPreOpen += 1 }
                }
                if reopened { sentAfterReopen += 1 }
            }
        }
        #expect(makersInPreOpen > 0, "no maker quoted in pre-open")
        #expect(sentAfterReopen > 0, "nothing sent after the next open")
        #expect(runner.undecodedMessages == 0)
    }
}
