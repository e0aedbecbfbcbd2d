/// The `trading_day` section: the schedule that moves every instrument through its day
/// (pre-open, opening cross, continuous, closing cross, post-close) by sending the engine
/// phase commands (docs/MATCHING.md, "The trading day"; docs/OPERATIONS.md, "The trading
/// day's schedule"). Off (`enabled` false, the default): instruments stay continuous all day.
public struct TradingDaySettings: Sendable, Equatable {
    /// A time of day, seconds after the exchange's local midnight, written `HH:MM` or `HH:MM:SS`.
    public struct TimeOfDay: Sendable, Equatable, Comparable, CustomStringConvertible {
        public var seconds: Int

        public init(seconds: Int) { self.seconds = seconds }

        /// Parses `HH:MM` or `HH:MM:SS` (00:00 to 24:00); nil when it is not one.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3,
                  parts.allSatisfy({ $0.count == 2 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
                  let h = Int(parts[0]), let m = Int(parts[1]), let s = parts.count == 3 ? Int(parts[2]) : 0,
                  h <= 24, m < 60, s < 60 else { return nil }
            let total = h * 3_600 + m * 60 + s
            guard total <= 86_400 else { return nil }
            seconds = total
        }

        public var description: String {
            let h = seconds / 3_600, m = seconds / 60 % 60, s = seconds % 60
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            return s == 0 ? "\(two(h)):\(two(m))" : "\(two(h)):\(two(m)):\(two(s))"
        }

        public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { a.seconds < b.seconds }
    }

    /// `enabled`: whether the schedule runs.
    public var enabled = false
    /// `time_zone`: the exchange's time zone (an IANA name); the phase times are its local
    /// times. Used when `clock_rate` is 1; an accelerated day runs on its own clock.
    public var timeZone = "America/New_York"
    /// `pre_open`: start of system hours: every instrument enters pre-open (ITCH `S`).
    public var preOpen = TimeOfDay(seconds: 4 * 3_600)
    /// `open`: the opening cross (ITCH `Q`), then continuous trading.
    public var open = TimeOfDay(seconds: 9 * 3_600 + 30 * 60)
    /// `close`: the closing cross (ITCH `M`), then post-close.
    public var close = TimeOfDay(seconds: 16 * 3_600)
    /// `end`: end of system hours (ITCH `E`).
    public var end = TimeOfDay(seconds: 20 * 3_600)
    /// `opening_imbalance_seconds`: Net Order Imbalance Indicators are published this long
    /// before the opening cross (0: none).
    public var openingImbalanceSeconds = 300
    /// `closing_imbalance_seconds`: the same before the closing cross.
    public var closingImbalanceSeconds = 600
    /// `imbalance_interval_seconds`: one indicator per instrument this often, in exchange time.
    public var imbalanceIntervalSeconds = 1
    /// `clock_rate`: 1 runs the day on the wall clock in `time_zone`; N > 1 runs an
    /// accelerated day, N exchange seconds per real second, starting at `start_time` and
    /// looping from `end` straight to the next day's `pre_open`.
    public var clockRate = 1
    /// `start_time`: with `clock_rate` > 1, the exchange time at start; nil: `pre_open`.
    public var startTime: TimeOfDay?

    /// The most `clock_rate` may be.
    public static let maximumClockRate = 100_000

    /// The documented defaults.
    public init() {}

    /// Whether `name` looks like an IANA time zone name (letters, digits, `/`, `_`, `-`,
    /// `+`; no `..`); whether the host knows it is checked at start.
    public static func isPlausibleZoneName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !name.contains("..") && !name.hasPrefix("/")
            && name.utf8.allSatisfy { c in
                (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                    || c == 0x2F || c == 0x5F || c == 0x2D || c == 0x2B
            }
    }
}
