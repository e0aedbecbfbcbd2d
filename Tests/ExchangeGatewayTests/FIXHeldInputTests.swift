import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// Back-pressure on the FIX port in the journaling modes, as for OUCH (HeldInputTests): a FIX
/// client that pipelines far more NewOrderSingles than the ring to the engine takes while the
/// engine stalls has its receives paused — not answered "system busy", not disconnected —
/// and every order is accepted, in the order sent, once the engine runs.
@Suite struct FIXHeldInput {
    @Test func pausesAPipeliningFIXClientAndAnswersEveryOrderInOrder() throws {
        let knobs = ExchangeKnobs(queueCapacity: 4)
        let clock = ManualClock()
        var fix = FIXSettings()
        fix.maxConnections = 2
        fix.maxSessions = 1
        fix.resendStoreMessages = 4_096
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(knobs), clock: clock, durability: .async,
                                       journalCapacity: 16_384, fix: fix)
        let memory = rig.memory
        let client = try FIXTestClient(port: rig.fixPort, username: "DEMO1")
        client.logon(password: "demo1pass")
        var logon: String?
        let logonDeadline = Deadline(seconds: 30)
        while logon == nil && !logonDeadline.hasPassed {
            rig.turn()
            logon = client.next(timeout: 0.001).flatMap { fixField($0, 35) == "A" ? $0 : nil }
        }
        #expect(logon != nil, "no Logon answer")
        _ = rig.takeJournal()

        // 1,000 orders for a ring of 4, the engine stalled: the gateway takes what it can and stops reading.
        let orders = 1_000
        let bytes = (1...orders).flatMap { i in
            fixClientMessage("D", sequence: 1 + i, [(11, "P\(i)"), (55, "AAPL"), (54, "2"), (60, "20260101-00:00:00"), (38, "100"),
                                                    (40, "2"), (44, "1")])
        }
        let flags = fcntl(client.fd, F_GETFL)
        _ = fcntl(client.fd, F_SETFL, flags | O_NONBLOCK)
        var sent = 0
        func push() {
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n > 0 { sent += n } else { return }
            }
        }
        for _ in 0..<400 {
            push()
            rig.turnGatewayOnly()
        }
        rig.advance(clock, milliseconds: 1)  // the counters (the engine takes a few commands)
        let held = memory.counters.snapshot()
        #expect(held.gatewayCount("input_holds") >= 1)
        #expect(held.gatewayCount("backpressure_rejects") == 0)

        // The engine runs: every order accepted, in order, none refused.
        _ = fcntl(client.fd, F_SETFL, flags)
        var reports: [String] = []
        let deadline = Deadline(seconds: 60)
        while reports.count < orders && !deadline.hasPassed {
            push()
            rig.turn()
            _ = rig.takeJournal()
            while let message = client.next(timeout: 0.0) {
                if fixField(message, 35) == "8" { reports.append(message) }
            }
        }
        #expect(sent == bytes.count)
        #expect(reports.count == orders)
        #expect(reports.allSatisfy { fixField($0, 150) == "0" }, "\(reports.first { fixField($0, 150) != "0" } ?? "")")
        #expect(reports.map { fixField($0, 11) ?? "" } == (1...orders).map { "P\($0)" })
        rig.advance(clock, milliseconds: 1)
        let after = memory.counters.snapshot()
        #expect(after.gatewayCount("backpressure_rejects") == 0)
        #expect(after.gatewayCount("fix_disconnects") == 0)
        rig.shutDown()
        memory.release()
    }
}
