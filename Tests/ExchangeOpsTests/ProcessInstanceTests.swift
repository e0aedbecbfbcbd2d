import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

extension ExchangeProcess {
    /// `rtes-stat`, built beside `trading_exchange`.
    static var statExecutable: URL { executable.deletingLastPathComponent().appendingPathComponent("rtes-stat") }
    static var statBuilt: Bool { built && FileManager.default.isExecutableFile(atPath: statExecutable.path) }

    /// Two real processes with the same name and counters file: the second is refused at once
    /// naming the first's PID, the first stays ready; once the first is killed (no drain, no
    /// final state), `rtes-stat` says GONE and exits 3.
    @Test(.enabled(if: statBuilt, "trading_exchange and rtes-stat are not built: run `swift build --build-tests`"))
    func aSecondProcessIsRefusedNamingTheFirstAndRTESStatTellsAKilledOneIsGone() throws {
        let directory = try InstanceHygiene.Directory()
        let counters = directory.path + "/counters"
        let port = freePort()
        let config = directory.path + "/config.json"
        try testConfiguration(metricsPort: port, name: "TWICE-\(getpid())").write(toFile: config, atomically: true, encoding: .utf8)
        let (first, firstOut, firstErr) = try Self.start([config, "--counters", counters])
        var firstRun: Run?
        defer {
            if firstRun == nil {
                kill(first.processIdentifier, SIGKILL)
                _ = Self.finish(first, firstOut, firstErr)
            }
        }
        // Ready once serving (bounded: 10 s).
        var ready: (status: Int, body: String)?
        waitUntil(pollInterval: .milliseconds(20)) {
            ready = httpGet("http://127.0.0.1:\(port)/ready", timeout: 1)
            return ready?.status == 200
        }
        try #require(ready?.status == 200, "the first exchange never became ready")

        let (second, secondOut, secondErr) = try Self.start([config, "--counters", counters])
        let refused = Self.finish(second, secondOut, secondErr)
        #expect(refused.status == 1, "stderr: \(refused.errors)")
        #expect(refused.errors.contains("PID \(first.processIdentifier)"), "\(refused.errors)")
        #expect(httpGet("http://127.0.0.1:\(port)/ready")?.status == 200)
        #expect(first.isRunning)

        // Killed: nothing updates the counters file's state again.
        kill(first.processIdentifier, SIGKILL)
        firstRun = Self.finish(first, firstOut, firstErr)
        #expect(firstRun?.status == SIGKILL)
        let stat = Process()
        stat.executableURL = Self.statExecutable
        stat.arguments = ["--counters", counters, "--once"]
        let out = Pipe()
        let err = Pipe()
        stat.standardOutput = out
        stat.standardError = err
        try stat.run()
        let statRun = Self.finish(stat, out, err)
        #expect(statRun.status == 3, "stdout: \(statRun.output) stderr: \(statRun.errors)")
        #expect(statRun.output.contains("GONE"), "\(statRun.output)")
    }
}
