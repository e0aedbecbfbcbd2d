import ExchangeAgents
import ExchangeTestRig
import Foundation
import Testing

/// `rtes-agents` (built by `swift build --build-tests`) refuses a bad population file before
/// it touches the network, naming the problem; the development file is valid.
@Suite struct AgentToolTests {
    static func executable(_ name: String) -> URL {
        // The test bundle sits in the build directory beside the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: executable("rtes-agents").path) }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = executable("rtes-agents")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    @Test func theDevelopmentPopulationIsValid() throws {
        let path = repositoryRoot.appendingPathComponent("configs/agents.dev.json").path
        let c = try AgentsConfiguration.load(path: path)
        #expect(c.problems(symbolCount: 5).isEmpty, "\(c.problems(symbolCount: 5))")
        #expect(c.agentCount <= 8)
        // The defaults are what the file shows, but for the shocks that show a newcomer an LULD
        // pause (every 90 s, 8 %) and the wider drift window they need.
        var expected = AgentsConfiguration()
        expected.fairValue.maxDriftPercent = 10
        expected.fairValue.shockIntervalSeconds = 90
        expected.fairValue.shockPercent = 8
        #expect(c == expected)
    }

    @Test(.enabled(if: built, "rtes-agents is not built: run `swift build --build-tests`"))
    func aBadPopulationFileIsRefusedBeforeConnecting() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agents-\(getpid()).json")
        try Data(#"{"market_makers": {"count": 9}, "sede": 3}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let config = repositoryRoot.appendingPathComponent("configs/config.dev.json").path
        let run = try Self.run([config, "--agents", file.path, "--connect-seconds", "0"])
        #expect(run.status == 64, "status \(run.status): \(run.errors)")
        #expect(run.errors.contains("unknown member \"sede\""), "\(run.errors)")
        let badSeed = try Self.run([config, "--seed", "x"])
        #expect(badSeed.status == 64, "\(badSeed.errors)")
    }
}
