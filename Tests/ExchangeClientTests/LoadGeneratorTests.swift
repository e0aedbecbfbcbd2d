import CMallocCounter
@testable import ExchangeClient
import ExchangeCore
import ExchangeTestRig
import Testing

/// rtes-loadgen's engine against a real in-process exchange: every request answered,
/// every reply accounted for.
@Suite(.serialized) struct LoadGeneratorAgainstTheExchange {
    func plan(port: Int, pacing: LoadPlan.Pacing, requests: Int? = nil, duration: Duration? = nil, prefix: String) -> LoadPlan {
        LoadPlan(port: port, accounts: LoadPlan.devAccounts(2), pacing: pacing, requests: requests, duration: duration,
                 symbols: [LoadSymbol(symbol: Symbol("AAPL")!, referencePrice: 2_300_000, tick: 100),
                           LoadSymbol(symbol: Symbol("MSFT")!, referencePrice: 4_200_000, tick: 100)],
                 maxResting: 50, seed: 7, tokenPrefix: prefix, idle: .block)
    }

    /// The books every reply must balance.
    func expectAccounted(_ report: LoadReport) {
        let t = report.tally
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.isComplete && t.outstanding == 0)
        #expect(t.orders + t.cancels == t.requests)
        #expect(t.accepted + t.rejected == t.orders)
        #expect(t.rejected == 0, "\(t.rejectsByReason)")
        // Every cancel was answered: Canceled (user requested) or Cancel Reject.
        #expect(t.canceledByReason[0x55, default: 0] + t.cancelRejects == t.cancels + t.cleanupCancels)
        #expect(t.unexpected == 0 && t.resting == 0 && t.unfinished == 0)
        #expect(t.executions > 0 && t.takersFilled > 0)
        #expect(report.accepted.totalCount == UInt64(t.accepted))
        #expect(report.executed.totalCount == UInt64(t.takersFilled))
        #expect(report.accepted.valueAtPercentile(50) > 0)
    }

    @Test func accountsForEveryReplyInAClosedLoop() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let report = try LoadGenerator.run(plan(port: exchange.port, pacing: .closedLoop(window: 4), requests: 4_000, prefix: "TCL1"))
        expectAccounted(report)
        #expect(report.tally.requests == 4_000)
        #expect(report.connections.map(\.tally.requests) == [2_000, 2_000])
        // Two accounts trade with each other: both sides of each trade are this run's.
        #expect(report.tally.executions > report.tally.takersFilled)
    }

    @Test func sendsAnOpenLoopOnItsScheduleAndCountsFromIt() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let report = try LoadGenerator.run(plan(port: exchange.port, pacing: .openLoop(requestsPerSecond: 4_000),
                                                duration: .milliseconds(500), prefix: "TOL1"))
        expectAccounted(report)
        #expect((1_999...2_001).contains(report.tally.requests))
        #expect(report.sendingSeconds > 0.45 && report.sendingSeconds < 0.55)
    }

    @Test func allocatesNothingPerRequest() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        func allocations(_ requests: Int, _ prefix: String) throws -> UInt64 {
            rtes_malloc_counter_start()
            let report = try LoadGenerator.run(plan(port: exchange.port, pacing: .closedLoop(window: 2), requests: requests, prefix: prefix))
            let counts = rtes_malloc_counter_stop()
            expectAccounted(report)
            return counts.allocations
        }
        let small = try allocations(1_000, "TAL1")
        let large = try allocations(5_000, "TAL2")
        // Logging in, the report and the end cost the same either way; 4,000 more requests
        // and their replies cost nothing.
        #expect(large < small + 100, "\(small) allocations for 1,000 requests, \(large) for 5,000")
    }

    @Test func refusesATargetThatIsNotLoopback() {
        let remote = LoadPlan(host: "192.0.2.1", port: 8888, accounts: LoadPlan.devAccounts(1), requests: 1, tokenPrefix: "TNL1")
        #expect(throws: ClientError.invalidArgument("192.0.2.1 (192.0.2.1) is not a loopback address; allow remote targets explicitly to load one")) {
            try LoadGenerator.run(remote)
        }
    }

    @Test func makesTokensItCanReadBack() throws {
        let codec = try #require(LoadTokenCodec(prefix: "K3ZQ"))
        for number: UInt64 in [0, 1, 42, 1_234_567_890, LoadTokenCodec.maximumNumber] {
            let made = codec.token(number)
            #expect(codec.number(made) == number)
            #expect(made.description.count == 14 && made.description.hasPrefix("K3ZQ"))
        }
        #expect(codec.token(42).description == "K3ZQ0000000042")
        #expect(codec.number(OrderToken("K3ZR0000000042")!) == nil)
        #expect(codec.number(OrderToken("K3ZQ00000000X2")!) == nil)
        #expect(LoadTokenCodec(prefix: "abcd") == nil && LoadTokenCodec(prefix: "ABC") == nil)
    }
}

@Suite struct MessageTextFormatting {
    @Test func parsesAndPrintsPricesWithFourImpliedDecimals() {
        #expect(MessageText.parsePrice("230.00") == 2_300_000)
        #expect(MessageText.parsePrice("230") == 2_300_000)
        #expect(MessageText.parsePrice("0.0125") == 125)
        #expect(MessageText.parsePrice("230.00001") == nil)
        #expect(MessageText.parsePrice("-1") == nil && MessageText.parsePrice("1.") == nil && MessageText.parsePrice(".5") == nil)
        #expect(MessageText.parsePrice("214748.3647") == nil)
        #expect(MessageText.price(2_300_000) == "230.0000" && MessageText.price(125) == "0.0125")
        #expect(MessageText.time(34_200_000_000_001) == "09:30:00.000000001")
    }
}
