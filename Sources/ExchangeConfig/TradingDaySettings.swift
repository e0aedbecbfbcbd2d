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

    /// `weekdays`: the days of the week the market opens on the wall clock, a bit per day
    /// (bit 0 Monday … bit 6 Sunday); written `"mon,tue,wed,thu,fri"`.
    public var weekdays: UInt8 = 0b001_1111
    /// `holidays`: local dates the market stays closed on the wall clock, as days since
    /// 1970-01-01, ascending; written `"2026-12-25,2027-01-01"`.
    public var holidays: [Int64] = []

    /// The three-letter names `weekdays` takes, Monday first.
    public static let weekdayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Parses a comma-separated list of day names (`mon` … `sun`, each once, at least one);
    /// nil when it is not one.
    public static func weekdayMask(_ text: String) -> UInt8? {
        var mask: UInt8 = 0
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingSpaces().lowercased()
            guard let i = weekdayNames.firstIndex(of: trimmed), mask & (1 << i) == 0 else { return nil }
            mask |= 1 << i
        }
        return mask == 0 ? nil : mask
    }

    /// The mask as the list it is written as.
    public static func weekdayText(_ mask: UInt8) -> String {
        weekdayNames.indices.filter { mask & (1 << $0) != 0 }.map { weekdayNames[$0] }.joined(separator: ",")
    }

    /// Parses a comma-separated list of dates `YYYY-MM-DD` (real dates, 1970–9999; "" is
    /// none) into days since 1970-01-01, ascending without repeats; nil when it is not one.
    public static func holidayDays(_ text: String) -> [Int64]? {
        if text[...].trimmingSpaces().isEmpty { return [] }
        var days: [Int64] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let day = dayNumber(String(item.trimmingSpaces())) else { return nil }
            days.append(day)
        }
        return Array(Set(days)).sorted()
    }

    /// Days since 1970-01-01 of a date `YYYY-MM-DD`; nil when it is not a real date.
    public static func dayNumber(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
              y >= 1970, (1...12).contains(m), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[Int(m - 1)] else { return nil }
        // Days from civil (Howard Hinnant's algorithm), March-based years.
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The weekday of a day since 1970-01-01 (a Thursday): 0 Monday … 6 Sunday.
    public static func weekday(ofDay day: Int64) -> Int {
        Int(((day + 3) % 7 + 7) % 7)
    }

    /// Whether the market opens on local day `day` (days since 1970-01-01) on the wall clock.
    public func isTradingDay(_ day: Int64) -> Bool {
        guard weekdays & (1 << Self.weekday(ofDay: day)) != 0 else { return false }
        var low = 0, high = holidays.count
        while low < high {
            let mid = (low + high) / 2
            if holidays[mid] < day { low = mid + 1 } else { high = mid }
        }
        return low == holidays.count || holidays[low] != day
    }

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

