import ExchangeWire
import Testing

/// A new day on the same date (`--new-day`) gets session names of its own, still 10 letters
/// and digits, never another day's; the first day of a date keeps its usual names.
@Suite struct TradingDayOrdinalTests {
    @Test func eachNewDayOfADateHasItsOwnSessionNames() throws {
        let day = try #require(TradingDay(year: 2026, month: 12, day: 7))
        #expect(day.orderEntrySession(ordinal: 0) == day.orderEntrySession)
        #expect(day.marketDataSession(ordinal: 0) == day.marketDataSession)
        #expect(day.orderEntrySession(ordinal: 1)?.description == "GA261207N1")
        #expect(day.marketDataSession(ordinal: 1)?.description == "MA261207N1")
        #expect(day.orderEntrySession(ordinal: 10)?.description == "GA261207NA")
        #expect(day.orderEntrySession(ordinal: 35)?.description == "GA261207NZ")
        #expect(day.orderEntrySession(ordinal: 36) == nil)
        #expect(day.orderEntrySession(ordinal: -1) == nil)
        var names = Set<String>()
        for ordinal in 0...TradingDay.maximumOrdinal {
            let name = try #require(day.orderEntrySession(ordinal: ordinal)).description
            #expect(name.utf8.count == 10)
            names.insert(name)
        }
        #expect(names.count == TradingDay.maximumOrdinal + 1)
        // Never the first-day name of another date: a first day's name has only digits after
        // the instance.
        let other = try #require(TradingDay(year: 2612, month: 7, day: 1))
        #expect(!names.contains(other.orderEntrySession.description))
        #expect(names.contains("GA20261207"))
    }
}
