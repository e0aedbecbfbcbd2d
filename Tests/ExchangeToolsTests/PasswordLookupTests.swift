import ExchangeTools
import Glibc
import Testing

/// Where the tools find a password: a file, the environment, a prompt — each tried, each
/// failure named.
@Suite struct PasswordLookupTests {
    /// A file in a fresh temporary directory, removed by `remove()`.
    struct TemporaryFile {
        let directory: String
        let path: String

        init(_ contents: String) throws {
            var template = Array("/tmp/rtes-password-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            directory = String(cString: try #require(made))
            path = directory + "/password"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            try #require(fd >= 0)
            defer { close(fd) }
            var text = contents
            let written = text.withUTF8 { write(fd, $0.baseAddress, $0.count) }
            try #require(written == contents.utf8.count)
        }

        func remove() {
            unlink(path)
            rmdir(directory)
        }
    }

    /// A prompt reading from a pipe the test fills (and writing its question to another).
    struct PipePrompt {
        let prompt: PasswordPrompt
        let fds: [Int32]

        init(typed: String?) throws {
            var input: [Int32] = [0, 0]
            var output: [Int32] = [0, 0]
            try #require(pipe(&input) == 0)
            try #require(pipe(&output) == 0)
            if let typed {
                var text = typed
                _ = text.withUTF8 { write(input[1], $0.baseAddress, $0.count) }
            }
            Glibc.close(input[1])
            prompt = PasswordPrompt(input: input[0], output: output[1])
            fds = [input[0], output[0], output[1]]
        }

        /// What the prompt wrote (the question).
        func question() -> String {
            Glibc.close(fds[2])
            var bytes = [UInt8](repeating: 0, count: 256)
            let n = read(fds[1], &bytes, bytes.count)
            return String(decoding: bytes[0..<max(0, n)], as: UTF8.self)
        }

        func close() {
            for fd in fds { Glibc.close(fd) }
        }
    }

    @Test func takesTheAccountsLineOrABarePasswordFromTheFile() throws {
        let file = try TemporaryFile("# dev accounts\nDEMO1:demo1pass\n\nDEMO2:demo2pass\r\nshared\n")
        defer { file.remove() }
        let lookup = PasswordLookup(file: file.path, variable: "RTES_CLIENT_PASSWORD",
                                    environment: ["RTES_CLIENT_PASSWORD": "fromenv"], prompt: nil)
        #expect(try lookup.password(for: "DEMO1") == "demo1pass")
        #expect(try lookup.password(for: "DEMO2") == "demo2pass")
        #expect(try lookup.password(for: "TRADER") == "shared")
    }

    @Test func namesTheFileThatHasNoLineForTheAccountOrCannotBeRead() throws {
        let file = try TemporaryFile("DEMO1:demo1pass\n")
        defer { file.remove() }
        let lookup = PasswordLookup(file: file.path, variable: "RTES_FEED_PASSWORD", environment: [:], prompt: nil)
        #expect(throws: PasswordError.noEntry(file: file.path, username: "DEMO2")) { try lookup.password(for: "DEMO2") }
        let missing = PasswordLookup(file: file.directory + "/absent", variable: "RTES_FEED_PASSWORD", environment: [:], prompt: nil)
        #expect(throws: PasswordError.unreadable(file: file.directory + "/absent", errno: ENOENT)) { try missing.password(for: "DEMO1") }
        #expect(PasswordError.unreadable(file: "/x", errno: ENOENT).description == "cannot read the password file /x: No such file or directory")
    }

    @Test func takesTheEnvironmentWhenNoFileIsGiven() throws {
        let lookup = PasswordLookup(file: nil, variable: "RTES_LOADGEN_PASSWORD", environment: ["RTES_LOADGEN_PASSWORD": "load1pass"], prompt: nil)
        #expect(try lookup.password(for: "LOAD1") == "load1pass")
        let empty = PasswordLookup(file: nil, variable: "RTES_LOADGEN_PASSWORD", environment: ["RTES_LOADGEN_PASSWORD": ""], prompt: nil)
        #expect(throws: PasswordError.empty(source: "RTES_LOADGEN_PASSWORD")) { try empty.password(for: "LOAD1") }
    }

    @Test func asksOnThePromptLast() throws {
        let typed = try PipePrompt(typed: "demo1pass\n")
        defer { typed.close() }
        let lookup = PasswordLookup(file: nil, variable: "RTES_CLIENT_PASSWORD", environment: [:], prompt: typed.prompt)
        #expect(try lookup.password(for: "DEMO1") == "demo1pass")
        #expect(typed.question() == "Password for DEMO1: ")

        let nothing = try PipePrompt(typed: nil)
        defer { nothing.close() }
        let closed = PasswordLookup(file: nil, variable: "RTES_CLIENT_PASSWORD", environment: [:], prompt: nothing.prompt)
        #expect(throws: PasswordError.noInput) { try closed.password(for: "DEMO1") }
    }

    @Test func saysEveryWayToGiveAPasswordWhenThereIsNone() throws {
        let lookup = PasswordLookup(file: nil, variable: "RTES_CLIENT_PASSWORD", environment: [:], prompt: nil)
        let error = try #require(throws: PasswordError.self) { try lookup.password(for: "DEMO1") }
        #expect(error.description == "no password for DEMO1: set RTES_CLIENT_PASSWORD, give --password-file FILE, or run on a terminal to be asked")
        let refusal = PasswordLookup.refusal(option: "--password", variable: "RTES_CLIENT_PASSWORD")
        #expect(refusal.contains("ps shows it") && refusal.contains("RTES_CLIENT_PASSWORD") && refusal.contains("--password-file"))
    }

    @Test func everyExecutableSharesOneVersion() {
        #expect(RTESVersion.current.split(separator: ".").count >= 3)
    }
}
