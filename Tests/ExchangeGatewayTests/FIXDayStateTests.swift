import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeRisk
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// FIX sessions in day snapshots (docs/DURABILITY.md, the `fix` section): a day of FIX order
/// entry and a drop copy is journaled live; then the journal is replayed three ways — whole
/// into a gateway (recovery without a snapshot), into the snapshot agent's FIX replica, and
/// into a gateway restored from that replica's section at a mid-day sequence, fed only the
/// records after it. The three hold the same FIX state byte for byte (sequence numbers both
/// ways, resend stores, ClOrdID tables, ExecID counters, the drop copy's book), and a client
/// that resumes on the snapshot-restored gateway gets the next MsgSeqNum with no gap and no
/// duplicate, and its ResendRequest the messages it was sent live.
@Suite(.serialized) struct FIXDayStateTests {
    /// A raw FIX client over the rig: its own MsgSeqNum, and every message it read (fields
    /// joined with `|`).
    final class FIXPeer {
        let fd: Int32
        let username: String
        var next = 1
        var pending: [UInt8] = []
        var messages: [String] = []
        init(port: Int, username: String) {
            fd = connectLoopback(Int32(port))
            self.username = username
        }
        func send(_ type: String, _ fields: [(Int, String)]) {
            let bytes = fixClientMessage(type, sequence: next, fields, sender: username)
            next += 1
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    guard n > 0 else { return }
                    offset += n
                }
            }
        }
        func read() {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { break }
                pending += buffer[0..<n]
            }
            // A message ends with `␁10=xxx␁`.
            while let end = Self.messageEnd(pending) {
                messages.append(String(decoding: pending[0..<end], as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|"))
                pending.removeFirst(end)
            }
        }
        static func messageEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 8 else { return nil }
            for i in 0..<(bytes.count - 7) where bytes[i] == 0x01 && bytes[i + 1] == 0x31 && bytes[i + 2] == 0x30 && bytes[i + 3] == 0x3D
                && bytes[i + 7] == 0x01 {
                return i + 8
            }
            return nil
        }
        func close() { Glibc.close(fd) }
    }

    static func field(_ message: String, _ tag: Int) -> String? {
        for part in message.split(separator: "|") where part.hasPrefix("\(tag)=") { return String(part.dropFirst("\(tag)=".count)) }
        return nil
    }

    /// A message without what a resend changes: BodyLength, CheckSum, PossDupFlag,
    /// SendingTime, OrigSendingTime.
    static func resendInvariant(_ message: String) -> [String] {
        message.split(separator: "|").map(String.init).filter { f in !["9=", "10=", "43=", "52=", "122="].contains { f.hasPrefix($0) } }
    }

    static func settings() -> FIXSettings {
        var fix = FIXSettings()
        fix.maxConnections = 4
        fix.maxSessions = 2
        fix.resendStoreMessages = 256
        fix.maxClOrdIDs = 1_024
        fix.dropCopyPort = 1  // the rig listens on a port the kernel chooses
        return fix
    }

    @Test func aGatewayRestoredFromTheFIXSectionAndTheTailEqualsAFullReplay() throws {
        let knobs = ExchangeKnobs(heartbeatIntervalMilliseconds: 1_000, idleTimeoutMilliseconds: 60_000)
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current())
            .configuration
        let clock = ManualClock()
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let wallNanoseconds = UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec)
        let midnight = (wallNanoseconds - clock.now() + 500_000_000) / 1_000_000_000 * 1_000_000_000
        var live = try GatewayEngineRig(configuration: configuration, clock: clock, authenticatorThread: true, durability: .async,
                                        journalCapacity: 8_192, fix: Self.settings(), epochMidnight: midnight)
        let liveMemory = live.memory
        var ouch = RawClients(capacity: 1)
        ouch.fds[0] = connectLoopback(Int32(live.port))
        Client.login(.demo2).withUnsafeBytes { ouch.send(0, $0, rig: &live) }
        #expect(ouch.pump(&live, seconds: 30) { $0.tallies[0].loginAccepted == 1 }, "the OUCH seller was not logged in")
        let trader = FIXPeer(port: live.fixPort, username: "DEMO1")
        let watcher = FIXPeer(port: live.dropCopyPort, username: "DEMO1")
        func pump(_ rig: inout GatewayEngineRig<ManualClock>, _ clients: [FIXPeer], _ what: String, until done: () -> Bool) {
            let deadline = Deadline(seconds: 30)
            repeat {
                ouch.turn(&rig)
                for c in clients { c.read() }
                if done() { return }
            } while !deadline.hasPassed
            Issue.record("did not happen within 30 s: \(what)")
        }
        func has(_ c: FIXPeer, _ predicate: (String) -> Bool) -> Bool { c.messages.contains(where: predicate) }
        let logon: [(Int, String)] = [(98, "0"), (108, "30"), (553, "DEMO1"), (554, "demo1pass")]
        trader.send("A", logon)
        watcher.send("A", logon)
        pump(&live, [trader, watcher], "both Logons answered") { has(trader) { Self.field($0, 35) == "A" } && has(watcher) { Self.field($0, 35) == "A" } }
        func order(_ id: String, side: String, qty: Int, price: String) {
            trader.send("D", [(11, id), (55, "AAPL"), (54, side), (60, "20260101-00:00:00"), (38, "\(qty)"), (40, "2"), (44, price)])
        }
        func report(_ id: String, _ execType: String) -> (String) -> Bool {
            { Self.field($0, 11) == id && Self.field($0, 150) == execType }
        }
        // Before the snapshot: a session message (Heartbeat answering TestRequest), orders that
        // rest and trade, a status answered at once, a session-level Reject.
        // Each step waits for its answers (FIXExecIDRaceTests races them).
        trader.send("1", [(112, "T1")])
        pump(&live, [trader, watcher], "the first Heartbeat") { has(trader) { Self.field($0, 112) == "T1" } }
        order("B1", side: "1", qty: 100, price: "230")
        order("B2", side: "1", qty: 50, price: "200")
        pump(&live, [trader, watcher], "the first orders answered") { has(trader, report("B1", "0")) && has(trader, report("B2", "0")) }
        trader.send("H", [(11, "B1"), (54, "1"), (55, "AAPL")])
        pump(&live, [trader, watcher], "the status answered") { has(trader) { Self.field($0, 150) == "I" } }
        trader.send("D", [(11, "X1"), (55, "AAPL"), (54, "9"), (38, "1"), (40, "2"), (44, "1"), (60, "20260101-00:00:00")])
        pump(&live, [trader, watcher], "the session-level Reject") { has(trader) { Self.field($0, 35) == "3" } }
        Client.order("S1", "S", 60, "AAPL", price(230)).withUnsafeBytes { ouch.send(0, $0, rig: &live) }
        pump(&live, [trader, watcher], "B1 partly filled, the drop copy told") {
            has(trader, report("B1", "F")) && has(watcher) { Self.field($0, 35) == "8" && Self.field($0, 150) == "F" }
        }
        let head = live.takeJournal()
        // After it: a cancel by ClOrdID of an order from before, a replace, another fill.
        trader.send("F", [(11, "C2"), (41, "B2"), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00")])
        trader.send("G", [(11, "B1R"), (41, "B1"), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00"), (38, "120"), (40, "2"),
                          (44, "231")])
        pump(&live, [trader, watcher], "the cancel and the replace answered") { has(trader, report("C2", "4")) && has(trader, report("B1R", "5")) }
        Client.order("S2", "S", 30, "AAPL", price(231)).withUnsafeBytes { ouch.send(0, $0, rig: &live) }
        pump(&live, [trader, watcher], "B1R partly filled") { has(trader, report("B1R", "F")) }
        trader.send("1", [(112, "T2")])
        pump(&live, [trader, watcher], "the second Heartbeat") { has(trader) { Self.field($0, 112) == "T2" } }
        let tail = live.takeJournal()
        let sentLive = trader.messages
        let liveState = live.gateway.fixDayState()
        let account = try #require(devKeys.accounts.firstIndex { $0.username == "DEMO1" })
        #expect(head.contains { if case .fixSession = $0.command { true } else { false } })
        #expect(!tail.isEmpty)

        // Replays. Each gateway is a recovering one (not started, the day continuing).
        func restarted() throws -> GatewayEngineRig<ManualClock> {
            try GatewayEngineRig(configuration: configuration, clock: ManualClock(nanoseconds: clock.now()), authenticatorThread: true,
                                 durability: .async, journalCapacity: 8_192, startsDay: false, startGateway: false, fix: Self.settings(),
                                 epochMidnight: midnight)
        }
        func engine() -> RiskCheckedEngine {
            RiskCheckedEngine(configuration: configuration.engineConfiguration(), limits: configuration.riskLimits)
        }
        // 1. The whole day into a gateway.
        var whole = try restarted()
        let wholeMemory = whole.memory
        var wholeEngine = engine()
        for record in head + tail {
            whole.gateway.replayCommand(record.command)
            for event in wholeEngine.runCollecting(record.command) { whole.gateway.replayOrderEvent(event) }
        }
        let wholeState = whole.gateway.fixDayState()
        #expect(whole.gateway.fixReplayMismatches == 0)
        #expect(whole.gateway.fixSessionState(account: account)?.nextOutbound == live.gateway.fixSessionState(account: account)?.nextOutbound)
        // 2. The replica up to the snapshot, its section; it goes on to the end.
        var replica = FIXDayReplica(settings: Self.settings(), keys: devKeys, symbols: configuration.symbols.map(\.symbol),
                                    epochMidnight: midnight)
        var replicaEngine = engine()
        func apply(_ records: [SequencedCommand]) {
            for record in records {
                replica.apply(record.command)
                for event in replicaEngine.runCollecting(record.command) { replica.route(event) }
            }
        }
        apply(head)
        let section = replica.encoded()
        #expect(replica.sessionsBound == 1)
        // 3. A gateway restored from the section, fed the records after it (events from an engine
        // at the snapshot: the replica's own, which the engine snapshot tests cover restoring).
        var resumed = try restarted()
        let resumedMemory = resumed.memory
        try section.withUnsafeBytes { try resumed.gateway.restoreFIXDayState($0) }
        for record in tail {
            resumed.gateway.replayCommand(record.command)
            for event in replicaEngine.runCollecting(record.command) { resumed.gateway.replayOrderEvent(event) }
        }
        // The replica, given the tail too, and restored from its own section into another.
        var again = FIXDayReplica(settings: Self.settings(), keys: devKeys, symbols: configuration.symbols.map(\.symbol),
                                  epochMidnight: midnight)
        try section.withUnsafeBytes { try again.restore($0) }
        #expect(again.encoded() == section, "a section read back and written again differs")
        var tailEngine = engine()
        for record in head { _ = tailEngine.runCollecting(record.command) }
        for record in tail {
            again.apply(record.command)
            for event in tailEngine.runCollecting(record.command) { again.route(event) }
        }
        let resumedState = resumed.gateway.fixDayState()
        #expect(resumedState == wholeState, "snapshot + tail: \(resumedState.count) B; full replay: \(wholeState.count) B")
        #expect(again.encoded() == wholeState, "the replica restored from its section and fed the tail differs from a full replay")
        #expect(liveState == wholeState, "the live gateway's FIX state differs from a full replay's")
        #expect(resumed.gateway.fixSessionState(account: account)?.nextOutbound == live.gateway.fixSessionState(account: account)?.nextOutbound)
        #expect(resumed.gateway.dropCopySessionState(account: account)?.nextOutbound == live.gateway.dropCopySessionState(account: account)?.nextOutbound)
        // A wrong section is refused with a reason, not taken.
        var refused = FIXDayReplica(settings: Self.settings(), keys: devKeys, symbols: configuration.symbols.map(\.symbol),
                                    epochMidnight: midnight + 86_400_000_000_000)
        var otherDay: DayStateError?
        do { try section.withUnsafeBytes { try refused.restore($0) } } catch { otherDay = error as? DayStateError }
        #expect(otherDay?.description.contains("another UTC day") == true, "\(String(describing: otherDay))")
        var truncated = FIXDayReplica(settings: Self.settings(), keys: devKeys, symbols: configuration.symbols.map(\.symbol),
                                      epochMidnight: midnight)
        var short: DayStateError?
        do { try Array(section.dropLast(9)).withUnsafeBytes { try truncated.restore($0) } } catch { short = error as? DayStateError }
        #expect(short?.description.contains("ends early") == true, "\(String(describing: short))")

        // The client resumes on the snapshot-restored gateway: cut, it logs on again without
        // ResetSeqNumFlag and asks for everything again.
        trader.close()
        watcher.close()
        ouch.closeAll()
        live.shutDown()
        liveMemory.release()
        try resumed.gateway.onStart()
        let back = FIXPeer(port: resumed.fixPort, username: "DEMO1")
        back.next = trader.next
        back.send("A", logon)
        let quiet = RawClients(capacity: 1)
        func pumpResumed(_ rig: inout GatewayEngineRig<ManualClock>, _ what: String, until done: () -> Bool) {
            let deadline = Deadline(seconds: 30)
            repeat {
                quiet.turn(&rig)
                back.read()
                if done() { return }
            } while !deadline.hasPassed
            Issue.record("did not happen within 30 s: \(what)")
        }
        pumpResumed(&resumed, "the Logon answered") { has(back) { Self.field($0, 35) == "A" } }
        let lastLive = sentLive.compactMap { Self.field($0, 34).flatMap(Int.init) }.max() ?? 0
        let logonAnswer = back.messages.first { Self.field($0, 35) == "A" }
        #expect(logonAnswer.flatMap { Self.field($0, 34) } == "\(lastLive + 1)", "no gap, no duplicate: \(logonAnswer ?? "none")")
        back.send("2", [(7, "1"), (16, "0")])
        pumpResumed(&resumed, "the resend up to the Logon") {
            has(back) { m in
                (Self.field(m, 35) == "4" && (Self.field(m, 36).flatMap(Int.init) ?? 0) > lastLive)
                    || (Self.field(m, 43) == "Y" && (Self.field(m, 34).flatMap(Int.init) ?? 0) >= lastLive)
            }
        }
        let resent = back.messages.filter { Self.field($0, 43) == "Y" && Self.field($0, 35) == "8" }
        let liveReports = sentLive.filter { Self.field($0, 35) == "8" }
        #expect(resent.map(Self.resendInvariant) == liveReports.map(Self.resendInvariant),
                "resent \(resent.count) reports, \(liveReports.count) were sent live")
        back.close()
        quiet.closeAll()
        resumed.shutDown()
        resumedMemory.release()
        whole.shutDown()
        wholeMemory.release()
    }
}
