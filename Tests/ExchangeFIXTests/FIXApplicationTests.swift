import ExchangeCore
@testable import ExchangeFIX
import Testing

/// A logged-on session and its application mapping, driven like the gateway would.
final class Trading {
    let h = Harness()
    var app = FIXApplication(configuration: {
        var c = FIXApplicationConfiguration(client: 7, firm: Firm("RTES")!, execIDPrefix: 7, midnight: midnight)
        c.maximumClOrdIDs = 8
        return c
    }())
    var commands: [EngineCommand] = []

    init() { _ = h.logon() }

    /// Sends an application message; returns what was sent back at once.
    @discardableResult
    func send(_ type: String, _ body: String) -> [String] {
        h.send(type, body)
        guard case .application = h.events.last else { return h.sent.suffix(1).map { $0 } }
        var scratch = [UInt8](repeating: 0, count: 1024)
        let r = scratch.withUnsafeMutableBytes { app.inbound(h.session.message, now: h.now, timestamp: 9 * 3_600_000_000_000, body: $0) }
        if let c = r.command { commands.append(c) }
        var out: [String] = []
        if let problem = r.reject {
            var o = [UInt8](repeating: 0, count: 1024)
            let n = o.withUnsafeMutableBytes { h.session.reject(problem, now: h.now, out: $0) }
            out.append(text(o[0..<n]))
            h.sent.append(contentsOf: out)
        }
        if r.replyLength > 0 {
            out.append(h.sendApp(r.replyType, String(decoding: scratch[0..<r.replyLength], as: UTF8.self)
                .replacingOccurrences(of: "\u{01}", with: "|")))
        }
        return out
    }

    /// The engine's event, as the session's client would receive it.
    @discardableResult
    func event(_ e: EngineEvent, maker: Bool = false) -> String? {
        var scratch = [UInt8](repeating: 0, count: 1024)
        guard let (type, n) = scratch.withUnsafeMutableBytes({ app.report(e, maker: maker, body: $0) }) else { return nil }
        return h.sendApp(type, String(decoding: scratch[0..<n], as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|"))
    }

    var lastEnter: EnterOrder? { if case .enter(let e) = commands.last { e } else { nil } }
}

let transact = "60=20261207-09:00:00.000"
let ts: Timestamp = 9 * 3_600_000_000_000

func accepted(_ o: EnterOrder, reference: OrderReference, state: OrderState = .live) -> EngineEvent {
    .accepted(OrderAccepted(timestamp: ts, client: o.client, token: o.token, reference: reference, instrument: 0, side: o.side,
                            orderType: o.orderType, shares: o.shares, price: o.price, timeInForce: o.timeInForce, firm: o.firm,
                            display: o.display, capacity: o.capacity, intermarketSweep: o.intermarketSweep,
                            minimumQuantity: o.minimumQuantity, crossType: o.crossType, state: state))
}

func executed(_ o: EnterOrder, shares: Shares, price: Price, match: MatchNumber, taker: Bool = true) -> EngineEvent {
    .executed(OrderExecuted(timestamp: ts, instrument: 0, shares: shares, price: price, matchNumber: match,
                            takerClient: taker ? o.client : 99, takerToken: taker ? o.token : OrderToken(number: 1),
                            takerReference: 1, takerSide: .buy, makerClient: taker ? 99 : o.client,
                            makerToken: taker ? OrderToken(number: 2) : o.token, makerReference: 2, makerSide: .sell,
                            makerDisplay: .anonymous))
}

@Suite struct FIXApplicationMapping {
    @Test func newOrderSingleBecomesAnEnterWithAUniqueToken() throws {
        let t = Trading()
        t.send("D", "11=ORD-1|55=AAPL|54=1|38=100|40=2|44=150.25|59=0|\(transact)")
        let e = try #require(t.lastEnter)
        #expect(e.client == 7 && e.side == .buy && e.shares == 100 && e.price == 1_502_500 && e.symbol == Symbol("AAPL")!)
        #expect(e.orderType == .limit && e.timeInForce == .marketHours && e.firm == Firm("RTES")!)
        #expect(e.token.description == "FX000000000001")
        t.send("D", "11=ORD-2|55=AAPL|54=2|38=100|40=1|59=4|\(transact)")
        let fok = try #require(t.lastEnter)
        #expect(fok.orderType == .market && fok.timeInForce == .immediateOrCancel && fok.minimumQuantity == 100)
        #expect(fok.token.description == "FX000000000002")
        t.send("D", "11=ORD-3|55=AAPL|54=5|38=100|40=2|44=1|18=6|110=10|59=3|\(transact)")
        let post = try #require(t.lastEnter)
        #expect(post.display == .postOnly && post.minimumQuantity == 10 && post.side == .sellShort && post.timeInForce == .immediateOrCancel)
        t.send("D", "11=ORD-4|55=AAPL|54=1|38=100|40=2|44=1|111=0|59=6|126=20261207-09:10:00.000|\(transact)")
        let hidden = try #require(t.lastEnter)
        #expect(hidden.display == .nonDisplayed && hidden.timeInForce == .seconds(600))
    }

    @Test func unsupportedValuesAreRejectedWithAnExecutionReportAndMalformedOnesWithReject() {
        let t = Trading()
        let gtc = t.send("D", "11=A|55=AAPL|54=1|38=100|40=2|44=1|59=1|\(transact)")
        #expect(field(gtc[0], 35) == "8" && field(gtc[0], 150) == "8" && field(gtc[0], 39) == "8" && field(gtc[0], 11) == "A")
        let dup = t.send("D", "11=A|55=AAPL|54=1|38=100|40=2|44=1|\(transact)")
        #expect(field(dup[0], 103) == "6")
        let side = t.send("D", "11=B|55=AAPL|54=9|38=100|40=2|44=1|\(transact)")
        #expect(field(side[0], 35) == "3" && field(side[0], 373) == "5" && field(side[0], 371) == "54")
        let missing = t.send("D", "11=C|55=AAPL|54=1|38=100|40=2|\(transact)")
        #expect(field(missing[0], 35) == "3" && field(missing[0], 373) == "1" && field(missing[0], 371) == "44")
        let price = t.send("D", "11=D|55=AAPL|54=1|38=100|40=2|44=1.00001|\(transact)")
        #expect(field(price[0], 373) == "5" && field(price[0], 371) == "44")
        let foreign = t.send("D", "11=E|55=AAPL|54=1|38=100|40=2|44=1|\(transact)|99=1")
        #expect(field(foreign[0], 373) == "2" && field(foreign[0], 371) == "99")
        let reserve = t.send("D", "11=F|55=AAPL|54=1|38=100|40=2|44=1|111=10|\(transact)")
        #expect(field(reserve[0], 150) == "8")
        #expect(t.commands.isEmpty)
    }

    @Test func aTokenBaseMovesEveryTokenAndOnlyTheTableItsOwnRecognises() throws {
        var table = FIXOrderTable(capacity: 4)
        table.tokenBase = 345_600_000_000
        let id = "B1".utf8.map { $0 }
        let index = try id.withUnsafeBytes { try table.add($0, kind: .order).get() }
        let token = table.engineToken(index)
        #expect(token.description == "FX345600000001")
        #expect(table.index(of: token) == index)
        // The same entry of a table without the base (an earlier process's) is not this one's.
        #expect(table.index(of: FIXOrderTable.token(index)) == nil)
    }

    @Test func theClOrdIDTableIsBoundedAndSaysSo() {
        let t = Trading()
        for i in 0..<8 { t.send("D", "11=O\(i)|55=AAPL|54=1|38=1|40=2|44=1|\(transact)") }
        #expect(t.commands.count == 8)
        let full = t.send("D", "11=O9|55=AAPL|54=1|38=1|40=2|44=1|\(transact)")
        #expect(field(full[0], 150) == "8" && field(full[0], 58) == "ClOrdID limit for the day reached")
        let long = Trading()
        let r = long.send("D", "11=\(String(repeating: "x", count: 33))|55=AAPL|54=1|38=1|40=2|44=1|\(transact)")
        #expect(field(r[0], 150) == "8")
    }

    @Test func executionReportsCarryQuantitiesAndAveragePriceAsFIXDefinesThem() throws {
        let t = Trading()
        t.send("D", "11=ORD-1|55=AAPL|54=1|38=300|40=2|44=10.5|\(transact)")
        let o = try #require(t.lastEnter)
        let new = try #require(t.event(accepted(o, reference: 777)))
        #expect(field(new, 150) == "0" && field(new, 39) == "0" && field(new, 37) == "777" && field(new, 151) == "300")
        #expect(field(new, 14) == "0" && field(new, 6) == "0" && field(new, 17) == "7.1" && field(new, 44) == "10.5")
        let fill1 = try #require(t.event(executed(o, shares: 100, price: 100_000, match: 1)))
        #expect(field(fill1, 150) == "F" && field(fill1, 39) == "1" && field(fill1, 32) == "100" && field(fill1, 31) == "10")
        #expect(field(fill1, 151) == "200" && field(fill1, 14) == "100" && field(fill1, 6) == "10")
        let fill2 = try #require(t.event(executed(o, shares: 200, price: 100_001, match: 2)))
        // (100 × 10 + 200 × 10.0001) / 300 = 10.00006666…, exact to 8 decimals
        #expect(field(fill2, 39) == "2" && field(fill2, 151) == "0" && field(fill2, 14) == "300" && field(fill2, 6) == "10.00006666")
        #expect(field(fill2, 17) == "7.3")
        #expect(t.event(executed(o, shares: 1, price: 1, match: 3), maker: true) == nil)  // not the maker
    }

    @Test func cancelAndReplaceAnswerWithTheRequestsClOrdIDs() throws {
        let t = Trading()
        t.send("D", "11=ORD-1|55=AAPL|54=1|38=300|40=2|44=10|\(transact)")
        let o = try #require(t.lastEnter)
        t.event(accepted(o, reference: 5))
        t.event(executed(o, shares: 100, price: 100_000, match: 1))
        t.send("G", "11=ORD-2|41=ORD-1|55=AAPL|54=1|38=500|40=2|44=11|\(transact)")
        guard case .replace(let r) = t.commands.last else { Issue.record("no replace"); return }
        #expect(r.existingToken == o.token && r.shares == 400 && r.price == 110_000)
        let replaced = try #require(t.event(.replaced(OrderReplaced(
            timestamp: ts, client: 7, token: r.replacementToken, previousToken: o.token, reference: 6, previousReference: 5,
            instrument: 0, side: .buy, shares: 400, price: 110_000, timeInForce: .marketHours, firm: o.firm, display: .anonymous,
            capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live))))
        #expect(field(replaced, 150) == "5" && field(replaced, 39) == "1" && field(replaced, 11) == "ORD-2" && field(replaced, 41) == "ORD-1")
        #expect(field(replaced, 38) == "500" && field(replaced, 14) == "100" && field(replaced, 151) == "400" && field(replaced, 37) == "5")
        let stale = t.send("F", "11=C-0|41=ORD-1|55=AAPL|54=1|\(transact)")
        #expect(field(stale[0], 35) == "9" && field(stale[0], 434) == "1" && field(stale[0], 102) == "1")
        t.send("F", "11=C-1|41=ORD-2|55=AAPL|54=1|\(transact)")
        guard case .cancel(let c) = t.commands.last else { Issue.record("no cancel"); return }
        #expect(c.token == r.replacementToken && c.shares == 0)
        let canceled = try #require(t.event(.canceled(OrderCanceled(timestamp: ts, client: 7, token: c.token, reference: 6,
                                                                      instrument: 0, decrement: 400, remaining: 0, reason: .userRequested))))
        #expect(field(canceled, 150) == "4" && field(canceled, 39) == "4" && field(canceled, 11) == "C-1" && field(canceled, 41) == "ORD-2")
        #expect(field(canceled, 151) == "0" && field(canceled, 14) == "100")
        let status = t.send("H", "11=ORD-2|55=AAPL|54=1")
        #expect(field(status[0], 150) == "I" && field(status[0], 39) == "4")
        let unknown = t.send("H", "11=NOPE|55=AAPL|54=1")
        #expect(field(unknown[0], 150) == "I" && field(unknown[0], 39) == "8")
    }

    /// Answers given at once count their ExecIDs apart (`<prefix>-<n>`) from reports of engine
    /// events (`<prefix>.<n>`): a status asked while the engine still owes a report does not
    /// change that report's ExecID, so replay (which meets the status after the report's event)
    /// gives it the same one (docs/FIX.md, "Across restarts").
    @Test func answersGivenAtOnceCountTheirExecIDsApartFromReportsOfEngineEvents() throws {
        let t = Trading()
        t.send("D", "11=A1|55=AAPL|54=1|38=100|40=2|44=10|\(transact)")
        let o = try #require(t.lastEnter)
        let status = t.send("H", "11=A1|55=AAPL|54=1")
        #expect(field(status[0], 150) == "I" && field(status[0], 17) == "7-1")
        let unknown = t.send("H", "11=NOPE|55=AAPL|54=1")
        #expect(field(unknown[0], 17) == "7-2")
        let stop = t.send("D", "11=S1|55=AAPL|54=1|38=100|40=3|44=10|\(transact)")
        #expect(field(stop[0], 150) == "8" && field(stop[0], 17) == "7-3")
        let new = try #require(t.event(accepted(o, reference: 1)))
        #expect(field(new, 150) == "0" && field(new, 17) == "7.1")
        #expect(t.app.execCounter == 1 && t.app.answerExecCounter == 3)
    }

    @Test func engineRejectsAndCancelRejectsMapToFIX() throws {
        let t = Trading()
        t.send("D", "11=ORD-1|55=ZZZZ|54=1|38=100|40=2|44=10|\(transact)")
        let o = try #require(t.lastEnter)
        let rej = try #require(t.event(.rejected(OrderRejected(timestamp: ts, client: 7, token: o.token, reason: .unknownSymbol))))
        #expect(field(rej, 150) == "8" && field(rej, 103) == "1" && field(rej, 58) == "unknown symbol")
        t.send("D", "11=ORD-2|55=AAPL|54=1|38=100|40=2|44=10|\(transact)")
        let o2 = try #require(t.lastEnter)
        t.event(accepted(o2, reference: 8))
        t.send("F", "11=C-2|41=ORD-2|55=AAPL|54=1|\(transact)")
        let cxlRej = try #require(t.event(.cancelRejected(CancelRejected(timestamp: ts, client: 7, token: o2.token, reason: .unknownOrder))))
        #expect(field(cxlRej, 35) == "9" && field(cxlRej, 11) == "C-2" && field(cxlRej, 41) == "ORD-2" && field(cxlRej, 39) == "0")
        let expired = try #require(t.event(.canceled(OrderCanceled(timestamp: ts, client: 7, token: o2.token, reference: 8, instrument: 0,
                                                                     decrement: 100, remaining: 0, reason: .timeout))))
        #expect(field(expired, 150) == "C" && field(expired, 39) == "C" && field(expired, 11) == "ORD-2")
        let mass = t.send("q", "11=M-1|530=7|\(transact)")
        #expect(field(mass[0], 35) == "r" && field(mass[0], 531) == "7")
        guard case .cancelAll(let a) = t.commands.last else { Issue.record("no cancelAll"); return }
        #expect(a.client == 7)
        let bySymbol = t.send("q", "11=M-2|530=1|55=AAPL|\(transact)")
        #expect(field(bySymbol[0], 531) == "0")
    }
}
