import ExchangeClient
import ExchangeCore
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// A whole `trading_exchange` journaling in `sync` on a small tmpfs that fills up: answers
/// wait; past `durability.stall_budget_ms` new orders are refused (`journal_stalled`, OUCH
/// `O`, with a Debug at once) and `/health` and `/ready` say so; a cancel is still taken; when
/// space returns every answer follows, the refusal ends (one log line each way), the refused
/// token may be sent again, and every command the client saw answered is in the journal.
extension ExchangeProcess {
    @Test(.enabled(if: built, "trading_exchange is not built"),
          .enabled(if: mayMount, "mounting a small tmpfs for the journal needs root"))
    func pastTheStallBudgetNewOrdersAreRefusedCancelsTakenAndAllResumesWhenSpaceReturns() throws {
        let directory = try InstanceHygiene.Directory()
        let mountPoint = directory.path + "/small-disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        func run(_ tool: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
        try #require(run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]) == 0, "mount tmpfs failed")
        defer { _ = run("/bin/umount", ["-l", mountPoint]) }
        let metrics = freePort()
        let tcp = freePort()
        var json = testConfiguration(metricsPort: metrics, name: "STALLBUDGET-\(getpid())", tcpPort: tcp)
        json = withDurability(json, #""mode": "sync", "directory": "\#(mountPoint)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536, "stall_budget_ms": 200"#)
        let config = directory.path + "/config.json"
        try json.write(toFile: config, atomically: true, encoding: .utf8)
        let (exchange, out, err) = try Self.start([config, "--counters", directory.path + "/counters"])
        var finished: Run?
        defer {
            if finished == nil {
                kill(exchange.processIdentifier, SIGKILL)
                _ = Self.finish(exchange, out, err)
            }
        }
        let ready = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !exchange.isRunning
        }
        try #require(ready && exchange.isRunning)

        let client = try OrderEntryClient.connect(port: tcp, username: "LOAD1", password: "load1pass", sequence: 0)
        defer { client.close() }
        var messages: [OUCHMessage] = []
        var debugs: [String] = []
        func take(_ wait: Duration) {
            while let packet = try? client.poll(timeout: wait) {
                switch packet {
                case .sequenced(let m):
                    if case .systemEvent = m.message { break }  // the start of the day, if it comes
                    messages.append(m.message)
                case .debug(let text): debugs.append(text)
                default: break
                }
            }
        }
        // A resting order while the disk has room: accepted (durable).
        let resting = OrderToken("REST1")!
        try client.enter(token: resting, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: Price(1_000_000))
        let accepted = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            take(.zero)
            return messages.contains { if case .accepted(let a) = $0 { a.token == resting } else { false } }
        }
        try #require(accepted, "\(messages)")

        // Fill the disk; drive the journal past its segment with cancels of unknown orders until
        // it cannot create the next segment and stalls.
        let filler = mountPoint + "/filler"
        _ = run("/bin/dd", ["if=/dev/zero", "of=" + filler, "bs=64k", "count=1000"])
        var sent = 0
        var stalled = false
        while sent < 30_000 && !stalled {
            for _ in 0..<200 {
                try client.cancel(token: OrderToken(number: UInt64(sent)))
                sent += 1
            }
            _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
                take(.zero)
                if messages.count >= sent + 1 { return true }
                stalled = httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)?.body.contains("stalled") == true
                return stalled
            }
        }
        try #require(stalled, "the journal never stalled (\(sent) cancels)")

        // Past the budget the exchange says it refuses new orders, and is not ready.
        var health: (status: Int, body: String)?
        let refusing = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            take(.zero)
            health = httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)
            return health?.body.contains("refusing new orders") == true
        }
        #expect(refusing, "\(health?.body ?? "no answer")")
        #expect(httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 503)

        // A new order is refused — a Debug says why at once — and a cancel is taken; their
        // answers wait for the disk like every answer.
        let late = OrderToken("LATE1")!
        try client.enter(token: late, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: Price(1_000_000))
        try client.cancel(token: resting)
        let told = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            take(.zero)
            return debugs.contains { $0.contains("journal is stalled") }
        }
        #expect(told, "\(debugs)")
        let answeredWhileStalled = messages.count

        // Space again: every answer follows, in order, none lost.
        unlink(filler)
        let expected = 1 + sent + 2  // REST1, the cancels, LATE1's refusal and REST1's cancel
        let all = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(1)) {
            take(.milliseconds(1))
            return messages.count >= expected
        }
        take(.milliseconds(100))
        #expect(all && messages.count == expected, "\(messages.count) answers of \(expected) (\(answeredWhileStalled) while stalled)")
        let lastTwo = Array(messages.suffix(2))
        if lastTwo.count == 2 {
            if case .rejected(_, let token, let reason) = lastTwo[0] {
                #expect(token == late && reason == UInt8(ascii: "O"))
            } else {
                Issue.record("the order sent past the budget was not rejected: \(lastTwo[0])")
            }
            if case .canceled(_, let token, _, _) = lastTwo[1] {
                #expect(token == resting)
            } else {
                Issue.record("the cancel sent past the budget was not taken: \(lastTwo[1])")
            }
        }
        let resumed = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)?.body.contains("refusing new orders") == false
        }
        #expect(resumed)

        // The refused token was not used up.
        try client.enter(token: late, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: Price(1_000_000))
        let again = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            take(.zero)
            return messages.contains { if case .accepted(let a) = $0 { a.token == late } else { false } }
        }
        #expect(again)

        exchange.terminate()
        finished = Self.finish(exchange, out, err)
        #expect(finished?.status == 0, "stderr: \(finished?.errors.suffix(2_000) ?? "")")
        let log = finished?.errors ?? ""
        #expect(log.contains("gateway: refusing new orders") && log.contains("gateway: taking new orders again"),
                "\(log.suffix(3_000))")

        // Everything the client saw answered is in the journal: REST1 entered and canceled,
        // LATE1 refused for the stall, then entered.
        let days = try FileManager.default.contentsOfDirectory(atPath: mountPoint).filter { !$0.hasPrefix("filler") }
        let dump = Process()
        dump.executableURL = Self.executable.deletingLastPathComponent().appendingPathComponent("rtes-journal")
        dump.arguments = ["dump", mountPoint + "/" + (days.first ?? ""), "--kind", "enter", "--kind", "cancel", "--kind", "refuse"]
        let pipe = Pipe()
        dump.standardOutput = pipe
        dump.standardError = FileHandle.nullDevice
        try dump.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dump.waitUntilExit()
        let lines = text.split(separator: "\n").filter { $0.contains("REST1") || $0.contains("LATE1") }.map { line in
            line.split(separator: " ").dropFirst(2).prefix(1).joined() + (line.contains("journal_stalled") ? " journal_stalled" : "")
                + (line.contains("REST1") ? " REST1" : " LATE1")
        }
        #expect(lines == ["enter REST1", "refuse journal_stalled LATE1", "cancel REST1", "enter LATE1"], "\(text.suffix(2_000))")
    }
}
