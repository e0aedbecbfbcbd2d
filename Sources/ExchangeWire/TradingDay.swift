/// The exchange's trading day and the session names it gives the day's sequenced streams.
///
/// A SoupBinTCP session and a MoldUDP64 session each last one trading day: every restart
/// within the day must announce the same names (a client logging in again, or a feed
/// handler following the feed, keeps its place), and the next day must announce new ones
/// (sequence numbers start again at 1). So the names are computed from the day alone, never
/// from the time of the start:
///
/// | stream | name (10 characters) | example, instance `A`, 2026-12-07 |
/// |---|---|---|
/// | SoupBinTCP (order entry) | `G`, the instance, `YYYYMMDD` | `GA20261207` |
/// | MoldUDP64 (market data, and the snapshot service's login) | `M`, the instance, `YYYYMMDD` | `MA20261207` |
///
/// The instance is one letter or digit naming this exchange among others that might share
/// clients (a shard); `A` unless the caller says otherwise. Pure and Foundation-free: the
/// gateway's and market data's construction both use it.
public struct TradingDay: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int
    /// The ASCII letter or digit naming this exchange instance.
    public let instance: UInt8

    /// The instance when none is given.
    public static let defaultInstance = UInt8(ascii: "A")

    /// A calendar date (proleptic Gregorian, years 1000–9999) and an instance letter or
    /// digit; nil when either is invalid.
    public init?(year: Int, month: Int, day: Int, instance: UInt8 = TradingDay.defaultInstance) {
        guard (1_000...9_999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(month: month, year: year)).contains(day), Self.isAlphanumeric(instance) else { return nil }
        self.year = year
        self.month = month
        self.day = day
        self.instance = instance
    }

    /// Parses the day's name, `YYYY-MM-DD` (as a journal directory is named); nil otherwise.
    public init?(name: String, instance: UInt8 = TradingDay.defaultInstance) {
        let bytes = Array(name.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in bytes[range] {
                guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d, instance: instance)
    }

    /// The UTC calendar day that contains `secondsSinceEpoch` (Unix time): the exchange's
    /// day when it starts at that moment and no journal names another.
    public init(utcSecondsSinceEpoch seconds: Int64, instance: UInt8 = TradingDay.defaultInstance) {
        // Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted).
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(min(max(y, 1_000), 9_999)), month: Int(m), day: Int(d),
                  instance: Self.isAlphanumeric(instance) ? instance : Self.defaultInstance)!
    }

    /// The day's name: `YYYY-MM-DD`.
    public var name: String { "\(Self.digits(year, 4))-\(Self.digits(month, 2))-\(Self.digits(day, 2))" }

    public var description: String { name }

    /// The SoupBinTCP session of the order-entry gateway for the day.
    public var orderEntrySession: SoupSessionName { session(role: UInt8(ascii: "G")) }

    /// The MoldUDP64 session of the market-data feed for the day (also the session the
    /// snapshot service and the re-request server answer to).
    public var marketDataSession: SoupSessionName { session(role: UInt8(ascii: "M")) }

    func session(role: UInt8) -> SoupSessionName {
        let text = String(decoding: [role, instance], as: UTF8.self) + Self.digits(year, 4) + Self.digits(month, 2) + Self.digits(day, 2)
        return SoupSessionName(text)!
    }

    /// The most new days (`--new-day`) one date can have after its first.
    public static let maximumOrdinal = 35

    /// The SoupBinTCP session of the date's `ordinal`-th new day (0: the first — the date's
    /// usual name; 1…35 after each `--new-day` on the same date), so that a client or a feed
    /// handler sees a new day as a new session even on the same date: the first day keeps
    /// `GA20261207`; the next ones are `G`, the instance, `YYMMDD`, `N` and the ordinal in
    /// base 36 (`GA261207N1` … `GA261207NZ`), still 10 characters, and never a first day's
    /// name (which has no letter after the instance). Nil beyond `maximumOrdinal`.
    public func orderEntrySession(ordinal: Int) -> SoupSessionName? { session(role: UInt8(ascii: "G"), ordinal: ordinal) }

    /// The MoldUDP64 session of the date's `ordinal`-th new day (`M`…, as above).
    public func marketDataSession(ordinal: Int) -> SoupSessionName? { session(role: UInt8(ascii: "M"), ordinal: ordinal) }

    func session(role: UInt8, ordinal: Int) -> SoupSessionName? {
        guard ordinal != 0 else { return session(role: role) }
        guard (1...Self.maximumOrdinal).contains(ordinal) else { return nil }
        let digit = ordinal < 10 ? UInt8(ascii: "0") + UInt8(ordinal) : UInt8(ascii: "A") + UInt8(ordinal - 10)
        let text = String(decoding: [role, instance], as: UTF8.self) + Self.digits(year % 100, 2) + Self.digits(month, 2)
            + Self.digits(day, 2) + String(decoding: [UInt8(ascii: "N"), digit], as: UTF8.self)
        return SoupSessionName(text)
    }

    public static func < (a: TradingDay, b: TradingDay) -> Bool {
        (a.year, a.month, a.day, a.instance) < (b.year, b.month, b.day, b.instance)
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
