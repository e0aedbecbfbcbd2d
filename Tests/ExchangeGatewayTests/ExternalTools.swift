import ExchangeTestRig
import Foundation
import Testing

// The independent checkers the tests run as subprocesses, and how they are found.

struct ToolFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { output }
}

/// The independent checkers: found (and, unless RTES_NO_INSTALL=1, installed) once per run.
enum ExternalTools {
    static let checkOnly = ProcessInfo.processInfo.environment["RTES_NO_INSTALL"] == "1"

    /// tshark, after `.ci/tools` (shared with ExchangeWireTests) had its chance to install it.
    static let tshark: String? = {
        let script = repositoryRoot.appendingPathComponent(".ci/tools").path
        if FileManager.default.isExecutableFile(atPath: script) {
            // try?: whether the install worked is what `which` answers next; no tshark skips, never fails.
            _ = try? run(script, checkOnly ? ["--check"] : [])
        }
        return which("tshark")
    }()

    static var tsharkMissingReason: Comment {
        "tshark is not installed and .ci/tools could not install it (RTES_NO_INSTALL=\(checkOnly ? "1" : "0"))"
    }

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a program to completion (at most `timeout` seconds), output and error together.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double = 120) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension ExternalTools {
    /// The python of `.ci/nasdaq-protocols`' environment, or why there is none.
    static let nasdaqProtocols: (python: String?, problem: String) = {
        let script = repositoryRoot.appendingPathComponent(".ci/nasdaq-protocols").path
        guard FileManager.default.isExecutableFile(atPath: script) else { return (nil, "\(script) is missing") }
        // try?: a script that cannot run becomes the skip reason below.
        guard let result = try? run(script, checkOnly ? ["--check"] : [], timeout: 600) else { return (nil, "\(script) did not run") }
        let lines = result.output.split(separator: "\n")
        guard result.status == 0, let python = lines.last.map(String.init), FileManager.default.isExecutableFile(atPath: python) else {
            return (nil, checkOnly ? "RTES_NO_INSTALL=1 and nasdaq-protocols is not installed" : "\(script): \(result.output)")
        }
        return (python, "")
    }()

    static var nasdaqProtocolsMissingReason: Comment { Comment(rawValue: "nasdaq-protocols is not available: \(nasdaqProtocols.problem)") }
}
