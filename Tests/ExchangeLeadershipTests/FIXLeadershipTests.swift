import ExchangeConfig
import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Logging
import Testing

extension EtcdSuites {
    /// A primary whose lease lapsed closes its FIX sessions as it closes OUCH's
    /// (docs/FAILOVER.md): a Logout whose Text(58) names the reason, then the close; a later
    /// Logon, trading or drop copy, is refused with a Logout saying why. etcd started by the
    /// test and stopped (SIGSTOP) so that the lease cannot be renewed; every wait bounded.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct FIXLeadershipTests {
        @Test func aPrimaryWhoseLeaseLapsedLogsOutItsFIXAndDropCopySessionsAndRefusesNewLogons() async throws {
            try await EtcdServer.with { etcd in
                let place = try EtcdSuites.PromotionTests.Place()
                let configuration = try EtcdSuites.PromotionTests.configuration(place, etcd, name: "primary-a", journal: "a", replication: .none,
                                                                               role: .primary)
                var options = Appliance.Options(countersPath: place.root + "/a.counters", apiKeys: devKeys)
                options.fixPort = 0
                options.dropCopyPort = 0
                let appliance = try Appliance.start(configuration, options: options,
                                                    logger: Logger(label: "fix-leadership-test", factory: { _ in SwiftLogNoOpLogHandler() }))
                var drained = false
                defer {
                    etcd.resume()
                    if !drained { _ = appliance.drain() }
                }
                let trading = try MiniFIXClient(port: appliance.fixPort, username: "DEMO1")
                trading.logon(password: "demo1pass")
                let logon = trading.next(ofType: "A")
                try #require(logon != nil, "no Logon answer on the FIX port")
                let dropCopy = try MiniFIXClient(port: appliance.dropCopyPort, username: "DEMO1")
                dropCopy.logon(password: "demo1pass")
                try #require(dropCopy.next(ofType: "A") != nil, "no Logon answer on the drop-copy port")

                etcd.pause()
                let closed = waitUntil(timeout: .seconds(20), pollInterval: .milliseconds(10)) { !(appliance.leadership?.isLeading ?? true) }
                #expect(closed, "the primary still acknowledges with etcd stopped")
                let reason = "RTES: disconnected: this exchange is no longer the primary (its leadership lapsed); log on at the standby"
                for (name, client) in [("trading", trading), ("drop copy", dropCopy)] {
                    let logout = client.next(ofType: "5")
                    #expect(MiniFIXClient.field(logout ?? "", 58) == reason, "\(name): \(logout ?? "no Logout")")
                    #expect(client.closes(), "\(name): the connection stayed open after the Logout")
                }
                // Logons while not the leader: refused, saying why (the password is right).
                for (port, name) in [(appliance.fixPort, "DEMO2"), (appliance.dropCopyPort, "DEMO1")] {
                    let late = try MiniFIXClient(port: port, username: name)
                    late.logon(password: name == "DEMO1" ? "demo1pass" : "demo2pass")
                    let refused = late.next(ofType: "5")
                    #expect(MiniFIXClient.field(refused ?? "", 58) == "this exchange is no longer the primary (its leadership lapsed); log on at the standby",
                            "\(port): \(refused ?? "no Logout")")
                    #expect(late.closes())
                }
                let disconnects = appliance.counters.snapshot().block("gateway_disconnects")?["leadership_lost"] ?? 0
                #expect(disconnects >= 2, "leadership_lost counted \(disconnects)")
                etcd.resume()
                drained = true
                _ = appliance.drain()
            }
        }

        /// A new leadership term skips one MsgSeqNum in every FIX session of the day
        /// (docs/FAILOVER.md, "FIX"): a primary restarted on its journal (a new term, as a
        /// promoted standby's is) answers the session's next Logon one MsgSeqNum on, and the
        /// skipped one is resent as a SequenceReset-GapFill; the drop copy skips one as well.
        @Test func aNewTermSkipsOneMsgSeqNumInEveryFIXSessionAndGapFillsIt() async throws {
            try await EtcdServer.with { etcd in
                let place = try EtcdSuites.PromotionTests.Place()
                let configuration = try EtcdSuites.PromotionTests.configuration(place, etcd, name: "primary-a", journal: "a", replication: .none,
                                                                               role: .primary)
                let logger = Logger(label: "fix-term-test", factory: { _ in SwiftLogNoOpLogHandler() })
                func start(_ counters: String) throws -> Appliance {
                    var options = Appliance.Options(countersPath: place.root + "/" + counters, apiKeys: devKeys)
                    options.fixPort = 0
                    options.dropCopyPort = 0
                    return try Appliance.start(configuration, options: options, logger: logger)
                }
                // First term: a FIX session logs on and sends one Heartbeat; the exchange is stopped.
                let first = try start("a1.counters")
                var firstDrained = false
                defer { if !firstDrained { _ = first.drain() } }
                let trading = try MiniFIXClient(port: first.fixPort, username: "DEMO1")
                trading.logon(password: "demo1pass")
                try #require(trading.next(ofType: "A") != nil, "no Logon answer on the FIX port")
                _ = first.drain()
                firstDrained = true
                var highest = 0
                while let message = trading.next(timeout: 30) {
                    highest = max(highest, Int(MiniFIXClient.field(message, 34) ?? "") ?? 0)
                }
                #expect(highest >= 1, "no MsgSeqNum seen in the first term")

                // Second term, on the same journal.
                let second = try start("a2.counters")
                defer { _ = second.drain() }
                let again = try MiniFIXClient(port: second.fixPort, username: "DEMO1")
                again.sequence = trading.sequence
                again.logon(password: "demo1pass")
                let logon = again.next(ofType: "A")
                #expect(MiniFIXClient.field(logon ?? "", 34) == "\(highest + 2)", "Logon after the new term: \(logon ?? "none")")
                again.send("2", [(7, "\(highest + 1)"), (16, "0")])
                let gapFill = again.next(ofType: "4")
                #expect(MiniFIXClient.field(gapFill ?? "", 34) == "\(highest + 1)", "\(gapFill ?? "no SequenceReset")")
                #expect(MiniFIXClient.field(gapFill ?? "", 123) == "Y", "\(gapFill ?? "no SequenceReset")")
                // The resend covers the skipped number and the Logon after it (a session message):
                // one gap fill to the next MsgSeqNum.
                #expect(MiniFIXClient.field(gapFill ?? "", 36) == "\(highest + 3)", "\(gapFill ?? "no SequenceReset")")
                // The drop copy, never logged on: its first message is MsgSeqNum 2.
                let dropCopy = try MiniFIXClient(port: second.dropCopyPort, username: "DEMO1")
                dropCopy.logon(password: "demo1pass")
                let dropLogon = dropCopy.next(ofType: "A")
                #expect(MiniFIXClient.field(dropLogon ?? "", 34) == "2", "drop-copy Logon after the new term: \(dropLogon ?? "none")")
            }
        }
    }
}

/// A FIX 4.4 client on a blocking loopback socket (the gateway tests' FIXTestClient, small).
final class MiniFIXClient {
    let fd: Int32
    let username: String
    var sequence = 1
    private var pending: [UInt8] = []

    struct Failed: Error, CustomStringConvertible { let description: String }

    init(port: Int, username: String) throws {
        self.username = username
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw MiniFIXClient.Failed(description: "cannot connect to \(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ type: String, _ fields: [(Int, String)]) {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        var parts = tm()
        var seconds = t.tv_sec
        gmtime_r(&seconds, &parts)
        let sendingTime = String(format: "%04d%02d%02d-%02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                                 parts.tm_hour, parts.tm_min, parts.tm_sec, t.tv_nsec / 1_000_000)
        let header: [(Int, String)] = [(35, type), (49, username), (56, "RTES"), (34, "\(sequence)"), (52, sendingTime)]
        let body = (header + fields).map { "\($0.0)=\($0.1)\u{01}" }.joined()
        let head = "8=FIX.4.4\u{01}9=\(body.utf8.count)\u{01}" + body
        let sum = head.utf8.reduce(0) { ($0 + Int($1)) % 256 }
        let bytes = Array((head + "10=" + String(format: "%03d", sum) + "\u{01}").utf8)
        sequence += 1
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func logon(password: String) { send("A", [(98, "0"), (108, "30"), (553, username), (554, password)]) }

    static func field(_ message: String, _ tag: Int) -> String? {
        for part in message.split(separator: "|") where part.hasPrefix("\(tag)=") { return String(part.dropFirst("\(tag)=".count)) }
        return nil
    }

    /// The next whole message (`|` for SOH); nil when closed or nothing within `timeout` s.
    func next(timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = messageEnd() {
                let message = String(decoding: pending[..<end], as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|")
                pending.removeSubrange(..<end)
                return message
            }
            if Date() > deadline { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return nil }
            if poller.revents == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN) { return nil }
            if n > 0 { pending += buffer[..<n] }
        }
    }

    /// Messages until one of type `type` (included); nil when none comes.
    func next(ofType type: String, timeout: Double = 30) -> String? {
        while let message = next(timeout: timeout) {
            if Self.field(message, 35) == type { return message }
        }
        return nil
    }

    /// Whether the exchange closes the connection within `timeout` seconds.
    func closes(timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return false }
            if poller.revents == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return true }
        }
        return false
    }

    private func messageEnd() -> Int? {
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
