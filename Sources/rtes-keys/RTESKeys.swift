import ArgumentParser
import ExchangeAccess
import ExchangeConfig
import Glibc

/// `rtes-keys`: makes the scrypt `secret` of an API keys file entry, and checks a file as the
/// exchange will read it. A secret is read from standard input (or a prompt with echo off on a
/// terminal), never from the command line, where it would be in the shell history and `ps`.
@main
struct RTESKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-keys",
        abstract: "Hash a secret for the API keys file (RTES_API_KEYS_FILE), or check such a file.",
        discussion: """
            rtes-keys hash reads one password (1 to 10 printable ASCII characters without spaces, the SoupBinTCP \
            Password field) from standard input — or asks for it, without echo, on a terminal — and prints the \
            entry's "secret": $scrypt$ln=LOG2N,r=R,p=P$SALT$HASH (salt and hash in base64 without padding). \
            rtes-keys check FILE reads the file as trading_exchange does and prints every problem, never a secret.
            Exit status: 0 on success, 2 for a file or input that cannot be used.
            """,
        subcommands: [Hash.self, Check.self])

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the scrypt secret of a password read from standard input or a prompt.")

        @Option(name: .customLong("ln"), help: "log2 of scrypt's cost N (1-20).")
        var logRounds = ScryptHash.defaultLogRounds
        @Option(name: .customLong("r"), help: "scrypt's block size r (1-32).")
        var blockSize = ScryptHash.defaultBlockSize
        @Option(name: .customLong("p"), help: "scrypt's parallelism p (1-16).")
        var parallelism = ScryptHash.defaultParallelism
        @Argument(help: .hidden)
        var refused: [String] = []

        func run() throws {
            guard refused.isEmpty else {
                printError("rtes-keys hash: the secret is read from standard input or a prompt, never from the command line "
                    + "(it would stay in the shell history and be visible in ps); run `rtes-keys hash` and type it, "
                    + "or pipe it in: `rtes-keys hash < file`")
                throw ExitCode(2)
            }
            let password: [UInt8]
            if isatty(0) == 1 {
                guard let typed = getpass("password: ") else {
                    printError("rtes-keys hash: no password read")
                    throw ExitCode(2)
                }
                password = Array(String(cString: typed).utf8)
            } else {
                var line = readLine(strippingNewline: true).map { Array($0.utf8) } ?? []
                if line.last == 0x0D { line.removeLast() }
                password = line
            }
            guard (1...10).contains(password.count), password.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                printError("rtes-keys hash: the password must be 1 to 10 printable ASCII characters without spaces "
                    + "(the SoupBinTCP Password field); read \(password.count) bytes (value not shown)")
                throw ExitCode(2)
            }
            do {
                print(try ScryptHash.make(password: password, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism).encoded)
            } catch let problem as ScryptHash.Problem {
                printError("rtes-keys hash: \(problem)")
                throw ExitCode(2)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an API keys file as trading_exchange reads it (permissions, every entry).")

        @Argument(help: "The API keys file.")
        var file: String
        @Flag(help: "Accept plain \"password\" entries, as auth.allow_unhashed_accounts does (development).")
        var allowUnhashed = false

        func run() throws {
            do {
                let (keys, warnings) = try APIKeys.load(path: file, allowPlainPasswords: allowUnhashed)
                for warning in warnings { printError("warning: \(warning)") }
                let plain = keys.accounts.filter { $0.credential.isPlain }.count
                let operators = keys.operators.isEmpty ? "" : ", \(keys.operators.count) operator\(keys.operators.count == 1 ? "" : "s") (\(keys.operators.map { "\($0.username): \($0.role.rawValue)" }.joined(separator: ", ")))"
                print("\(file): valid (\(keys.accounts.count) accounts, \(keys.accounts.count - plain) hashed, \(plain) plain\(operators))")
            } catch {
                printError("rtes-keys check: \(file) cannot be used:\n\(error)")
                throw ExitCode(2)
            }
        }
    }
}

/// One line on standard error (descriptor 2).
func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    var offset = 0
    while offset < line.count {
        let n = line[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
