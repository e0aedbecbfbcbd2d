import ExchangeCore

// FIX's text encodings of numbers, prices and UTC timestamps, read from and written to raw
// memory: no String, no Foundation, no allocation.

public enum FIXNumbers {
    /// An unsigned integer of 1…18 ASCII digits (FIX int/SeqNum/Length/Qty without a
    /// fraction); nil for anything else (sign, space, empty, too long).
    @inlinable
    public static func unsigned(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 1, bytes.count <= 18 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            let d = b &- 0x30
            guard d <= 9 else { return nil }
            value = value &* 10 &+ UInt64(d)
        }
        return value
    }

    /// A quantity: FIX Qty is a float, so `100` and `100.0` (zero fraction) are both read as
    /// 100 shares; a non-zero fraction or more than UInt32 is nil.
    @inlinable
    public static func shares(_ bytes: UnsafeRawBufferPointer) -> Shares? {
        var end = bytes.count
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: ".") {
            for j in (i + 1)..<bytes.count where bytes[j] != UInt8(ascii: "0") { return nil }
            end = i
            break
        }
        guard let v = unsigned(UnsafeRawBufferPointer(rebasing: bytes[0..<end])), v <= UInt64(Shares.max) else { return nil }
        return Shares(v)
    }

    /// A FIX Price (`150.25`, `150`, `150.2500`, `0.0001`) as the engine's fixed point (4 implied
    /// decimals): exact or nil — a fifth non-zero decimal, a sign, an exponent or more than
    /// UInt32 is nil, never rounded.
    @inlinable
    public static func price(_ bytes: UnsafeRawBufferPointer) -> Price? {
        guard bytes.count >= 1, bytes.count <= 24 else { return nil }
        var whole: UInt64 = 0
        var digits = 0
        var i = 0
        while i < bytes.count, bytes[i] != UInt8(ascii: ".") {
            let d = bytes[i] &- 0x30
            guard d <= 9 else { return nil }
            whole = whole &* 10 &+ UInt64(d)
            digits &+= 1
            guard digits <= 10 else { return nil }
            i &+= 1
        }
        var fraction: UInt64 = 0
        var places = 0
        if i < bytes.count {
            i &+= 1  // the point
            guard i < bytes.count || digits > 0 else { return nil }
            while i < bytes.count {
                let d = bytes[i] &- 0x30
                guard d <= 9 else { return nil }
                if places < 4 {
                    fraction = fraction &* 10 &+ UInt64(d)
                } else if d != 0 {
                    return nil
                }
                places &+= 1
                i &+= 1
            }
        } else if digits == 0 {
            return nil
        }
        while places < 4 {
            fraction &*= 10
            places &+= 1
        }
        let value = whole &* 10_000 &+ fraction
        guard digits + (places > 0 ? 1 : 0) > 0, value <= UInt64(Price.max) else { return nil }
        return Price(value)
    }

    /// Writes `value` in decimal at `to`; returns the byte count.
    @inlinable
    public static func write(_ value: UInt64, to: UnsafeMutableRawPointer) -> Int {
        if value < 10 {
            to.storeBytes(of: UInt8(truncatingIfNeeded: value) &+ 0x30, as: UInt8.self)
            return 1
        }
        var digits = 0
        var v = value
        while v > 0 {
            digits &+= 1
            v /= 10
        }
        v = value
        var i = digits
        while i > 0 {
            i &-= 1
            to.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 0x30, toByteOffset: i, as: UInt8.self)
            v /= 10
        }
        return digits
    }

    /// Writes a fixed-point value with `scale` implied decimals (4 for prices, 8 for AvgPx),
    /// trailing zeros of the fraction cut: `1502500` (scale 4) is `150.25`, `1500000` is `150`.
    @inlinable
    public static func writeDecimal(_ value: UInt64, scale: Int, to: UnsafeMutableRawPointer) -> Int {
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor &*= 10 }
        var n = write(value / divisor, to: to)
        var fraction = value % divisor
        guard fraction > 0 else { return n }
        var places = scale
        while fraction % 10 == 0 {
            fraction /= 10
            places &-= 1
        }
        to.storeBytes(of: UInt8(ascii: "."), toByteOffset: n, as: UInt8.self)
        n &+= 1
        var i = places
        while i > 0 {
            i &-= 1
            to.storeBytes(of: UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30, toByteOffset: n &+ i, as: UInt8.self)
            fraction /= 10
        }
        return n &+ places
    }
}

/// UTCTimestamp (`YYYYMMDD-HH:MM:SS`, `.sss`, `.ssssss` or `.sssssssss`) ↔ nanoseconds since
/// the Unix epoch. Years 1970–9999.
public enum FIXTimestamp {
    public enum Precision: Int, Sendable {
        case milliseconds = 3
        case microseconds = 6
    }

    /// The byte count `write` produces.
    @inlinable public static func length(_ precision: Precision) -> Int { 18 &+ precision.rawValue }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
    @inlinable
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year &- 1 : year
        let era = (y >= 0 ? y : y &- 399) / 400
        let yoe = y &- era &* 400
        let mp = (month &+ 9) % 12
        let doy = (153 &* mp &+ 2) / 5 &+ day &- 1
        let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
        return era &* 146_097 &+ doe &- 719_468
    }

    @inlinable
    static func digits(_ p: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        var v = 0
        for i in at..<(at &+ count) {
            let d = p[i] &- 0x30
            guard d <= 9 else { return nil }
            v = v &* 10 &+ Int(d)
        }
        return v
    }

    /// Nanoseconds since the epoch; nil for a malformed or impossible time.
    @inlinable
    public static func parse(_ p: UnsafeRawBufferPointer) -> UInt64? {
        let n = p.count
        guard n == 17 || n == 21 || n == 24 || n == 27,
              p[8] == UInt8(ascii: "-"), p[11] == UInt8(ascii: ":"), p[14] == UInt8(ascii: ":"),
              let year = digits(p, 0, 4), let month = digits(p, 4, 2), let day = digits(p, 6, 2),
              let hour = digits(p, 9, 2), let minute = digits(p, 12, 2), let second = digits(p, 15, 2),
              year >= 1970, (1...12).contains(month), day >= 1, hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = month == 2 ? (leap ? 29 : 28) : ((month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31)
        guard day <= monthDays else { return nil }
        var fraction: UInt64 = 0
        if n > 17 {
            guard p[17] == UInt8(ascii: "."), let f = digits(p, 18, n &- 18) else { return nil }
            fraction = UInt64(f)
            var scale = n &- 18
            while scale < 9 {
                fraction &*= 10
                scale &+= 1
            }
        }
        let seconds = UInt64(days(year: year, month: month, day: day)) &* 86_400
            &+ UInt64(hour &* 3600 &+ minute &* 60 &+ second)
        return seconds &* 1_000_000_000 &+ fraction
    }

    /// Writes `nanoseconds` since the epoch as a UTCTimestamp; returns the byte count.
    @inlinable
    public static func write(_ nanoseconds: UInt64, precision: Precision, to: UnsafeMutableRawPointer) -> Int {
        let seconds = nanoseconds / 1_000_000_000
        let z = Int(seconds / 86_400) &+ 719_468
        let secondOfDay = Int(seconds % 86_400)
        let era = z / 146_097
        let doe = z &- era &* 146_097
        let yoe = (doe &- doe / 1460 &+ doe / 36_524 &- doe / 146_096) / 365
        let doy = doe &- (365 &* yoe &+ yoe / 4 &- yoe / 100)
        let mp = (5 &* doy &+ 2) / 153
        let day = doy &- (153 &* mp &+ 2) / 5 &+ 1
        let month = mp < 10 ? mp &+ 3 : mp &- 9
        let year = yoe &+ era &* 400 &+ (month <= 2 ? 1 : 0)
        func put(_ v: Int, _ at: Int, _ count: Int) {
            var v = v
            var i = count
            while i > 0 {
                i &-= 1
                to.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 0x30, toByteOffset: at &+ i, as: UInt8.self)
                v /= 10
            }
        }
        put(year, 0, 4)
        put(month, 4, 2)
        put(day, 6, 2)
        to.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
        put(secondOfDay / 3600, 9, 2)
        to.storeBytes(of: UInt8(ascii: ":"), toByteOffset: 11, as: UInt8.self)
        put(secondOfDay / 60 % 60, 12, 2)
        to.storeBytes(of: UInt8(ascii: ":"), toByteOffset: 14, as: UInt8.self)
        put(secondOfDay % 60, 15, 2)
        to.storeBytes(of: UInt8(ascii: "."), toByteOffset: 17, as: UInt8.self)
        let nanos = Int(nanoseconds % 1_000_000_000)
        switch precision {
        case .milliseconds: put(nanos / 1_000_000, 18, 3)
        case .microseconds: put(nanos / 1_000, 18, 6)
        }
        return 18 &+ precision.rawValue
    }
}

/// The date and time of day (`YYYYMMDD-HH:MM:SS`, 17 bytes) of the last whole second a writer
/// of many timestamps wrote: a timestamp in the same second copies them instead of working out
/// the civil date and 14 digits again (SendingTime and TransactTime of every message).
public struct FIXTimestampCache: Sendable {
    @usableFromInline var second: UInt64 = .max
    @usableFromInline var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
    public init() {}
}

extension FIXTimestamp {
    /// `write`, through `cache`: the same bytes.
    @inlinable
    public static func write(_ nanoseconds: UInt64, precision: Precision, to: UnsafeMutableRawPointer,
                             cache: inout FIXTimestampCache) -> Int {
        let seconds = nanoseconds / 1_000_000_000
        guard seconds == cache.second else {
            let n = write(nanoseconds, precision: precision, to: to)
            cache.second = seconds
            withUnsafeMutableBytes(of: &cache.text) { $0.baseAddress!.copyMemory(from: to, byteCount: 17) }
            return n
        }
        withUnsafeBytes(of: &cache.text) { to.copyMemory(from: $0.baseAddress!, byteCount: 17) }
        to.storeBytes(of: UInt8(ascii: "."), toByteOffset: 17, as: UInt8.self)
        let nanos = nanoseconds % 1_000_000_000
        var v = precision == .milliseconds ? nanos / 1_000_000 : nanos / 1_000
        var i = 18 &+ precision.rawValue
        while i > 18 {
            i &-= 1
            to.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 0x30, toByteOffset: i, as: UInt8.self)
            v /= 10
        }
        return 18 &+ precision.rawValue
    }
}
