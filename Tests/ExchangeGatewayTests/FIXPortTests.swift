import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// A FIX client on a blocking loopback socket: sends messages it numbers itself, reads whole
/// messages (shown with `|`) until the exchange closes the connection.
final class FIXTestClient {
    let fd: Int32
    let username: String
    var sequence = 1
    private var pending: [UInt8] = []

    init(port: Int, username: String) throws {
        fd = connectLoopback(Int32(port), nonBlocking: false)
        self.username = username
        guard fd >= 0 else { throw ToolFailed(output: "cannot connect to the FIX port \(port): errno \(-fd)") }
    }

    deinit { close(fd) }

    func send(_ type: String, _ fields: [(Int, String)]) {
        let bytes = fixClientMessage(type, sequence: sequence, fields, sender: username)
        sequence += 1
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func logon(password: String) {
        send("A", [(98, "0"), (108, "30"), (553, username), (554, password)])
    }

    /// The next message (nil: closed, or nothing within `timeout` seconds; 0 looks once).
    func next(timeout: Double = 30) -> String? {
        let deadline = Deadline(seconds: timeout)
        while true {
            if let end = messageEnd() {
                let message = String(decoding: pending[..<end], as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|")
                pending.removeSubrange(..<end)
                return message
            }
            let last = deadline.hasPassed
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, last ? 0 : 100) >= 0 else { return nil }
            if poller.revents == 0 {
                if last { return nil }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN) { return nil }
            if n > 0 { pending += buffer[..<n] }
        }
    }

    /// Messages until one of type `type` (included), skipping heartbeats; nil when none comes.
    func next(ofType type: String, timeout: Double = 30) -> String? {
        while let message = next(timeout: timeout) {
            if fixField(message, 35) == type { return message }
        }
        return nil
    }

    /// Whether the exchange closes the connection (within `timeout`), whatever it sends first.
    func closes(timeout: Double = 30) -> Bool {
        let deadline = Deadline(seconds: timeout)
        while !deadline.hasPassed {
            if next(timeout: 1) == nil && !deadline.hasPassed {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 0) > 0 {
                    var byte: UInt8 = 0
                    if recv(fd, &byte, 1, Int32(MSG_PEEK)) == 0 { return true }
                }
            }
        }
        return false
    }

    private func messageEnd() -> Int? {
        // …␁10=ccc␁
        var i = 0
        while i + 8 <= pending.count {
            if pending[i] == 0x01 && pending[i + 1] == 0x31 && pending[i + 2] == 0x30 && pending[i + 3] == 0x3D && pending[i + 7] == 0x01 {
                return i + 8
            }
            i += 1
        }
        return nil
    }
}

/// What the FIX port decides itself: who may log on, one session per account across FIX and
/// OUCH, the account's cancel-on-disconnect. (The whole session with a real peer is
/// QuickFIXGatewayTests.swift.)
@Suite struct FIXPortLogons {
    func exchange() throws -> TestExchange {
        var knobs = ExchangeKnobs()
        knobs.fix = true
        return try TestExchange(knobs)
    }

    @Test func aWrongPasswordAndAnUnknownAccountGetLogoutLogonRejectedAndAreClosed() throws {
        let exchange = try exchange()
        defer { exchange.drain() }
        for (username, password) in [("DEMO1", "wrong"), ("NOBODY", "nobodypass")] {
            let client = try FIXTestClient(port: exchange.fixPort, username: username)
            client.logon(password: password)
            let logout = client.next(ofType: "5")
            #expect(fixField(logout ?? "", 58) == "Logon rejected", "\(username): \(logout ?? "nothing")")
            #expect(fixField(logout ?? "", 56) == username)
            #expect(client.closes(), "\(username): not closed")
        }
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("logins_rejected_not_authorized") == 2 && $0.gatewayCount("fix_logons") == 0 })
    }

    @Test func anAccountHasOneSessionWhetherItLogsOnOverFIXOrOUCH() throws {
        let exchange = try exchange()
        defer { exchange.drain() }
        // DEMO2 on OUCH: its FIX Logon (right password) is refused, saying why.
        let ouch = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
        defer { ouch.close() }
        let second = try FIXTestClient(port: exchange.fixPort, username: "DEMO2")
        second.logon(password: "demo2pass")
        #expect(fixField(second.next(ofType: "5") ?? "", 58) == "this account is already logged on (FIX or OUCH)")
        #expect(second.closes())
        // DEMO1 on FIX: its OUCH login is refused (session not available).
        let fix = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        fix.logon(password: "demo1pass")
        let logon = fix.next(ofType: "A")
        #expect(fixField(logon ?? "", 49) == "RTES" && fixField(logon ?? "", 108) == "30", "\(logon ?? "no Logon")")
        let refused = try SoupTestClient(port: exchange.port)
        defer { refused.close() }
        refused.send(Client.login(.demo1))
        #expect(refused.readUntilClosed(timeout: 30).packets.last?.type == ascii("J"))
        // The FIX session trades with the OUCH one: DEMO1 buys over FIX what DEMO2 sells over OUCH.
        ouch.send(Client.order("S1", "S", 100, "MSFT", price(420)))
        #expect(ouch.replies(1, timeout: 30)?.map(\.type) == ["A"])
        fix.send("D", [(11, "BUY1"), (55, "MSFT"), (54, "1"), (60, "20260101-00:00:00"), (38, "100"), (40, "2"), (44, "420")])
        #expect(fixField(fix.next(ofType: "8") ?? "", 150) == "0")
        let trade = fix.next(ofType: "8") ?? ""
        #expect(fixField(trade, 150) == "F" && fixField(trade, 32) == "100" && fixField(trade, 31) == "420", "\(trade)")
        #expect(ouch.replies(1, timeout: 30)?.map(\.type) == ["E"])
    }

    @Test func aCancelOnDisconnectAccountsOrdersGoWithItsFIXConnection() throws {
        let exchange = try exchange()
        defer { exchange.drain() }
        let first = try FIXTestClient(port: exchange.fixPort, username: "TRADER")
        first.logon(password: "trader123")
        #expect(first.next(ofType: "A") != nil)
        first.send("D", [(11, "REST1"), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00"), (38, "100"), (40, "2"), (44, "200")])
        #expect(fixField(first.next(ofType: "8") ?? "", 150) == "0")
        let sequence = first.sequence
        shutdown(first.fd, Int32(SHUT_RDWR))
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("active_sessions") == 0 && $0.gatewayCount("fix_disconnects") == 1 })
        // Back on FIX (the session continues): the order was canceled when the connection went.
        let again = try FIXTestClient(port: exchange.fixPort, username: "TRADER")
        again.sequence = sequence
        again.logon(password: "trader123")
        #expect(again.next(ofType: "A") != nil)
        again.send("H", [(11, "REST1"), (54, "1"), (55, "AAPL")])
        let status = again.next(ofType: "8") ?? ""
        #expect(fixField(status, 150) == "I" && fixField(status, 39) == "4", "\(status)")
    }
}

/// Bad input on the FIX port: each case ends as docs/FIX.md says, counted by reason, and the
/// exchange goes on serving others.
@Suite struct FIXPortBadInput {
    @Test func garbageBeforeLogonAndAFirstMessageOtherThanLogonCloseTheConnection() throws {
        var knobs = ExchangeKnobs()
        knobs.fix = true
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let garbage = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        _ = Array("hello, exchange\n".utf8).withUnsafeBytes { Glibc.send(garbage.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        #expect(garbage.closes(), "garbage before Logon: not closed")
        let notLogon = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        notLogon.send("0", [])
        #expect(notLogon.closes(), "a Heartbeat before Logon: not closed")
        #expect(exchange.waitFor(.seconds(30)) { ($0.disconnects["malformed_frame"] ?? 0) == 1 && ($0.disconnects["not_logged_in"] ?? 0) == 1 },
                "\(exchange.snapshot().disconnects)")
        // A garbled message after Logon (its CheckSum wrong) is ignored: the session goes on.
        let client = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        client.logon(password: "demo1pass")
        #expect(client.next(ofType: "A") != nil)
        var bad = fixClientMessage("D", sequence: client.sequence, [(11, "X1"), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00"),
                                                                    (38, "100"), (40, "2"), (44, "100")])
        bad[bad.count - 2] = bad[bad.count - 2] == 0x30 ? 0x31 : 0x30  // the CheckSum's last digit
        _ = bad.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        // The same MsgSeqNum again, well formed: it is the one the session expects.
        client.send("D", [(11, "X1"), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00"), (38, "100"), (40, "2"), (44, "100")])
        let report = client.next(ofType: "8") ?? ""
        #expect(fixField(report, 11) == "X1" && fixField(report, 150) == "0", "\(report)")
    }
}
