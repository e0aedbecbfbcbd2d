import ExchangeClient
import ExchangeCore
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// A pass-through FUSE file system whose writes, syncs and fallocates can be made to fail with
/// EIO or to wait (Tests/ExchangeOpsTests/faultfs.c, built by `.ci/faultfs` against Debian's
/// libfuse3-dev): a disk that breaks or slows down under a whole running exchange, where the
/// journal agent's own tests inject the errors into the agent.
struct FaultFS {
    /// The program, or why there is none (built once per run).
    static let program: Result<String, ToolMissing> = {
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else {
            return .failure(ToolMissing(reason: "the kernel offers no FUSE (/dev/fuse is missing)"))
        }
        let script = repositoryRoot.appendingPathComponent(".ci/faultfs").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [repositoryRoot.appendingPathComponent(".build/checkers/faultfs").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return .failure(ToolMissing(reason: "cannot run \(script)")) }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let path = text.split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(ToolMissing(reason: ".ci/faultfs could not build faultfs (libfuse3-dev, installed by .ci/deps): \(text)"))
        }
        return .success(path)
    }()

    struct ToolMissing: Error { var reason: String }

    static var available: Bool { getuid() == 0 && (try? program.get()) != nil }
    static var missingReason: Comment {
        if getuid() != 0 { return "mounting a FUSE file system for the journal needs root" }
        if case .failure(let missing) = program { return Comment(rawValue: missing.reason) }
        return "faultfs is available"
    }

    let mountPoint: String
    let control: String
    private let process: Process

    /// Mounts `backing` at `mountPoint` and waits (at most 20 s) until the kernel lists it.
    init(backing: String, mountPoint: String, control: String) throws {
        self.mountPoint = mountPoint
        self.control = control
        try "ok\n".write(toFile: control, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.program.get())
        process.arguments = [backing, mountPoint, control]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let mounted = waitUntil(timeout: .seconds(20), pollInterval: .milliseconds(10)) {
            Self.isMounted(mountPoint) || !process.isRunning
        }
        guard mounted, process.isRunning else {
            unmount()
            throw ToolMissing(reason: "faultfs did not mount \(mountPoint)")
        }
    }

    static func isMounted(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }

    /// What writes, syncs and fallocates do from now on: "ok", "eio", "slow N" (milliseconds).
    /// The file is replaced at once (rename), so faultfs reads either the old word or the new.
    func set(_ mode: String) throws {
        try (mode + "\n").write(toFile: control, atomically: true, encoding: .utf8)
    }

    /// Unmounts (lazily, so a file still open cannot keep it) and waits for faultfs to exit;
    /// kills it if it has not within 10 s.
    func unmount() {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = ["-l", mountPoint]
        umount.standardOutput = FileHandle.nullDevice
        umount.standardError = FileHandle.nullDevice
        if (try? umount.run()) != nil { umount.waitUntilExit() }
        if !waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(10), { !process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The journal on a disk that fails (EIO) or slows down under a running exchange in `sync`.
extension ExchangeProcess {
    /// A running exchange journaling on faultfs, with one logged-in client.
    struct FaultyDiskExchange {
        let directory: InstanceHygiene.Directory
        let disk: FaultFS
        let backing: String
        let metrics: Int
        let exchange: Process
        let out: Pipe
        let err: Pipe
        let client: OrderEntryClient
        var messages: [OUCHMessage] = []
        var debugs: [String] = []

        mutating func take(_ wait: Duration) {
            while let packet = try? client.poll(timeout: wait) {
                switch packet {
                case .sequenced(let m):
                    if case .systemEvent = m.message { break }
                    messages.append(m.message)
                case .debug(let text): debugs.append(text)
                default: break
                }
            }
        }

        func health() -> String { httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)?.body ?? "" }

        func accepted(_ token: OrderToken) -> Bool {
            messages.contains { if case .accepted(let a) = $0 { a.token == token } else { false } }
        }
    }

    static func startOnFaultyDisk(name: String, stallBudgetMilliseconds: Int) throws -> FaultyDiskExchange {
        let directory = try InstanceHygiene.Directory()
        let backing = directory.path + "/backing"
        let mountPoint = directory.path + "/disk"
        for path in [backing, mountPoint] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        let disk = try FaultFS(backing: backing, mountPoint: mountPoint, control: directory.path + "/faultfs-control")
        do {
            let metrics = freePort()
            let tcp = freePort()
            var json = testConfiguration(metricsPort: metrics, name: "\(name)-\(getpid())", tcpPort: tcp)
            json = withDurability(json, #""mode": "sync", "directory": "\#(mountPoint)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536, "stall_budget_ms": \#(stallBudgetMilliseconds)"#)
            let config = directory.path + "/config.json"
            try json.write(toFile: config, atomically: true, encoding: .utf8)
            let (exchange, out, err) = try Self.start([config, "--counters", directory.path + "/counters"])
            let ready = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
                httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !exchange.isRunning
            }
            guard ready, exchange.isRunning,
                  let client = try? OrderEntryClient.connect(port: tcp, username: "LOAD1", password: "load1pass", sequence: 0) else {
                kill(exchange.processIdentifier, SIGKILL)
                let run = Self.finish(exchange, out, err)
                throw FaultFS.ToolMissing(reason: "the exchange on faultfs did not start: \(run.errors.suffix(2_000))")
            }
            return FaultyDiskExchange(directory: directory, disk: disk, backing: backing, metrics: metrics,
                                      exchange: exchange, out: out, err: err, client: client)
        } catch {
            disk.unmount()
            throw error
        }
    }

    static func stop(_ running: FaultyDiskExchange, cleanly: Bool) -> Run {
        running.client.close()
        if cleanly { running.exchange.terminate() } else { kill(running.exchange.processIdentifier, SIGKILL) }
        let run = Self.finish(running.exchange, running.out, running.err)
        running.disk.unmount()
        return run
    }

    /// `rtes-journal dump` of the day the exchange journaled (read from the backing
    /// directory, past faultfs), the lines that name one of `tokens`.
    static func journaled(_ backing: String, _ tokens: [String]) throws -> [String] {
        let days = try FileManager.default.contentsOfDirectory(atPath: backing)
        let dump = Process()
        dump.executableURL = executable.deletingLastPathComponent().appendingPathComponent("rtes-journal")
        dump.arguments = ["dump", backing + "/" + (days.first ?? ""), "--kind", "enter", "--kind", "cancel", "--kind", "refuse"]
        let pipe = Pipe()
        dump.standardOutput = pipe
        dump.standardError = FileHandle.nullDevice
        try dump.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dump.waitUntilExit()
        return text.split(separator: "\n").compactMap { line in
            guard let token = tokens.first(where: { line.contains($0) }) else { return nil }
            return line.split(separator: " ").dropFirst(2).prefix(1).joined()
                + (line.contains("journal_stalled") ? " journal_stalled" : "") + " " + token
        }
    }

    /// EIO on every write and sync: nothing more is answered (the answers wait), `/health`
    /// names the stall and counts the I/O errors, past the budget new orders are refused and
    /// cancels taken; when the disk works again every answer follows in order, none lost, and
    /// the journal holds everything the client saw answered.
    @Test(.enabled(if: built, "trading_exchange is not built"),
          .enabled(if: FaultFS.available, FaultFS.missingReason))
    func aDiskThatFailsWithEIOStopsAnswersUntilItWorksAgainAndLosesNothing() throws {
        var running = try Self.startOnFaultyDisk(name: "DISKEIO", stallBudgetMilliseconds: 200)
        var finished: Run?
        defer { if finished == nil { _ = Self.stop(running, cleanly: false) } }
        let aapl = Symbol("AAPL")!

        let resting = OrderToken("REST1")!
        try running.client.enter(token: resting, side: .buy, shares: 100, symbol: aapl, price: Price(1_000_000))
        let first = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            running.take(.zero)
            return running.accepted(resting)
        }
        try #require(first, "\(running.messages)")

        // The disk fails: an order sent now is not answered, and the journal says why.
        try running.disk.set("eio")
        let during = OrderToken("EIO1")!
        try running.client.enter(token: during, side: .buy, shares: 100, symbol: aapl, price: Price(990_000))
        var health = ""
        let stalled = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            running.take(.zero)
            health = running.health()
            return health.contains("stalled") && health.contains("errors_io")
        }
        #expect(stalled, "\(health)")
        let refusing = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            running.take(.zero)
            health = running.health()
            return health.contains("refusing new orders")
        }
        #expect(refusing, "\(health)")
        #expect(!running.accepted(during), "an order was acknowledged while its record could not be written")
        #expect(httpGet("http://127.0.0.1:\(running.metrics)/ready", timeout: 1)?.status == 503)

        // Past the budget: a new order is refused (a Debug says why at once), a cancel taken;
        // both answers wait for the disk.
        let late = OrderToken("LATE1")!
        try running.client.enter(token: late, side: .buy, shares: 100, symbol: aapl, price: Price(980_000))
        try running.client.cancel(token: resting)
        let told = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            running.take(.zero)
            return running.debugs.contains { $0.contains("journal is stalled") }
        }
        #expect(told, "\(running.debugs)")
        let answeredWhileFailing = running.messages.count
        #expect(answeredWhileFailing == 1, "answers while the disk failed: \(running.messages)")

        // The disk works again: EIO1 accepted, LATE1 refused, REST1 canceled, in that order.
        try running.disk.set("ok")
        let all = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(1)) {
            running.take(.milliseconds(1))
            return running.messages.count >= 4
        }
        running.take(.milliseconds(100))
        #expect(all && running.messages.count == 4, "\(running.messages)")
        let after = Array(running.messages.dropFirst())
        if after.count == 3 {
            if case .accepted(let a) = after[0] { #expect(a.token == during) } else { Issue.record("not EIO1's Accepted: \(after[0])") }
            if case .rejected(_, let token, let reason) = after[1] {
                #expect(token == late && reason == UInt8(ascii: "O"))
            } else {
                Issue.record("the order sent past the budget was not rejected: \(after[1])")
            }
            if case .canceled(_, let token, _, _) = after[2] { #expect(token == resting) } else { Issue.record("not REST1's Canceled: \(after[2])") }
        }
        let recovered = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(20)) {
            let body = running.health()
            return !body.contains("refusing new orders") && body.contains("recovered from errors_io")
        }
        #expect(recovered, "\(running.health())")

        finished = Self.stop(running, cleanly: true)
        #expect(finished?.status == 0, "stderr: \(finished?.errors.suffix(2_000) ?? "")")
        let log = finished?.errors ?? ""
        #expect(log.contains("gateway: refusing new orders") && log.contains("gateway: taking new orders again"), "\(log.suffix(3_000))")
        #expect(try Self.journaled(running.backing, ["REST1", "EIO1", "LATE1"])
                    == ["enter REST1", "enter EIO1", "refuse journal_stalled LATE1", "cancel REST1"])
    }

    /// A slow disk that keeps up within the stall budget: every answer waits for its record's
    /// sync (so none comes sooner than the disk's delay after its order), and nothing is refused.
    @Test(.enabled(if: built, "trading_exchange is not built"),
          .enabled(if: FaultFS.available, FaultFS.missingReason))
    func aSlowDiskWithinTheBudgetDelaysAnswersAndRefusesNothing() throws {
        var running = try Self.startOnFaultyDisk(name: "DISKSLOW", stallBudgetMilliseconds: 5_000)
        var finished: Run?
        defer { if finished == nil { _ = Self.stop(running, cleanly: false) } }
        let delay = 25
        try running.disk.set("slow \(delay)")
        let aapl = Symbol("AAPL")!
        var tokens: [String] = []
        for n in 0..<10 {
            let token = OrderToken("SLOW\(n)")!
            tokens.append("SLOW\(n)")
            let sent = ContinuousClock.now
            try running.client.enter(token: token, side: .buy, shares: 100, symbol: aapl, price: Price(1_000_000 - n * 100))
            let answered = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(1)) {
                running.take(.zero)
                return running.accepted(token)
            }
            let took = ContinuousClock.now - sent
            #expect(answered, "SLOW\(n) not accepted: \(running.messages)")
            // The sync of its record alone waits `delay`: an earlier answer was not gated on it.
            #expect(took >= .milliseconds(delay), "SLOW\(n) answered \(took) after it was sent, sooner than the disk synced")
        }
        #expect(!running.health().contains("refusing new orders"))
        try running.disk.set("ok")
        finished = Self.stop(running, cleanly: true)
        #expect(finished?.status == 0, "stderr: \(finished?.errors.suffix(2_000) ?? "")")
        #expect(finished?.errors.contains("gateway: refusing new orders") == false)
        #expect(try Self.journaled(running.backing, tokens) == tokens.map { "enter " + $0 })
    }
}
