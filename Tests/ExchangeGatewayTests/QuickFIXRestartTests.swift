import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// A real QuickFIX initiator across a restart of the exchange (docs/FIX.md, "Across
/// restarts"): it trades, is cut off, misses a fill; the exchange stops and starts again from
/// its journal; the initiator reconnects without ResetSeqNumFlag — with its store told it has
/// seen nothing of ours, so that it asks with ResendRequest for the whole day — and gets
/// every application message again, the same message under the same MsgSeqNum (PossDupFlag,
/// OrigSendingTime = the original SendingTime), session messages gap filled, and the fill it
/// missed. QuickFIX validates every message against FIX44.xml. Skipped without libquickfix.
@Suite(.serialized) struct QuickFIXAcrossARestart {
    @Test(.enabled(if: QuickFIXPeer.built != nil, QuickFIXPeer.missing))
    func aQuickFIXInitiatorReconnectsAfterARestartAndGetsTheDayAgainThroughResendRequest() throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        let root = FIXRestartTests.JournalRoot()
        let store = NSTemporaryDirectory() + "rtes-quickfix-restart-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: store) }
        let knobs = FIXRestartTests.knobs(journal: root.path, mode: "sync")

        var trade: InitiatorRun
        do {
            let exchange = try TestExchange(knobs)
            defer { exchange.drain() }
            trade = try InitiatorRun(program, [xml, "\(exchange.fixPort)", store, "DEMO1", "demo1pass", "trade"])
            defer { trade.stop() }
            #expect(trade.await("STEP ready-for-trade"), "\(trade.lines.suffix(5))")
            let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            defer { seller.close() }
            seller.send(Client.order("S1", "S", 50, "AAPL", price(230)))
            #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
            #expect(trade.await("STEP cut"), "\(trade.lines.suffix(5))")
            #expect(trade.exitStatus() == 0)
            #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("fix_active_connections") == 0 }, "the cut FIX connection stayed")
            seller.send(Client.order("S2", "S", 100, "AAPL", price(229)))
            #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
        }

        // QuickFIX's store: it has seen nothing of ours (target 1), it continues its own numbers.
        let seqnums = store + "/FIX.4.4-DEMO1-RTES.seqnums"
        let numbers = try String(contentsOfFile: seqnums, encoding: .ascii)
        let sender = try #require(numbers.split(separator: ":").first?.trimmingCharacters(in: .whitespacesAndNewlines))
        try "\(sender) : 0000000001".write(toFile: seqnums, atomically: true, encoding: .ascii)

        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let recover = try InitiatorRun(program, [xml, "\(exchange.fixPort)", store, "DEMO1", "demo1pass", "recover"])
        defer { recover.stop() }
        #expect(recover.await("DONE"), "\(recover.lines.suffix(5))")
        #expect(recover.exitStatus() == 0)
        #expect(trade.problems.isEmpty && recover.problems.isEmpty, "\(trade.problems + recover.problems)")

        let before = trade.received.filter { !["0", "A", "1", "4", "5", "2", "3"].contains(fixField($0, 35) ?? "") }
        #expect(before.count == 6, "\(before)")  // B1:0, B2:5, B2:I, B2:F, B3:4, D1:0
        let resent = recover.received.filter { fixField($0, 43) == "Y" && fixField($0, 35) == "8" }
        for original in before {
            let copy = resent.first { fixField($0, 34) == fixField(original, 34) }
            #expect(copy.map(FIXRestartTests.resendInvariant) == FIXRestartTests.resendInvariant(original),
                    "MsgSeqNum \(fixField(original, 34) ?? "?") was\n\(original)\nresent as\n\(copy ?? "nothing")")
            #expect(copy.flatMap { fixField($0, 122) } == fixField(original, 52), "OrigSendingTime is not the original SendingTime")
        }
        let missed = try #require(resent.first { fixField($0, 11) == "D1" && fixField($0, 150) == "F" }, "D1's fill was not resent")
        #expect(fixField(missed, 39) == "2" && fixField(missed, 32) == "100" && fixField(missed, 31) == "229", "\(missed)")
        #expect(resent.count == before.count + 1, "\(resent.map { "\(fixField($0, 34) ?? "?"):\(fixField($0, 11) ?? "?")" })")
    }
}
