import ExchangeConfig
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// The FIX drop copy (docs/FIX.md, "Drop copy"): TRADER, entitled to it and moved to DEMO1's
/// firm for these tests, watches the firm's order events — DEMO1's over FIX and LOAD1's (also
/// of that firm here) over OUCH — while DEMO2, of another firm, trades against them and must
/// never appear (DEMO1, entitled in the development keys, has a drop copy of the firm too, so
/// every report goes to two sessions). A real QuickFIX initiator is the drop-copy client: it validates every message
/// against FIX44.xml, its NewOrderSingle gets BusinessMessageReject, and after a restart of
/// the exchange (journal on) its ResendRequest gets the day's reports again, PossDupFlag=Y,
/// under the same MsgSeqNums.
@Suite(.serialized) struct FIXDropCopyTests {
    static let keys: APIKeys = {
        var keys = devKeys
        let firm = keys.accounts[0].firm  // DEMO1's
        keys.accounts[2].firm = firm       // TRADER: the firm's drop copy
        keys.accounts[2].dropCopy = true
        keys.accounts[3].firm = firm       // LOAD1: the firm's OUCH client
        return keys
    }()

    static func knobs(journal: String?, mode: String = "async") -> ExchangeKnobs {
        var knobs = ExchangeKnobs()
        knobs.fix = true
        knobs.dropCopy = true
        if let journal {
            knobs.durability = #"{ "mode": "\#(mode)", "directory": "\#(journal)", "segment_bytes": 4194304, "group_commit_max_bytes": 65536 }"#
        }
        return knobs
    }

    /// ClOrdID:ExecType of each ExecutionReport not resent.
    static func kinds(_ messages: [String]) -> [String] {
        messages.filter { fixField($0, 35) == "8" && fixField($0, 43) != "Y" }.map { "\(fixField($0, 11) ?? "?"):\(fixField($0, 150) ?? "?")" }
    }

    /// The firm's day: a FIX order filled, an OUCH order partly filled then cancelled (both by
    /// DEMO2 of another firm), a FIX order rejected (unknown symbol), then LAST.
    static func tradeTheFirmsDay(_ exchange: TestExchange) throws {
        let fix = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        fix.logon(password: "demo1pass")
        #expect(fix.next(ofType: "A") != nil, "DEMO1's FIX Logon")
        FIXRestartTests.newOrder(fix, "F1", side: "1", qty: 100, price: "230")
        #expect(fix.next(ofType: "8").flatMap { fixField($0, 150) } == "0")
        let load1 = try SoupTestClient.loggedIn(port: exchange.port, .load(1))
        defer { load1.close() }
        load1.send(Client.order("O1", "B", 100, "AAPL", price(229)))
        #expect(load1.replies(1, timeout: 30)?.map(\.type) == ["A"])
        let other = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
        defer { other.close() }
        other.send(Client.order("S1", "S", 150, "AAPL", price(229)))
        #expect(other.replies(3, timeout: 30)?.map(\.type) == ["A", "E", "E"])
        #expect(load1.replies(1, timeout: 30)?.map(\.type) == ["E"])
        #expect(fix.next(ofType: "8").flatMap { fixField($0, 150) } == "F")
        load1.send(Client.unsequenced(Client.cancel("O1")))
        #expect(load1.replies(1, timeout: 30)?.map(\.type) == ["C"])
        fix.send("D", [(11, "F2"), (55, "ZZZZ"), (54, "2"), (38, "10"), (40, "2"), (44, "5"), (60, "20260101-00:00:00")])
        #expect(fix.next(ofType: "8").flatMap { fixField($0, 150) } == "8")
        FIXRestartTests.newOrder(fix, "LAST", side: "1", qty: 100, price: "100")
        #expect(fix.next(ofType: "8").flatMap { fixField($0, 150) } == "0")
    }

    @Test(.enabled(if: QuickFIXPeer.built != nil, QuickFIXPeer.missing), arguments: ["async", "sync"])
    func aQuickFIXDropCopyGetsItsFirmsReportsFromOUCHAndFIXAndGetsThemAgainAfterARestart(mode: String) throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        let root = FIXRestartTests.JournalRoot()
        let store = NSTemporaryDirectory() + "rtes-dropcopy-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: store) }

        var watch: InitiatorRun
        do {
            let exchange = try TestExchange(Self.knobs(journal: root.path, mode: mode), keys: Self.keys)
            defer { exchange.drain() }
            #expect(exchange.dropCopyPort > 0 && exchange.dropCopyPort != exchange.fixPort)
            watch = try InitiatorRun(program, [xml, "\(exchange.dropCopyPort)", store, "TRADER", "trader123", "watch"])
            defer { watch.stop() }
            #expect(watch.await("STEP watching"), "\(watch.lines.suffix(5))")
            try Self.tradeTheFirmsDay(exchange)
            #expect(watch.await("DONE"), "\(watch.lines.suffix(5))")
            #expect(watch.exitStatus() == 0)
            #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("drop_copy_rejects") == 1 && $0.gatewayCount("drop_copy_logons") == 1 },
                    "\(exchange.snapshot().gateway.filter { $0.key.hasPrefix("drop_copy") })")
        }
        #expect(watch.problems.isEmpty, "\(watch.problems)")
        let reports = watch.received.filter { fixField($0, 35) == "8" }
        #expect(Self.kinds(reports) == ["F1:0", "O1:0", "F1:F", "O1:F", "O1:4", "F2:8", "LAST:0"], "\(Self.kinds(reports))")
        #expect(reports.allSatisfy { ["DEMO1", "LOAD1"].contains(fixField($0, 1) ?? "") }, "a report of another firm's account: \(reports)")
        let f1 = try #require(reports.first { fixField($0, 11) == "F1" && fixField($0, 150) == "F" })
        #expect(fixField(f1, 1) == "DEMO1" && fixField(f1, 32) == "100" && fixField(f1, 31) == "230" && fixField(f1, 14) == "100"
                && fixField(f1, 151) == "0" && fixField(f1, 39) == "2" && fixField(f1, 6) == "230", "\(f1)")
        let o1 = try #require(reports.first { fixField($0, 11) == "O1" && fixField($0, 150) == "F" })
        #expect(fixField(o1, 1) == "LOAD1" && fixField(o1, 32) == "50" && fixField(o1, 31) == "229" && fixField(o1, 14) == "50"
                && fixField(o1, 151) == "50" && fixField(o1, 39) == "1", "\(o1)")
        let canceled = try #require(reports.first { fixField($0, 11) == "O1" && fixField($0, 150) == "4" })
        #expect(fixField(canceled, 39) == "4" && fixField(canceled, 151) == "0" && fixField(canceled, 14) == "50", "\(canceled)")
        let rejected = try #require(reports.first { fixField($0, 11) == "F2" })
        #expect(fixField(rejected, 55) == "ZZZZ" && fixField(rejected, 54) == "2" && fixField(rejected, 103) == "1", "\(rejected)")
        let reject = try #require(watch.received.first { fixField($0, 35) == "j" })
        #expect(fixField(reject, 372) == "D" && fixField(reject, 380) == "3", "\(reject)")

        // QuickFIX's store: it has seen nothing of ours (target 1); its own numbers continue.
        let seqnums = store + "/FIX.4.4-TRADER-RTES.seqnums"
        let numbers = try String(contentsOfFile: seqnums, encoding: .ascii)
        let sender = try #require(numbers.split(separator: ":").first?.trimmingCharacters(in: .whitespacesAndNewlines))
        try "\(sender) : 0000000001".write(toFile: seqnums, atomically: true, encoding: .ascii)

        let exchange = try TestExchange(Self.knobs(journal: root.path, mode: mode), keys: Self.keys)
        defer { exchange.drain() }
        let recover = try InitiatorRun(program, [xml, "\(exchange.dropCopyPort)", store, "TRADER", "trader123", "watch-recover"])
        defer { recover.stop() }
        #expect(recover.await("DONE"), "\(recover.lines.suffix(5))")
        #expect(recover.exitStatus() == 0)
        #expect(recover.problems.isEmpty, "\(recover.problems)")
        let resent = recover.received.filter { fixField($0, 43) == "Y" && fixField($0, 35) == "8" }
        #expect(resent.count == reports.count, "\(resent.map { "\(fixField($0, 34) ?? "?"):\(fixField($0, 11) ?? "?")" })")
        for original in reports {
            let copy = resent.first { fixField($0, 34) == fixField(original, 34) }
            #expect(copy.map(FIXRestartTests.resendInvariant) == FIXRestartTests.resendInvariant(original),
                    "MsgSeqNum \(fixField(original, 34) ?? "?") was\n\(original)\nresent as\n\(copy ?? "nothing")")
            #expect(copy.flatMap { fixField($0, 122) } == fixField(original, 52), "OrigSendingTime is not the original SendingTime")
        }
    }

    /// fix.tls on: the drop-copy port speaks TLS as the FIX port does (QuickFIX's
    /// SSLSocketInitiator, the server's certificate checked against the development CA).
    @Test(.enabled(if: QuickFIXPeer.built != nil, QuickFIXPeer.missing))
    func aQuickFIXSSLInitiatorWatchesTheDropCopyOverTLS() throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        var knobs = Self.knobs(journal: nil)
        knobs.fixTLS = "on"
        knobs.environment = ["RTES_TLS_CERT": try GatewayTLS.file("server.pem"), "RTES_TLS_KEY": try GatewayTLS.file("server.key")]
        let exchange = try TestExchange(knobs, keys: Self.keys)
        defer { exchange.drain() }
        let store = NSTemporaryDirectory() + "rtes-dropcopy-tls-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: store) }
        let watch = try InitiatorRun(program, [xml, "\(exchange.dropCopyPort)", store, "TRADER", "trader123", "watch",
                                               try GatewayTLS.file("ca.pem")])
        defer { watch.stop() }
        #expect(watch.await("STEP watching"), "\(watch.lines.suffix(8))")
        let load1 = try SoupTestClient.loggedIn(port: exchange.port, .load(1))
        defer { load1.close() }
        load1.send(Client.order("LAST", "B", 100, "AAPL", price(229)))
        #expect(load1.replies(1, timeout: 30)?.map(\.type) == ["A"])
        #expect(watch.await("DONE"), "\(watch.lines.suffix(8))")
        #expect(watch.exitStatus() == 0)
        #expect(watch.problems.isEmpty, "\(watch.problems)")
        #expect(watch.received.contains { fixField($0, 11) == "LAST" && fixField($0, 1) == "LOAD1" && fixField($0, 150) == "0" },
                "\(watch.received)")
        #expect(exchange.snapshot().gatewayCount("tls_failures") == 0)
    }

    /// Reports made while nobody is logged on wait in the session's store: a client that logs
    /// on later sees RTES's Logon ahead and asks for them with ResendRequest.
    @Test func reportsMadeWhileNobodyWatchesComeWithResendRequestAfterALaterLogon() throws {
        let exchange = try TestExchange(Self.knobs(journal: nil), keys: Self.keys)
        defer { exchange.drain() }
        let load1 = try SoupTestClient.loggedIn(port: exchange.port, .load(1))
        defer { load1.close() }
        load1.send(Client.order("E1", "B", 100, "AAPL", price(229)))
        #expect(load1.replies(1, timeout: 30)?.map(\.type) == ["A"])
        // Into both drop copies of the firm: DEMO1's (entitled in the development keys) and TRADER's.
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("drop_copy_messages_out") == 2 },
                "\(exchange.snapshot().gateway.filter { $0.key.hasPrefix("drop_copy") })")
        let trader = try FIXTestClient(port: exchange.dropCopyPort, username: "TRADER")
        trader.logon(password: "trader123")
        let logon = try #require(trader.next(ofType: "A"))
        #expect(fixField(logon, 34) == "2", "RTES's Logon is not after the report it kept: \(logon)")
        trader.send("2", [(7, "1"), (16, "0")])
        let resent = try #require(trader.next(ofType: "8"))
        #expect(fixField(resent, 34) == "1" && fixField(resent, 43) == "Y" && fixField(resent, 122) != nil, "\(resent)")
        #expect(fixField(resent, 11) == "E1" && fixField(resent, 1) == "LOAD1" && fixField(resent, 150) == "0"
                && fixField(resent, 151) == "100", "\(resent)")
    }

    @Test func anAccountWithoutTheEntitlementIsRefusedWithAReasonAndAnUnknownPasswordSaysNothing() throws {
        let exchange = try TestExchange(Self.knobs(journal: nil), keys: Self.keys)
        defer { exchange.drain() }
        let demo2 = try FIXTestClient(port: exchange.dropCopyPort, username: "DEMO2")
        demo2.logon(password: "demo2pass")
        let logout = try #require(demo2.next(ofType: "5"), "no Logout")
        #expect(fixField(logout, 58)?.contains("not entitled to the drop copy") == true, "\(logout)")
        #expect(demo2.closes())
        let wrong = try FIXTestClient(port: exchange.dropCopyPort, username: "TRADER")
        wrong.logon(password: "wrongpass")
        #expect(fixField(try #require(wrong.next(ofType: "5")), 58) == "Logon rejected")
        #expect(wrong.closes())
        // The entitled account logs on; a second drop-copy Logon of it is refused meanwhile;
        // its trading session (OUCH) is not its drop copy and logs in beside it.
        let trader = try FIXTestClient(port: exchange.dropCopyPort, username: "TRADER")
        trader.logon(password: "trader123")
        #expect(trader.next(ofType: "A") != nil)
        let again = try FIXTestClient(port: exchange.dropCopyPort, username: "TRADER")
        again.logon(password: "trader123")
        #expect(fixField(try #require(again.next(ofType: "5")), 58) == "this account's drop copy is already logged on")
        let ouch = try SoupTestClient.loggedIn(port: exchange.port, .trader)
        ouch.close()
        // An order sent on the drop copy never reaches the engine.
        FIXRestartTests.newOrder(trader, "X1", side: "1", qty: 100, price: "230")
        let reject = try #require(trader.next(ofType: "j"))
        #expect(fixField(reject, 380) == "3" && fixField(reject, 372) == "D", "\(reject)")
        #expect(exchange.snapshot().gatewayCount("orders_in") == 0)
    }
}
