import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// FIX sessions across a restart of the exchange (docs/FIX.md, "Across restarts"): the
/// journal's FIX session facts and the engine's events give back each session's sequence
/// numbers, resend store and ClOrdID table, so a client that reconnects without
/// ResetSeqNumFlag continues, and its ResendRequest for messages sent before the restart is
/// answered with the same messages (PossDupFlag, OrigSendingTime) or a gap fill over session
/// messages. (With a real QuickFIX peer: QuickFIXRestartTests.)
@Suite(.serialized) struct FIXRestartTests {
    /// A temporary journal root, removed at the end.
    final class JournalRoot {
        let path = NSTemporaryDirectory() + "rtes-fix-restart-\(getpid())-\(UUID().uuidString)"
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func knobs(journal: String, mode: String = "async") -> ExchangeKnobs {
        var knobs = ExchangeKnobs()
        knobs.fix = true
        knobs.durability = #"{ "mode": "\#(mode)", "directory": "\#(journal)", "segment_bytes": 4194304, "group_commit_max_bytes": 65536 }"#
        return knobs
    }

    /// A message shown with `|` without what a resend changes: BodyLength, CheckSum,
    /// PossDupFlag, SendingTime and OrigSendingTime.
    static func resendInvariant(_ message: String) -> [String] {
        message.split(separator: "|").map(String.init).filter { field in
            !["9=", "10=", "43=", "52=", "122="].contains { field.hasPrefix($0) }
        }
    }

    static func newOrder(_ client: FIXTestClient, _ id: String, side: String, qty: Int, price: String) {
        client.send("D", [(11, id), (55, "AAPL"), (54, side), (38, "\(qty)"), (40, "2"), (44, price), (60, "20260101-00:00:00")])
    }

    /// Every message until `last` arrives (by its ClOrdID and ExecType), skipping nothing.
    static func read(_ client: FIXTestClient, until done: (String) -> Bool) -> [String] {
        var got: [String] = []
        while let message = client.next(timeout: 30) {
            got.append(message)
            if done(message) { break }
        }
        return got
    }

    /// With `snapshot`, a day snapshot is taken mid-way (after R1 rests): the restart recovers
    /// from it (its `fix` section) and the journal after it, and the client sees the same.
    @Test(arguments: ["async", "sync"], [false, true])
    func aSessionContinuesAfterARestartAndItsResendRequestGetsTheSameMessages(mode: String, snapshot: Bool) throws {
        let root = JournalRoot()
        var sent: [String] = []  // what the exchange sent before the restart, in order
        var clientSequence = 0
        do {
            let exchange = try TestExchange(Self.knobs(journal: root.path, mode: mode))
            defer { exchange.drain() }
            let client = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
            client.logon(password: "demo1pass")
            sent += Self.read(client) { fixField($0, 35) == "A" }
            // A session message (Heartbeat answering TestRequest), an order, a status answered at
            // once, a session-level Reject, an order that rests, one that will trade.
            client.send("1", [(112, "T1")])
            sent += Self.read(client) { fixField($0, 35) == "0" }
            Self.newOrder(client, "B1", side: "1", qty: 100, price: "230")
            sent += Self.read(client) { fixField($0, 11) == "B1" && fixField($0, 150) == "0" }
            client.send("H", [(11, "B1"), (54, "1"), (55, "AAPL")])
            sent += Self.read(client) { fixField($0, 150) == "I" }
            client.send("D", [(11, "X1"), (55, "AAPL"), (54, "9"), (38, "1"), (40, "2"), (44, "1"), (60, "20260101-00:00:00")])
            sent += Self.read(client) { fixField($0, 35) == "3" }
            Self.newOrder(client, "R1", side: "1", qty: 100, price: "200")
            sent += Self.read(client) { fixField($0, 11) == "R1" && fixField($0, 150) == "0" }
            if snapshot {
                #expect(exchange.appliance.requestSnapshot(), "the exchange has no snapshot agent")
                #expect(exchange.waitFor(.seconds(30)) { $0.values("snapshots")["written"] == 1 }, "no day snapshot was written")
            }
            // An OUCH seller trades 60 of B1 while the FIX client is connected…
            let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            defer { seller.close() }
            seller.send(Client.order("S1", "S", 60, "AAPL", price(230)))
            #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
            sent += Self.read(client) { fixField($0, 11) == "B1" && fixField($0, 150) == "F" }
            clientSequence = client.sequence
            // …and the rest of it once the client is cut (no Logout): a report it misses.
            client.shutdownWithoutLogout()
            #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("fix_active_connections") == 0 }, "the cut FIX connection stayed")
            seller.send(Client.order("S2", "S", 40, "AAPL", price(230)))
            #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
            // Its five reports (B1 New, Order Status, R1 New, two fills of B1) went, the last into the store.
            #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("fix_messages_out") == 5 },
                    "\(exchange.snapshot().gateway.filter { $0.key.hasPrefix("fix_") })")
        }
        let ourNext = Int(fixField(try #require(sent.last), 34) ?? "0")! + 2  // B1's last fill, missed, then ours
        #expect(sent.map { fixField($0, 34) ?? "?" } == (1..<ourNext - 1).map { "\($0)" }, "\(sent)")

        // The restart: the day continues from the journal.
        let exchange = try TestExchange(Self.knobs(journal: root.path, mode: mode))
        defer { exchange.drain() }
        let recovery = exchange.appliance.report.filter { $0.contains("snapshot") }
        #expect(recovery.contains { $0.hasPrefix("recovery: day snapshot") } == snapshot, "\(recovery)")
        #expect(!recovery.contains { $0.contains("passed over") }, "\(recovery)")
        let client = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        client.sequence = clientSequence
        client.logon(password: "demo1pass")
        let logon = try #require(client.next(ofType: "A"), "no Logon after the restart")
        #expect(fixField(logon, 34) == "\(ourNext)", "the session's outbound MsgSeqNum did not survive: \(logon)")
        #expect(fixField(logon, 141) == nil)
        // Everything again.
        client.send("2", [(7, "1"), (16, "0")])
        var resent: [String] = []
        while resent.last.map({ fixField($0, 34) }) != "\(ourNext - 1)", let message = client.next(timeout: 30) {
            if fixField(message, 35) != "0" { resent.append(message) }
        }
        var covered = Set<Int>()
        for message in resent {
            let sequence = Int(fixField(message, 34) ?? "0")!
            #expect(fixField(message, 43) == "Y", "a resend without PossDupFlag: \(message)")
            if fixField(message, 35) == "4" {
                #expect(fixField(message, 123) == "Y")
                let next = Int(fixField(message, 36) ?? "0")!
                for s in sequence..<next { covered.insert(s) }
                // Only session messages are gap filled.
                for s in sequence..<next where s < ourNext - 1 {
                    let original = sent[s - 1]
                    #expect(!["8", "9"].contains(fixField(original, 35) ?? ""), "gap filled over an application message: \(original)")
                }
                continue
            }
            covered.insert(sequence)
            #expect(fixField(message, 122) != nil)
            if sequence < ourNext - 1 {
                #expect(Self.resendInvariant(message) == Self.resendInvariant(sent[sequence - 1]),
                        "MsgSeqNum \(sequence) resent as\n\(message)\nbut was\n\(sent[sequence - 1])")
                #expect(fixField(message, 122) == fixField(sent[sequence - 1], 52), "OrigSendingTime is not the original SendingTime")
            } else {
                // The fill the client missed: B1 filled, 100 of 100.
                #expect(fixField(message, 11) == "B1" && fixField(message, 150) == "F" && fixField(message, 39) == "2"
                        && fixField(message, 14) == "100" && fixField(message, 32) == "40", "\(message)")
            }
        }
        #expect(covered == Set(1..<ourNext), "not every MsgSeqNum came back: \(covered.sorted())")

        // The ClOrdID table came back: B1 is a duplicate; R1, resting from before, cancels.
        Self.newOrder(client, "B1", side: "1", qty: 1, price: "1")
        let duplicate = try #require(client.next(ofType: "8"))
        #expect(fixField(duplicate, 39) == "8" && fixField(duplicate, 103) == "6" && fixField(duplicate, 34) == "\(ourNext + 1)", "\(duplicate)")
        client.send("F", [(11, "C1"), (41, "R1"), (54, "1"), (55, "AAPL"), (60, "20260101-00:00:00")])
        let canceled = try #require(client.next(ofType: "8"))
        #expect(fixField(canceled, 150) == "4" && fixField(canceled, 41) == "R1" && fixField(canceled, 11) == "C1", "\(canceled)")
        let accepted = sent.first { fixField($0, 11) == "R1" }
        #expect(accepted.flatMap { fixField($0, 37) } == fixField(canceled, 37), "R1's OrderID changed")
    }
}

extension FIXTestClient {
    /// Ends the connection without a Logout, as a crashed or cut-off client's ends.
    func shutdownWithoutLogout() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}
