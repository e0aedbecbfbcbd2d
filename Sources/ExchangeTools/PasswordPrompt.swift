import Glibc

/// Asks for a password on a terminal with echo off (restored afterwards), reading one line.
/// On a descriptor that is not a terminal (a pipe in a test) it reads the line as it comes.
public struct PasswordPrompt: Sendable {
    public let input: Int32
    public let output: Int32

    public init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
    }

    /// Writes `question`, reads one line without echoing it; nil at end of input.
    public func ask(_ question: String) -> String? {
        var text = question
        text.withUTF8 { _ = write(output, $0.baseAddress, $0.count) }
        var saved = termios()
        let terminal = tcgetattr(input, &saved) == 0
        if terminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(input, TCSAFLUSH, &quiet)
        }
        defer {
            if terminal {
                _ = tcsetattr(input, TCSAFLUSH, &saved)
                _ = write(output, "\n", 1)
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(input, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == 0x0A { break }
            if line.count < 4_096 { line.append(byte) }
        }
        if line.last == 0x0D { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }
}
