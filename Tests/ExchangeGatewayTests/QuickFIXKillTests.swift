import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// The real `trading_exchange` process journaling in `sync`, killed with SIGKILL while a
/// QuickFIX initiator's session is under way (after a day snapshot, which recovery passes
/// over: snapshots do not hold FIX sessions yet), and started again on its journal: the
/// initiator reconnects without ResetSeqNumFlag, asks with ResendRequest for the whole day
/// (its store told it has seen nothing of ours) and gets every application message again,
/// the same message under the same MsgSeqNum, and the fill it missed while it was away.
@Suite(.serialized) struct QuickFIXAcrossAKill {
    static var executable: URL {
        // The test bundle sits in the build directory beside the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("trading_exchange").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("trading_exchange")
    }

    static var runnable: Bool { QuickFIXPeer.built != nil && FileManager.default.isExecutableFile(atPath: executable.path) }

    /// A `trading_exchange` process; killed with SIGKILL when the test is done with it.
    final class ExchangeRun {
        let process = Process()
        let log: String

        init(config: String, log: String) throws {
            self.log = log
            process.executableURL = QuickFIXAcrossAKill.executable
            process.arguments = [config]
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
            environment["RTES_API_KEYS_FILE"] = devKeysPath
            process.environment = environment
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Whether the FIX port takes connections (at most 60 s).
        func awaitReady(fixPort: Int) -> Bool {
            waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(50)) {
                guard self.process.isRunning else { return true }
                let fd = connectLoopback(Int32(fixPort), nonBlocking: false)
                if fd >= 0 { close(fd) }
                return fd >= 0
            } && process.isRunning
        }

        func kill9() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        deinit { _ = kill9() }
    }

    @Test(.enabled(if: runnable, "needs the QuickFIX initiator (.ci/deps) and trading_exchange (swift build --build-tests)"))
    func aQuickFIXSessionContinuesAfterTheExchangeIsKilledAndGetsTheDayAgain() throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        let root = FIXRestartTests.JournalRoot()
        try FileManager.default.createDirectory(atPath: root.path, withIntermediateDirectories: true)
        let store = root.path + "/quickfix"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let (tcp, fixPort) = (freePort(), freePort())
        let config = root.path + "/config.json"
        try """
        {
          "exchange": { "name": "FIX-KILL", "bind_address": "127.0.0.1", "metrics_port": \(freePort()), "tcp_port": \(tcp),
                        "udp_port": \(freePort()) },
          "market_data": { "retransmit_port": \(freePort()), "snapshot_port": \(freePort()) },
          "durability": { "mode": "sync", "directory": "\(root.path)/journal" },
          "fix": { "port": \(fixPort), "max_sessions": 4, "resend_store_messages": 256, "max_cl_ord_ids": 1024 },
          "symbols": [ { "symbol": "AAPL", "tick_size": 0.01, "reference_price": 230.00 } ],
          "risk": { "max_order_size": 100000, "max_notional_per_client": 10000000, "max_orders_per_second": 10000 },
          "performance": { "order_pool_size": 20000, "queue_capacity": 4096, "max_clients": 64, "price_levels": 65536,
                           "threading_mode": "shared", "idle_strategy": "backoff", "enable_cpu_pinning": false,
                           "hugepages": "auto", "lock_memory": false }
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)

        let first = try ExchangeRun(config: config, log: root.path + "/first.log")
        #expect(first.awaitReady(fixPort: fixPort), "the exchange did not start: \(first.output.suffix(2_000))")
        let trade = try InitiatorRun(program, [xml, "\(fixPort)", store, "DEMO1", "demo1pass", "trade"])
        defer { trade.stop() }
        #expect(trade.await("STEP ready-for-trade"), "\(trade.lines.suffix(5))")
        let seller = try SoupTestClient.loggedIn(port: tcp, .demo2)
        seller.send(Client.order("S1", "S", 50, "AAPL", price(230)))
        #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
        #expect(trade.await("STEP cut"), "\(trade.lines.suffix(5))")
        #expect(trade.exitStatus() == 0)
        // D1 trades while the initiator is away; once the seller has its Executed (sync: the
        // fill is durable), the exchange is killed.
        seller.send(Client.order("S2", "S", 100, "AAPL", price(229)))
        #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
        seller.close()
        // A day snapshot first (SIGUSR1): it holds the FIX sessions (its `fix` section), so
        // recovery starts from it and replays only the journal after it.
        kill(first.process.processIdentifier, SIGUSR1)
        #expect(waitUntil(timeout: .seconds(60)) { first.output.contains("snapshots: asked for: wrote ") },
                "no snapshot: \(first.output.suffix(1_500))")
        #expect(first.kill9() == SIGKILL)

        let seqnums = store + "/FIX.4.4-DEMO1-RTES.seqnums"
        let numbers = try String(contentsOfFile: seqnums, encoding: .ascii)
        let sender = try #require(numbers.split(separator: ":").first?.trimmingCharacters(in: .whitespacesAndNewlines))
        try "\(sender) : 0000000001".write(toFile: seqnums, atomically: true, encoding: .ascii)

        let second = try ExchangeRun(config: config, log: root.path + "/second.log")
        #expect(second.awaitReady(fixPort: fixPort), "the exchange did not start again: \(second.output.suffix(2_000))")
        let recover = try InitiatorRun(program, [xml, "\(fixPort)", store, "DEMO1", "demo1pass", "recover"])
        defer { recover.stop() }
        #expect(recover.await("DONE"), "\(recover.lines.suffix(5)) exchange: \(second.output.suffix(1_000))")
        #expect(recover.exitStatus() == 0)
        #expect(trade.problems.isEmpty && recover.problems.isEmpty, "\(trade.problems + recover.problems)")

        let before = trade.received.filter { fixField($0, 35) == "8" }
        #expect(before.count == 6, "\(before)")
        let resent = recover.received.filter { fixField($0, 43) == "Y" && fixField($0, 35) == "8" }
        for original in before {
            let copy = resent.first { fixField($0, 34) == fixField(original, 34) }
            #expect(copy.map(FIXRestartTests.resendInvariant) == FIXRestartTests.resendInvariant(original),
                    "MsgSeqNum \(fixField(original, 34) ?? "?") was\n\(original)\nresent as\n\(copy ?? "nothing")")
        }
        let missed = try #require(resent.first { fixField($0, 11) == "D1" && fixField($0, 150) == "F" }, "D1's fill was not resent")
        #expect(fixField(missed, 39) == "2" && fixField(missed, 32) == "100", "\(missed)")
        #expect(second.output.contains("recovery: day snapshot ") && !second.output.contains("passed over"),
                "\(second.output.suffix(1_500))")
        #expect(second.output.contains("recovery: FIX sessions recovered from the journal: 1")
                && !second.output.contains("did not fit their session"), "\(second.output.suffix(1_500))")
    }
}
