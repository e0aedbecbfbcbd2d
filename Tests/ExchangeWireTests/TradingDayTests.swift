import ExchangeWire
import Testing

/// The day's session names come from the day alone: the same for every restart within the
/// day, different for every other day, 10 letters and digits each.
@Suite struct TradingDayTests {
    @Test func namesTheDayAndItsTwoSessionsFromTheDate() throws {
        let day = try #require(TradingDay(year: 2026, month: 12, day: 7))
        #expect(day.name == "2026-12-07")
        #expect(day.orderEntrySession.description == "GA20261207")
        #expect(day.marketDataSession.description == "MA20261207")
        let shard = try #require(TradingDay(year: 2026, month: 12, day: 7, instance: UInt8(ascii: "3")))
        #expect(shard.orderEntrySession.description == "G320261207")
        #expect(shard.marketDataSession != day.marketDataSession)
    }

    @Test func everyMomentOfTheUTCDayGivesTheSameNamesAndTheNextDayNewOnes() throws {
        let midnight: Int64 = 1_796_601_600  // 2026-12-07T00:00:00Z
        let first = TradingDay(utcSecondsSinceEpoch: midnight)
        #expect(first.name == "2026-12-07")
        for seconds in [midnight + 1, midnight + 43_200, midnight + 86_399] {
            let restart = TradingDay(utcSecondsSinceEpoch: seconds)
            #expect(restart == first)
            #expect(restart.orderEntrySession == first.orderEntrySession && restart.marketDataSession == first.marketDataSession)
        }
        let next = TradingDay(utcSecondsSinceEpoch: midnight + 86_400)
        #expect(next.name == "2026-12-08")
        #expect(next.orderEntrySession != first.orderEntrySession && next.marketDataSession != first.marketDataSession)
        #expect(TradingDay(utcSecondsSinceEpoch: midnight - 1).name == "2026-12-06")
    }

    @Test func countsCalendarDaysAcrossMonthsLeapYearsAndTheEpoch() {
        #expect(TradingDay(utcSecondsSinceEpoch: 0).name == "1970-01-01")
        #expect(TradingDay(utcSecondsSinceEpoch: 951_782_400).name == "2000-02-29")
        #expect(TradingDay(utcSecondsSinceEpoch: 951_868_800).name == "2000-03-01")
        #expect(TradingDay(utcSecondsSinceEpoch: 1_709_164_800).name == "2024-02-29")
        #expect(TradingDay(utcSecondsSinceEpoch: 1_735_603_200).name == "2024-12-31")
        #expect(TradingDay(utcSecondsSinceEpoch: 1_735_689_600).name == "2025-01-01")
    }

    @Test func parsesItsOwnNameAndRefusesAnythingElse() throws {
        let day = try #require(TradingDay(name: "2028-02-29"))
        #expect(day.name == "2028-02-29" && day == TradingDay(year: 2028, month: 2, day: 29))
        for bad in ["2027-02-29", "2026-13-01", "2026-04-31", "2026-00-10", "2026-1-01", "20261207", "2026-12-07 ", "２026-12-07", ""] {
            #expect(TradingDay(name: bad) == nil, "\(bad)")
        }
        #expect(TradingDay(year: 2026, month: 12, day: 7, instance: UInt8(ascii: "-")) == nil)
    }

    @Test func sessionNamesAreTenLettersAndDigits() {
        for seconds in stride(from: Int64(0), to: 4_000_000_000, by: 7_777_777) {
            let day = TradingDay(utcSecondsSinceEpoch: seconds)
            for session in [day.orderEntrySession, day.marketDataSession] {
                let text = session.description
                #expect(text.utf8.count == 10 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }, "\(text)")
            }
        }
    }
}
