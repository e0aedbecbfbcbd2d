import ExchangeTestRig
import ExchangeTools
import Foundation
import Testing

/// What the command-line tools say before they touch the network: passwords refused on the
/// command line, arguments checked before connecting, one version everywhere. The executables
/// run as child processes (built by `swift build --build-tests`).
@Suite(.serialized) struct ToolArgumentTests {
    typealias Tools = CommandLineTools
    static let executables = ["trading_exchange", "rtes-client", "rtes-loadgen", "rtes-feed", "rtes-replay", "rtes-stat", "rtes-journal", "rtes-agents"]
    static var allBuilt: Bool { executables.allSatisfy { FileManager.default.isExecutableFile(atPath: Tools.executable($0).path) } }

    @Test(.enabled(if: allBuilt, "the executables are not built: run `swift build --build-tests` (make test does)"))
    func everyExecutablePrintsTheOneVersion() throws {
        for tool in Self.executables {
            let run = try Tools.run(tool, ["--version"])
            #expect(run.status == 0, "\(tool): \(run.errors)")
            #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == RTESVersion.current, "\(tool) printed \(run.output)")
        }
    }

    @Test(.enabled(if: allBuilt, "the executables are not built"))
    func aPasswordOnTheCommandLineIsRefusedWithTheWaysToGiveIt() throws {
        let port = String(freePort())  // nothing listens: a refusal must come before any connection
        let client = try Tools.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password", "demo1pass", "buy", "1", "AAPL", "230"])
        #expect(client.status == 64)
        #expect(client.errors.contains("--password would put the password on the command line"))
        #expect(client.errors.contains("RTES_CLIENT_PASSWORD") && !client.errors.contains("connection refused"))

        let feed = try Tools.run("rtes-feed", [repositoryRoot.appendingPathComponent("configs/config.dev.json").path,
                                               "--snapshot", "DEMO1:demo1pass"])
        #expect(feed.status == 64)
        #expect(feed.errors.contains("--snapshot USER:PASSWORD would put the password on the command line"))
        #expect(feed.errors.contains("RTES_FEED_PASSWORD"))
        let backup = try Tools.run("rtes-feed", [repositoryRoot.appendingPathComponent("configs/config.dev.json").path,
                                                 "--backup", "10.0.0.2,standby"])
        #expect(backup.status == 64 && backup.errors.contains("--backup \"standby\": an IPv4 address"), "\(backup.errors)")

        let loadgen = try Tools.run("rtes-loadgen", ["--port", port, "--account", "LOAD1:load1pass", "--count", "1"])
        #expect(loadgen.status == 64)
        #expect(loadgen.errors.contains("--account USER:PASSWORD would put the password on the command line"))
        #expect(loadgen.errors.contains("RTES_LOADGEN_PASSWORD"))
    }

    @Test(.enabled(if: allBuilt, "the executables are not built"))
    func withoutAPasswordTheToolsSayWhereToPutOne() throws {
        let port = String(freePort())
        // Standard input is not a terminal here, so there is no prompt to fall back on.
        let loadgen = try Tools.run("rtes-loadgen", ["--port", port, "--account", "LOAD1", "--count", "1"])
        #expect(loadgen.status == 2)
        #expect(loadgen.errors.contains("no password for LOAD1: set RTES_LOADGEN_PASSWORD, give --password-file FILE"))
        // The environment's password is taken: the failure is now the connection, in words.
        let reached = try Tools.run("rtes-loadgen", ["--port", port, "--account", "LOAD1", "--count", "1"],
                                    environment: ["RTES_LOADGEN_PASSWORD": "load1pass"])
        #expect(reached.status == 2)
        #expect(reached.errors.contains("connection refused"), "\(reached.errors)")
        #expect(!reached.errors.contains("USAGE") && !reached.errors.contains("(111)"))

        let feed = try Tools.run("rtes-feed", [repositoryRoot.appendingPathComponent("configs/config.dev.json").path, "--user", "DEMO1"])
        #expect(feed.status == 64)
        #expect(feed.errors.contains("no password for DEMO1: set RTES_FEED_PASSWORD"))
    }

    @Test(.enabled(if: allBuilt, "the executables are not built"))
    func rtesClientChecksEveryArgumentBeforeConnecting() throws {
        let port = String(freePort())  // nothing listens there: every error below is about the argument
        let cases: [([String], String)] = [
            (["buy", "100", "AAPL", "23x"], "price \"23x\""),
            (["buy", "100", "TOOLONGSYMBOL", "230"], "symbol \"TOOLONGSYMBOL\""),
            (["sell", "100", "AAPL", "230", "--tif", "forever"], "time in force \"forever\""),
            (["buy", "100", "AAPL", "230", "--display", "QQ"], "display \"QQ\""),
            (["buy", "100", "AAPL", "230", "--token", "FIFTEEN-CHARS-X"], "token \"FIFTEEN-CHARS-X\""),
            (["cancel", "FIFTEEN-CHARS-X"], "token \"FIFTEEN-CHARS-X\""),
            (["modify", "T1", "Q", "10"], "side \"Q\""),
        ]
        for (arguments, named) in cases {
            let run = try Tools.run("rtes-client", ["--port", port, "--user", "DEMO1"] + arguments,
                                    environment: ["RTES_CLIENT_PASSWORD": "demo1pass"])
            #expect(run.status == 64, "\(arguments): \(run.errors)")
            #expect(run.errors.contains(named), "\(arguments): \(run.errors)")
            #expect(!run.errors.contains("connection refused"), "\(arguments) connected before checking: \(run.errors)")
        }
        let user = try Tools.run("rtes-client", ["--port", port, "--user", "TOOLONGUSER", "buy", "1", "AAPL", "230"],
                                 environment: ["RTES_CLIENT_PASSWORD": "demo1pass"])
        #expect(user.status == 64 && user.errors.contains("--user \"TOOLONGUSER\""))
    }

    @Test(.enabled(if: allBuilt, "the executables are not built"))
    func rtesFeedSaysInWordsWhatWentWrongWithoutUsageText() throws {
        let devConfig = repositoryRoot.appendingPathComponent("configs/config.dev.json").path
        // No snapshot service on that port: a sentence and status 1, not connect(111).
        let port = String(freePort())
        let absent = try Tools.run("rtes-feed", [devConfig, "--snapshot", "DEMO1", "--seconds", "1"],
                                   environment: ["RTES_FEED_PASSWORD": "demo1pass", "RTES_MARKET_DATA_SNAPSHOT_PORT": port])
        #expect(absent.status == 1, "\(absent.errors)")
        #expect(absent.errors.contains("snapshot from 127.0.0.1:\(port) failed: connection refused"), "\(absent.errors)")
        #expect(!absent.errors.contains("USAGE") && !absent.errors.contains("connect(111)"))

        let empty = try CommandLineTools.writePasswords("")  // an empty file is not a configuration
        defer { unlink(empty) }
        let bad = try Tools.run("rtes-feed", [empty])
        #expect(bad.status == 64)
        #expect(bad.errors.contains("cannot be used") && !bad.errors.contains("USAGE"))
    }
}
