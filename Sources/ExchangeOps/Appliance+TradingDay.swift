import ExchangeConfig
import ExchangeGateway
import Foundation

// The trading day's schedule (`trading_day`) as the gateway gets it.
extension Appliance {
    /// The UTC offsets of `name` from a day before `from` to about 400 days after it, from the
    /// host's time zone data.
    static func zoneOffsets(_ name: String, from start: Date = Date()) throws -> ZoneOffsets {
        guard let zone = TimeZone(identifier: name) else {
            throw ApplianceError("trading_day.time_zone: the host's time zone data has no zone \"\(name)\" "
                                 + "(an IANA name such as \"America/New_York\"; Debian's tzdata package holds them)")
        }
        var date = start.addingTimeInterval(-86_400)
        var offsets = ZoneOffsets(initialOffset: Int64(zone.secondsFromGMT(for: date)))
        let until = start.addingTimeInterval(400 * 86_400)
        while let next = zone.nextDaylightSavingTimeTransition(after: date), next < until {
            offsets.transitions.append(.init(utc: Int64(next.timeIntervalSince1970.rounded()), offset: Int64(zone.secondsFromGMT(for: next))))
            date = next
        }
        return offsets
    }

    /// One line for the start-up log.
    static func tradingDayNote(_ day: TradingDaySettings) -> String {
        let times = "pre-open \(day.preOpen), open \(day.open), close \(day.close), end \(day.end)"
        let imbalances = "imbalance indicators every \(day.imbalanceIntervalSeconds) s from \(day.openingImbalanceSeconds) s before the open "
            + "and \(day.closingImbalanceSeconds) s before the close"
        if day.clockRate > 1 {
            let cycle = Double(day.end.seconds - day.preOpen.seconds) / Double(day.clockRate)
            return "trading day: accelerated \(day.clockRate)×, starting at \(day.startTime ?? day.preOpen), \(times), "
                + "looping every \(String(format: "%.0f", cycle)) s; \(imbalances) (exchange time)"
        }
        return "trading day: \(times) \(day.timeZone); \(imbalances)"
    }
}
