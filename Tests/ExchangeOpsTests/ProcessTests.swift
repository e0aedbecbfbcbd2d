import ExchangeConfig
import ExchangeOps
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// The real `trading_exchange` executable (built by `swift build --build-tests`), started
/// and stopped the way an operator or systemd does.
@Suite(.serialized) struct ExchangeProcess {
    static var executable: URL {
        // The test bundle sits in the build directory beside the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("trading_exchange").path)
            && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("trading_exchange")
    }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// - Parameter launcher: a program and its arguments that run the exchange (e.g. setpriv
    ///   dropping a capability), the exchange's path and `arguments` after them.
    static func start(_ arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
        env["RTES_API_KEYS_FILE"] = devKeysPath
        env.merge(environment) { $1 }
        env = env.filter { !$0.value.isEmpty || $0.key != "RTES_API_KEYS_FILE" }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func finish(_ process: Process, _ out: Pipe, _ err: Pipe) -> Run {
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   errors: String(decoding: errors, as: UTF8.self))
    }

    static func writeConfig(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "rtes-process-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    @Test(.enabled(if: built, "trading_exchange is not built: run `swift build --build-tests` (make test does)"))
    func startsServesAndStopsCleanlyOnSigterm() throws {
        let port = freePort()
        let config = try Self.writeConfig(testConfiguration(metricsPort: port, name: "TEST-PROCESS-\(getpid())"))
        let counters = NSTemporaryDirectory() + "rtes-process-\(getpid()).counters"
        defer { unlink(config); unlink(counters); unlink(counters + ".lock") }
        let (process, out, err) = try Self.start([config, "--counters", counters])
        // The admin plane answers once the process has started (bounded: 10 s).
        var health: (status: Int, body: String)?
        waitUntil(pollInterval: .milliseconds(20)) {
            health = httpGet("http://127.0.0.1:\(port)/health", timeout: 1)
            return health != nil
        }
        #expect(health?.status == 200)
        let metrics = httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(metrics?.body.contains("rtes_up 1") == true)
        #expect(httpGet("http://127.0.0.1:\(port)/ready")?.body.contains(#""ready":true"#) == true)
        process.terminate()  // SIGTERM
        let run = Self.finish(process, out, err)
        #expect(run.status == 0, "stderr: \(run.errors)")
        #expect(run.output.contains("final counters"))
        #expect(run.errors.contains("SIGTERM: draining"))
        #expect(run.errors.contains("region memory region 'engine'"))
    }

    @Test(.enabled(if: built, "trading_exchange is not built"))
    func refusesABadConfigurationListingEveryProblem() throws {
        let config = try Self.writeConfig("""
            {"exchange": {"tcp_port": 0, "bogus": 1}, "symbols": [], "risk": {"max_order_size": -5}}
            """)
        defer { unlink(config) }
        let (process, out, err) = try Self.start([config])
        let run = Self.finish(process, out, err)
        #expect(run.status == 2)
        for path in ["exchange.tcp_port", "exchange.bogus", "symbols", "risk.max_order_size"] {
            #expect(run.errors.contains(path), "missing \(path) in: \(run.errors)")
        }
    }

    /// RTES_LOG_FORMAT=json: every line the running exchange writes to standard error, from
    /// start to its drain on SIGTERM, is one JSON object with the time, level, label and message.
    @Test(.enabled(if: built, "trading_exchange is not built"))
    func writesOneJSONObjectPerLogLineWhenAsked() throws {
        let port = freePort()
        let config = try Self.writeConfig(testConfiguration(metricsPort: port, name: "TEST-JSONLOG-\(getpid())"))
        let counters = NSTemporaryDirectory() + "rtes-jsonlog-\(getpid()).counters"
        defer { unlink(config); unlink(counters); unlink(counters + ".lock") }
        let (process, out, err) = try Self.start([config, "--counters", counters], environment: ["RTES_LOG_FORMAT": "json"])
        waitUntil(pollInterval: .milliseconds(20)) { httpGet("http://127.0.0.1:\(port)/health", timeout: 1) != nil }
        process.terminate()
        let run = Self.finish(process, out, err)
        #expect(run.status == 0, "stderr: \(run.errors)")
        let lines = run.errors.split(separator: "\n")
        #expect(lines.count > 3)
        var messages: [String] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            guard let object else { continue }
            for key in ["time", "level", "label", "message", "source", "file", "line"] {
                #expect(object[key] != nil, "no \(key) in \(line)")
            }
            messages.append(object["message"] as? String ?? "")
        }
        #expect(messages.contains { $0.contains("SIGTERM: draining") }, "\(messages)")
    }

    @Test(.enabled(if: built, "trading_exchange is not built"))
    func refusesToStartWithoutTheAccountsFile() throws {
        let config = try Self.writeConfig(testConfiguration(metricsPort: freePort(), name: "NOKEYS"))
        defer { unlink(config) }
        var (process, out, err) = try Self.start([config], environment: ["RTES_API_KEYS_FILE": ""])
        var run = Self.finish(process, out, err)
        #expect(run.status == 2 && run.errors.contains("RTES_API_KEYS_FILE is not set"))
        (process, out, err) = try Self.start(["--check", config], environment: ["RTES_API_KEYS_FILE": "/nonexistent/keys.json"])
        run = Self.finish(process, out, err)
        #expect(run.status == 2 && run.errors.contains("cannot open the API keys file \"/nonexistent/keys.json\""))
    }

    @Test(.enabled(if: built, "trading_exchange is not built"))
    func checksAConfigurationWithoutStarting() throws {
        let config = try Self.writeConfig(testConfiguration(metricsPort: freePort(), name: "CHECK"))
        defer { unlink(config) }
        let (process, out, err) = try Self.start(["--check", config])
        let run = Self.finish(process, out, err)
        #expect(run.status == 0)
        #expect(run.output.contains("valid"))
        // The memory it prints is the plan start-up maps its regions with.
        let loaded = try ConfigurationLoader.load(path: config, environment: [:], host: .current())
        let plan = MemoryPlan(loaded.configuration, accounts: devKeys.accounts.count)
        #expect(run.output.contains(plan.summary), "\(run.output)")
    }

    @Test(.enabled(if: built, "trading_exchange is not built"))
    func namesABadLogLevelAndAnUnknownOverride() throws {
        let config = try Self.writeConfig(testConfiguration(metricsPort: freePort(), name: "ENV"))
        defer { unlink(config) }
        var (process, out, err) = try Self.start(["--check", config], environment: ["RTES_LOG_LEVEL": "loud"])
        var run = Self.finish(process, out, err)
        #expect(run.status == 2 && run.errors.contains("RTES_LOG_LEVEL=loud"))
        (process, out, err) = try Self.start(["--check", config], environment: ["RTES_LOG_FORMAT": "xml"])
        run = Self.finish(process, out, err)
        #expect(run.status == 2 && run.errors.contains("RTES_LOG_FORMAT=xml is not a log format"), "\(run.errors)")
        (process, out, err) = try Self.start(["--check", config], environment: ["RTES_RISK_MAX_ORDR_SIZE": "5"])
        run = Self.finish(process, out, err)
        #expect(run.status == 2 && run.errors.contains("RTES_RISK_MAX_ORDR_SIZE"))
    }

    @Test(.enabled(if: built, "trading_exchange is not built"))
    func refusesABindAddressThisHostDoesNotHave() throws {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): no host of ours holds it.
        let unheld = try #require(HostFacts.interfaceAddresses(), "getifaddrs failed").contains(IPv4Address("192.0.2.254")!) == false
        try #require(unheld, "this host holds 192.0.2.254")
        let config = try Self.writeConfig(testConfiguration(metricsPort: freePort(), name: "BIND"))
        defer { unlink(config) }
        for arguments in [["--check", config], [config, "--counters", NSTemporaryDirectory() + "rtes-bind-\(getpid()).counters"]] {
            let (process, out, err) = try Self.start(arguments, environment: ["RTES_EXCHANGE_BIND_ADDRESS": "192.0.2.254"])
            let run = Self.finish(process, out, err)
            #expect(run.status == 2, "\(arguments): \(run.errors)")
            #expect(run.errors.contains("exchange.bind_address: 192.0.2.254 is not an address of this host"), "\(run.errors)")
        }
    }
}
