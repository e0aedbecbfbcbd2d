import Foundation

/// What the command-line tools (rtes-agents, rtes-itch-replay, rtes-strategy) share for time:
/// CLOCK_MONOTONIC for their loops and deadlines, and a token prefix that differs between
/// runs of one day.
public enum ToolClock {
    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonic() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// Four characters from the seconds of the day (base 36), so that runs on one day use
    /// different order tokens.
    public static func dayPrefix() -> String {
        let seconds = Int(Date().timeIntervalSince1970) % 86_400
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var n = seconds, text = ""
        for _ in 0..<4 { text = String(digits[n % 36]) + text; n /= 36 }
        return text
    }
}
