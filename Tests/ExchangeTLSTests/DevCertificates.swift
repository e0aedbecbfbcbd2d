import Foundation

/// The certificates configs/tls/make-dev-certs.sh makes, generated once per test run into a
/// temporary directory that is removed when the process exits.
enum DevCertificates {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The directory, or why it could not be made.
    static let directory: Result<String, CertificateSetupFailed> = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-tls-\(getpid())").path
        let script = repositoryRoot.appendingPathComponent("configs/tls/make-dev-certs.sh").path
        do {
            let result = try Subprocess.run(script, [path], timeout: 300)
            guard result.status == 0 else { return .failure(CertificateSetupFailed(output: result.output)) }
        } catch {
            return .failure(CertificateSetupFailed(output: "\(script): \(error)"))
        }
        removeAtExit = path
        atexit { if let path = DevCertificates.removeAtExit { try? FileManager.default.removeItem(atPath: path) } }
        return .success(path)
    }()

    nonisolated(unsafe) static var removeAtExit: String?

    static func path(_ name: String) throws -> String {
        try directory.get() + "/" + name
    }
}

struct CertificateSetupFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { "make-dev-certs.sh failed: \(output)" }
}

/// Runs helper programs (the certificate script, openssl, python3) with a bound on time;
/// a program still running at its deadline is terminated, so none outlives its test.
enum Subprocess {
    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> (status: Int32, output: String) {
        let running = try start(executable, arguments, input: nil)
        return running.finish(timeout: timeout)
    }

    static func start(_ executable: String, _ arguments: [String], input: String?) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
        }
        return Running(process: process, output: output, input: input == nil ? nil : inputPipe)
    }

    struct Running {
        let process: Process
        let output: Pipe
        let input: Pipe?

        /// Waits for the program to end (terminating it at the deadline) and returns its output.
        func finish(timeout: Double) -> (status: Int32, output: String) {
            let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            killer.cancel()
            try? input?.fileHandleForWriting.close()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }
}
