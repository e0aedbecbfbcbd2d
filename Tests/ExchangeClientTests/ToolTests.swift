import ExchangeTestRig
import Foundation
import Testing

/// The `rtes-client` and `rtes-loadgen` executables (built by `swift build --build-tests`)
/// against an in-process exchange, the way a user runs them.
@Suite(.serialized) struct CommandLineTools {
    static func executable(_ name: String) -> URL {
        // The test bundle sits in the build directory beside the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    static var built: Bool {
        FileManager.default.isExecutableFile(atPath: executable("rtes-client").path)
            && FileManager.default.isExecutableFile(atPath: executable("rtes-loadgen").path)
    }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    in directory: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = executable(tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   errors: String(decoding: errors, as: UTF8.self))
    }

    /// A password file (mode 0600) in the temporary directory; the caller unlinks it.
    static func writePasswords(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "rtes-passwords-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try #require(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        return path
    }

    @Test(.enabled(if: built, "rtes-client is not built: run `swift build --build-tests` (make test does)"))
    func rtesClientPlacesTradesCancelsAndSaysWhyItFails() throws {
        let exchange = try TestExchange(ExchangeKnobs(priceCollarEnabled: true))  // AAPL at $999 is refused
        defer { exchange.drain() }
        let port = String(exchange.port)

        let passwords = try Self.writePasswords("DEMO1:demo1pass\nDEMO2:demo2pass\n")
        defer { unlink(passwords) }
        let buy = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "buy", "100", "AAPL", "230.00",
                                               "--token", "CLI1"])
        #expect(buy.status == 0, "\(buy.errors)")
        #expect(buy.output.contains("sent Enter Order token=CLI1 side=B shares=100 AAPL @ 230.0000 tif=99998"))
        #expect(buy.output.contains("Accepted token=CLI1 side=B shares=100 AAPL @ 230.0000 ref="))
        #expect(buy.output.contains("state=L"))

        // The password from the environment; the order trades with the resting one.
        let sell = try Self.run("rtes-client", ["sell", "100", "AAPL", "230", "--tif", "ioc", "--token", "CLI2", "--port", port, "-u", "DEMO2"],
                                environment: ["RTES_CLIENT_PASSWORD": "demo2pass"])
        #expect(sell.status == 0, "\(sell.errors)")
        #expect(sell.output.contains("Executed token=CLI2 shares=100 @ 230.0000 liquidity=R (removed) match="))

        let rest = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "sell", "50", "AAPL", "231.00",
                                                "--token", "CLI3"])
        #expect(rest.status == 0)
        let replace = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords,
                                                   "replace", "CLI3", "40", "231.50", "--new-token", "CLI4"])
        #expect(replace.status == 0, "\(replace.errors)")
        #expect(replace.output.contains("Replaced token=CLI4 previous=CLI3 side=S shares=40 AAPL @ 231.5000"))
        let modify = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "modify", "CLI4", "T", "30"])
        #expect(modify.status == 0 && modify.output.contains("Order Modified token=CLI4 side=T shares=30"))
        let cancel = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "cancel", "CLI4"])
        #expect(cancel.status == 0 && cancel.output.contains("Canceled token=CLI4 shares=30 reason=U (user requested)"))

        let unknown = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "cancel", "CLI4"])
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("rtes-client: refused: Cancel Reject"))

        let badPrice = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "--password-file", passwords, "buy", "100", "AAPL", "999.00"])
        #expect(badPrice.status == 1)
        #expect(badPrice.errors.contains("refused: Rejected reason X (invalid price: "))
        // One OUCH byte for three refusals: the text names each (the exchange's debug log says which).
        #expect(badPrice.errors.contains("price outside the price collar") && badPrice.errors.contains("price not on the symbol's tick")
                && badPrice.errors.contains("price outside the book's price ladder"))

        let badLogin = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "buy", "1", "AAPL", "230"],
                                    environment: ["RTES_CLIENT_PASSWORD": "nope"])
        #expect(badLogin.status == 1)
        #expect(badLogin.errors.contains("login rejected: A (not authorized"))

        let noPassword = try Self.run("rtes-client", ["--port", port, "--user", "DEMO1", "buy", "1", "AAPL", "230"])
        #expect(noPassword.status == 64 && noPassword.errors.contains("RTES_CLIENT_PASSWORD"))

        let nobody = try Self.run("rtes-client", ["--port", String(freePort()), "--user", "DEMO1", "buy", "1", "AAPL", "230"],
                                  environment: ["RTES_CLIENT_PASSWORD": "x"])
        #expect(nobody.status == 2)
        #expect(nobody.errors.contains("connection refused by 127.0.0.1:"))
        #expect(!nobody.errors.contains("USAGE"), "a runtime failure prints no usage text: \(nobody.errors)")

        // A primary and a backup address: the first that accepts is used.
        let listed = try Self.run("rtes-client", ["--address", "127.0.0.1:\(freePort()),127.0.0.1:\(port)", "--user", "DEMO1",
                                                  "--password-file", passwords, "buy", "1", "AAPL", "229.00", "--token", "CLIADDR"])
        #expect(listed.status == 0, "\(listed.errors)")
        #expect(listed.output.contains("to 127.0.0.1:\(port), session"), "\(listed.output)")
        let both = try Self.run("rtes-client", ["--address", "127.0.0.1:\(port)", "--port", port, "--user", "DEMO1", "buy", "1", "AAPL", "230"])
        #expect(both.status == 64 && both.errors.contains("--address replaces --host and --port"), "\(both.errors)")
    }

    @Test(.enabled(if: built, "rtes-loadgen is not built: run `swift build --build-tests` (make test does)"))
    func rtesLoadgenPrintsPercentilesAndWritesHistogramFiles() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let directory = NSTemporaryDirectory() + "rtes-loadgen-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }  // clean-up only: a leftover directory fails nothing

        let run = try Self.run("rtes-loadgen", ["--port", String(exchange.port), "--connections", "2", "--count", "2000",
                                                "--idle", "block", "--token-prefix", "TCLI"], in: directory)
        #expect(run.status == 0, "\(run.output)\n\(run.errors)")
        for line in ["sent 2000 requests", "order → Accepted", "order → Executed", "cancel → Canceled", "p99.9", "wrote rtes-loadgen-accepted.hgrm"] {
            #expect(run.output.contains(line), "missing \(line) in\n\(run.output)")
        }
        let hgrm = try String(contentsOfFile: directory + "/rtes-loadgen-accepted.hgrm", encoding: .utf8)
        #expect(hgrm.contains("Value     Percentile TotalCount 1/(1-Percentile)"))
        #expect(hgrm.contains("#[Max     ="))

        let remote = try Self.run("rtes-loadgen", ["--host", "192.0.2.1", "--count", "1"])
        #expect(remote.status == 2 && remote.errors.contains("not a loopback address"))
        let backupRemote = try Self.run("rtes-loadgen", ["--address", "127.0.0.1:\(exchange.port),192.0.2.1:8888", "--count", "1"])
        #expect(backupRemote.status == 2 && backupRemote.errors.contains("192.0.2.1"), "every address is checked: \(backupRemote.errors)")

        // A primary that refuses connections and a backup: each connection logs in at the backup.
        let listed = try Self.run("rtes-loadgen", ["--address", "127.0.0.1:\(freePort()),127.0.0.1:\(exchange.port)", "--connections", "1",
                                                   "--count", "200", "--no-hgrm", "--token-prefix", "TCLA"], in: directory)
        #expect(listed.status == 0, "\(listed.output)\n\(listed.errors)")
        #expect(listed.output.contains("sent 200 requests"), "\(listed.output)")
    }
}
