import Glibc

/// Where a command-line tool finds an account's password — never on its own command line,
/// where `ps` shows it to every user of the host. In order:
///
/// 1. the file given with `--password-file FILE`: lines of `USERNAME:PASSWORD` (the line for
///    the account), or a line holding only a password (for any account); blank lines and
///    lines starting with `#` are skipped;
/// 2. the environment variable the tool names (`RTES_CLIENT_PASSWORD`, …);
/// 3. a prompt on the terminal (echo off), when standard input is one.
///
/// A password of the dev accounts may also be built into a tool; that is the tool's choice.
public struct PasswordLookup {
    /// `--password-file`, when given.
    public var file: String?
    /// The environment variable the tool reads, e.g. `RTES_CLIENT_PASSWORD`.
    public var variable: String
    public var environment: [String: String]
    /// Asks on the terminal; nil when there is none to ask on.
    public var prompt: PasswordPrompt?

    public init(file: String?, variable: String, environment: [String: String], prompt: PasswordPrompt?) {
        self.file = file
        self.variable = variable
        self.environment = environment
        self.prompt = prompt
    }

    /// The lookup a tool makes in a real process: its environment, and a prompt on the
    /// terminal when standard input is one.
    public static func forProcess(file: String?, variable: String) -> PasswordLookup {
        var environment: [String: String] = [:]
        if let value = getenv(variable) { environment[variable] = String(cString: value) }
        return PasswordLookup(file: file, variable: variable, environment: environment,
                              prompt: isatty(0) == 1 ? PasswordPrompt(input: 0, output: 2) : nil)
    }

    /// The password for `username`, from the first source that has one.
    public func password(for username: String) throws(PasswordError) -> String {
        if let file {
            let text = try Self.contents(of: file)
            var any: String?
            // Character-wise, "\r\n" is one newline: CRLF files read as LF files do.
            for line in text.split(whereSeparator: \.isNewline) {
                if line.isEmpty || line.hasPrefix("#") { continue }
                if let colon = line.firstIndex(of: ":") {
                    if line[..<colon] == Substring(username) { return try Self.nonEmpty(String(line[line.index(after: colon)...]), from: file) }
                } else if any == nil {
                    any = String(line)
                }
            }
            if let any { return try Self.nonEmpty(any, from: file) }
            throw .noEntry(file: file, username: username)
        }
        if let value = environment[variable] { return try Self.nonEmpty(value, from: variable) }
        if let prompt {
            guard let typed = prompt.ask("Password for \(username): ") else { throw .noInput }
            return try Self.nonEmpty(typed, from: "the prompt")
        }
        throw .notGiven(username: username, variable: variable)
    }

    static func nonEmpty(_ password: String, from source: String) throws(PasswordError) -> String {
        guard !password.isEmpty else { throw .empty(source: source) }
        return password
    }

    /// The whole file (small: at most 64 KiB).
    static func contents(of path: String) throws(PasswordError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(file: path, errno: errno)
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= 65_536 else { throw .tooLarge(file: path) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What a tool says when its command line carries a password (`option` as typed, e.g.
    /// `--password`), and how to give it instead.
    public static func refusal(option: String, variable: String) -> String {
        "\(option) would put the password on the command line, where ps shows it to every user of this host: "
            + "set \(variable), give --password-file FILE, or let the tool ask on the terminal"
    }
}

/// Why no password could be had, in words naming the source.
public enum PasswordError: Error, Equatable, CustomStringConvertible {
    case notGiven(username: String, variable: String)
    case unreadable(file: String, errno: Int32)
    case tooLarge(file: String)
    case noEntry(file: String, username: String)
    case empty(source: String)
    case noInput

    public var description: String {
        switch self {
        case .notGiven(let username, let variable):
            "no password for \(username): set \(variable), give --password-file FILE, or run on a terminal to be asked"
        case .unreadable(let file, let code):
            "cannot read the password file \(file): \(String(cString: strerror(code)))"
        case .tooLarge(let file):
            "the password file \(file) is larger than 64 KiB: not a password file"
        case .noEntry(let file, let username):
            "the password file \(file) has no line for \(username) (lines are USERNAME:PASSWORD, or a password alone)"
        case .empty(let source):
            "the password from \(source) is empty"
        case .noInput:
            "no password typed (end of input at the prompt)"
        }
    }
}
