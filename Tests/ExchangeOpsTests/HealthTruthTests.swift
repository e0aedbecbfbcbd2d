import ExchangeClient
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Testing

/// `/health` and `/ready` say so while the exchange refuses orders for its own reasons, and
/// recover when it stops.
@Suite struct HealthTellsTheTruth {
    @Test(arguments: ["token_history_full", "system_busy", "order_pool_exhausted"])
    func degradesAndIsNotReadyWhileOrdersAreRefusedForASystemReason(reason: String) throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let rejects = try counters.register(EngineCounters.rejectsBlock)
        let listening = CounterCell(0)
        let gateway = try counters.register(CounterBlockDescriptor(name: "gateway", counters: [.init("listening", .gauge, listening)]))
        gateway.store(listening, 1)
        counters.registerAgent(.engine, name: "engine")
        counters.store(CountersLayout.AgentSlot.engine.offset + CountersLayout.AgentCell.running, 1)
        counters.state = .running
        var health = HealthEvaluator(stallSeconds: 1_000, refusalHoldSeconds: 10)
        let quiet = health.evaluate(counters.snapshot(), now: 0)
        #expect(quiet.status == .healthy && quiet.refusingOrders == nil)
        #expect(HealthEvaluator.readiness(counters.snapshot(), quiet).ready)
        // A client's own mistakes are not the exchange's trouble.
        rejects.store(EngineCounters.rejected(.maxOrderSizeExceeded), 50)
        #expect(health.evaluate(counters.snapshot(), now: 1).status == .healthy)

        let cause = try #require(RejectReason.allCases.first { $0.description == reason })
        rejects.store(EngineCounters.rejected(cause), 7)
        let refusing = health.evaluate(counters.snapshot(), now: 2)
        #expect(refusing.status == .degraded)
        let detail = try #require(refusing.checks.first { $0.name == "orders" }?.check)
        #expect(detail.status == .degraded && detail.detail.contains("7 \(reason)"), "\(detail.detail)")
        let readiness = HealthEvaluator.readiness(counters.snapshot(), refusing)
        #expect(!readiness.ready && readiness.reason?.contains(reason) == true)
        // Still within the hold: degraded; past it with no new refusal: healthy and ready.
        #expect(health.evaluate(counters.snapshot(), now: 11).status == .degraded)
        let recovered = health.evaluate(counters.snapshot(), now: 12.5)
        #expect(recovered.status == .healthy && recovered.refusingOrders == nil)
        #expect(HealthEvaluator.readiness(counters.snapshot(), recovered).ready)
    }

    /// A stalled journal (a disk fault being retried) degrades health and names the errors;
    /// once it resumes, health says it recovered.
    @Test func aStalledJournalDegradesHealthAndNamesTheFault() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let journal = try counters.register(JournalCounters.block)
        counters.state = .running
        var health = HealthEvaluator(stallSeconds: 1_000, refusalHoldSeconds: 10)
        journal.store(JournalCounters.durableSequence, 41)
        #expect(health.evaluate(counters.snapshot(), now: 0).checks.first { $0.name == "journal" }?.check.status == .healthy)
        journal.store(JournalCounters.stalled, 1)
        journal.store(JournalCounters.errorsNoSpace, 3)
        journal.store(JournalCounters.lag, 17)
        let stalled = health.evaluate(counters.snapshot(), now: 1)
        let check = try #require(stalled.checks.first { $0.name == "journal" }?.check)
        #expect(stalled.status != .healthy && check.status == .degraded)
        #expect(check.detail.contains("errors_no_space 3") && check.detail.contains("17 records waiting"), "\(check.detail)")
        journal.store(JournalCounters.stalled, 0)
        let resumed = try #require(health.evaluate(counters.snapshot(), now: 2).checks.first { $0.name == "journal" }?.check)
        #expect(resumed.status == .healthy && resumed.detail.contains("recovered from errors_no_space 3"), "\(resumed.detail)")
    }

    /// One account used up its share of the token history: its orders are refused, every
    /// other account still trades, and the exchange's health says what is happening.
    @Test func oneAccountsFullTokenHistoryRefusesOnlyItAndHealthSaysWhy() throws {
        // token_history 1,024 (the smallest allowed) over the 11 development accounts: 93 each.
        let exchange = try TestExchange(ExchangeKnobs(tokenHistory: 1_024))
        defer { exchange.drain() }
        let base = "http://127.0.0.1:\(try #require(exchange.appliance.admin).port)"
        #expect(httpGet(base + "/ready")?.status == 200)
        let share = 1_024 / devKeys.accounts.count
        let filler = try exchange.client("LOAD1")
        defer { filler.close() }
        let aapl = try #require(Symbol("AAPL"))
        for i in 0...share {
            // Immediate-or-cancel orders that find nothing: each token stays used.
            try filler.enter(token: try #require(OrderToken("F\(i)")), side: .buy, shares: 100, symbol: aapl, price: 2_000_000,
                             timeInForce: .immediateOrCancel)
        }
        var refused: OrderToken?
        let reading = Deadline(after: .seconds(10))
        while refused == nil && !reading.hasPassed {
            if case .rejected(_, let token, _) = try filler.nextMessage(timeout: .seconds(5)).message { refused = token }
        }
        #expect(refused == OrderToken("F\(share)"))
        // Another account still has its own share.
        let other = try exchange.client("LOAD2")
        defer { other.close() }
        try other.enter(token: try #require(OrderToken("OTHER1")), side: .sell, shares: 100, symbol: aapl, price: 2_310_000)
        let answer = try other.nextMessage(timeout: .seconds(5)).message
        let accepted = if case .accepted = answer { true } else { false }
        #expect(accepted, "LOAD2's order was not accepted: \(answer)")
        let health = try #require(httpGet(base + "/health"))
        #expect(health.status == 200 && health.body.contains(#""status":"degraded""#), "\(health.body)")
        #expect(health.body.contains("1 token_history_full"), "\(health.body)")
        let ready = try #require(httpGet(base + "/ready"))
        #expect(ready.status == 503 && ready.body.contains("token_history_full"), "\(ready.body)")
    }
}
