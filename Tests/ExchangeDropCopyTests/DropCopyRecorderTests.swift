import ExchangeConfig
import ExchangeCore
@testable import ExchangeDropCopy
import Testing

/// The rows the recorder makes of engine events, without PostgreSQL: a fill is one trade
/// (buyer and seller by side, firms from the orders) and two executions; `dropping(through:)`
/// keeps exactly the rows of later records; the database's description never shows the password.
@Suite struct DropCopyRecorderTests {
    static func keys() throws -> APIKeys {
        try APIKeys.parse(json: """
            { "accounts": [ { "username": "ALICE", "password": "alicepass1", "firm": "ALCE" },
                            { "username": "BOB", "password": "bobpass123", "firm": "BOBS" } ] }
            """, source: "keys.json")
    }

    static func accepted(client: ClientID, token: String, reference: OrderReference, side: Side, firm: String) -> EngineEvent {
        .accepted(OrderAccepted(timestamp: 1, client: client, token: OrderToken(token)!, reference: reference, instrument: 1, side: side,
                                orderType: .limit, shares: 100, price: 2_300_000, timeInForce: .systemHours, firm: Firm(firm)!,
                                display: .anonymous, capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous,
                                state: .live))
    }

    @Test func aFillIsOneTradeBetweenItsBuyerAndSellerAndTwoExecutions() throws {
        let symbols = ["AAPL", "MSFT"].map { InstrumentSpec(symbol: Symbol($0)!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: 2_300_000) }
        var recorder = DropCopyRecorder(keys: try Self.keys(), symbols: symbols)
        recorder.begin(sequence: 1)
        recorder.record(Self.accepted(client: 1, token: "B1", reference: 7, side: .sell, firm: "OTHR"))
        recorder.begin(sequence: 2)
        recorder.record(Self.accepted(client: 0, token: "A1", reference: 8, side: .buy, firm: "ALCE"))
        recorder.record(.executed(OrderExecuted(timestamp: 2, instrument: 1, shares: 40, price: 2_300_000, matchNumber: 3,
                                                takerClient: 0, takerToken: OrderToken("A1")!, takerReference: 8, takerSide: .buy,
                                                makerClient: 1, makerToken: OrderToken("B1")!, makerReference: 7, makerSide: .sell,
                                                makerDisplay: .anonymous)))
        let rows = recorder.take()
        #expect(rows.orders.reference == [7, 8])
        #expect(rows.orders.symbol == ["MSFT", "MSFT"])
        #expect(rows.trades.count == 1)
        #expect(rows.trades.buyAccount == ["ALICE"] && rows.trades.sellAccount == ["BOB"])
        #expect(rows.trades.buyFirm == ["ALCE"] && rows.trades.sellFirm == ["OTHR"])  // the order's firm, not the account's
        #expect(rows.trades.aggressor == ["buy"] && rows.trades.shares == [40] && rows.trades.matchNumber == [3])
        #expect(rows.executions.kind == ["accepted", "accepted", "executed", "executed"])
        #expect(rows.executions.sequence == [1, 2, 2, 2] && rows.executions.ordinal == [0, 0, 1, 2])
        #expect(rows.executions.liquidity == ["", "", "removed", "added"])
        #expect(recorder.take().isEmpty)

        let later = rows.dropping(through: 1)
        #expect(later.orders.reference == [8])
        #expect(later.executions.sequence == [2, 2, 2])
        #expect(later.trades.count == 1)
        #expect(rows.dropping(through: 2).isEmpty)
        #expect(rows.dropping(through: 0) == rows)
    }

    @Test func theDatabaseIsDescribedWithoutItsPassword() {
        let database = DropCopyDatabase(address: .tcp(host: "127.0.0.1", port: 5432), user: "rtes", database: "rtes", password: "s3cret-pw")
        #expect(!"\(database)".contains("s3cret-pw"))
        #expect("\(database)" == "postgresql://rtes@127.0.0.1:5432/rtes")
        #expect(DropCopyDatabase.isPlainName("rtes_2"))
        #expect(!DropCopyDatabase.isPlainName("rtes; DROP TABLE x"))
        #expect(!DropCopyDatabase.isPlainName("Rtes") && !DropCopyDatabase.isPlainName("") && !DropCopyDatabase.isPlainName("2x"))
    }
}
