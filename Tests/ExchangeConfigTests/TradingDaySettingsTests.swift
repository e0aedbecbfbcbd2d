@testable import ExchangeConfig
import Testing

/// The `trading_day` section: off by default, every key read and checked, the day's times in
/// order, and the accelerated clock's start inside the day; the keys file's `operators`.
@Suite struct TradingDaySettingsTests {
    @Test func withoutTheSectionTheDayIsOff() throws {
        let day = try load(document("")).configuration.tradingDay
        #expect(day == TradingDaySettings())
        #expect(!day.enabled)
        #expect(day.preOpen.description == "04:00" && day.open.description == "09:30" && day.close.description == "16:00"
                    && day.end.description == "20:00")
        #expect(day.timeZone == "America/New_York" && day.clockRate == 1 && day.startTime == nil)
    }

    @Test func everyKeyIsRead() throws {
        let day = try load(document(#"""
            "trading_day": {"enabled": true, "time_zone": "Europe/London", "pre_open": "07:00", "open": "08:00:30",
                            "close": "16:30", "end": "17:15", "opening_imbalance_seconds": 120, "closing_imbalance_seconds": 300,
                            "imbalance_interval_seconds": 5, "clock_rate": 60, "start_time": "08:00"}
            """#)).configuration.tradingDay
        #expect(day.enabled && day.timeZone == "Europe/London")
        #expect(day.preOpen.seconds == 7 * 3_600 && day.open.seconds == 8 * 3_600 + 30 && day.open.description == "08:00:30")
        #expect(day.close.seconds == 16 * 3_600 + 1_800 && day.end.seconds == 17 * 3_600 + 900)
        #expect(day.openingImbalanceSeconds == 120 && day.closingImbalanceSeconds == 300 && day.imbalanceIntervalSeconds == 5)
        #expect(day.clockRate == 60 && day.startTime?.description == "08:00")
        // Overridable from the environment like every setting.
        let overridden = try load(document(""), environment: ["RTES_TRADING_DAY_ENABLED": "true", "RTES_TRADING_DAY_CLOCK_RATE": "96"])
        #expect(overridden.configuration.tradingDay.enabled && overridden.configuration.tradingDay.clockRate == 96)
    }

    @Test func everyKeyHasARangeAndIsNamed() {
        for (key, bad) in [("enabled", #""yes""#), ("time_zone", #""""#), ("time_zone", #""../etc/passwd""#), ("time_zone", #""New York""#),
                           ("pre_open", #""4:00""#), ("open", #""09:60""#), ("close", #""25:00""#), ("end", "2000"),
                           ("opening_imbalance_seconds", "-1"), ("imbalance_interval_seconds", "0"), ("imbalance_interval_seconds", "3601"),
                           ("clock_rate", "0"), ("clock_rate", "100001"), ("start_time", #""noon""#)] {
            let found = issues(document(#""trading_day": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["trading_day.\(key)"], "\(key): \(bad) → \(found)")
        }
    }

    @Test func theCalendarIsWeekdaysLessHolidays() throws {
        let plain = try load(document("")).configuration.tradingDay
        #expect(TradingDaySettings.weekdayText(plain.weekdays) == "mon,tue,wed,thu,fri" && plain.holidays.isEmpty)
        let day = try load(document(#"""
            "trading_day": {"weekdays": "sun, mon,TUE,wed,thu", "holidays": "2027-01-01,2026-12-24, 2026-12-24"}
            """#)).configuration.tradingDay
        #expect(TradingDaySettings.weekdayText(day.weekdays) == "mon,tue,wed,thu,sun")
        // Ascending, each once; days since 1970-01-01.
        #expect(day.holidays == [20_811, 20_819])
        #expect(TradingDaySettings.dayNumber("1970-01-01") == 0 && TradingDaySettings.dayNumber("2027-03-12") == 20_889)
        #expect(TradingDaySettings.weekday(ofDay: 0) == 3 && TradingDaySettings.weekday(ofDay: 20_889) == 4)  // Thursday, Friday
        #expect(TradingDaySettings.dayNumber("2028-02-29") != nil && TradingDaySettings.dayNumber("2027-02-29") == nil)
        #expect(TradingDaySettings.dayNumber("2000-02-29") != nil && TradingDaySettings.dayNumber("2100-02-29") == nil)
        #expect(day.isTradingDay(20_889 - 1) && !day.isTradingDay(20_889))  // Thursday yes, Friday not a weekday here
        #expect(!day.isTradingDay(20_811) && day.isTradingDay(20_811 - 1))  // Thursday 2026-12-24 a holiday; Wednesday not
        for (key, bad) in [("weekdays", #""""#), ("weekdays", #""mon,mon""#), ("weekdays", #""monday""#), ("weekdays", "5"),
                           ("holidays", #""2027-02-29""#), ("holidays", #""2027-1-01""#), ("holidays", #""1969-12-31""#),
                           ("holidays", #""2027-01-01,""#)] {
            let found = issues(document(#""trading_day": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["trading_day.\(key)"], "\(key): \(bad) → \(found)")
        }
        let overridden = try load(document(""), environment: ["RTES_TRADING_DAY_WEEKDAYS": "sat,sun"])
        #expect(TradingDaySettings.weekdayText(overridden.configuration.tradingDay.weekdays) == "sat,sun")
    }

    @Test func theDaysTimesMustRiseAndTheWindowsFit() {
        let backwards = issues(document(#""trading_day": {"open": "08:00", "pre_open": "09:00"}"#))
        #expect(backwards.paths == ["trading_day.open"], "\(backwards)")
        #expect(backwards.first?.message.contains("pre_open < open < close < end") == true)
        let equal = issues(document(#""trading_day": {"close": "20:00"}"#))
        #expect(equal.paths == ["trading_day.close"], "\(equal)")
        let opening = issues(document(#""trading_day": {"pre_open": "09:00", "opening_imbalance_seconds": 1801}"#))
        #expect(opening.paths == ["trading_day.opening_imbalance_seconds"], "\(opening)")
        let closing = issues(document(#""trading_day": {"closing_imbalance_seconds": 23401}"#))
        #expect(closing.paths == ["trading_day.closing_imbalance_seconds"], "\(closing)")
        #expect(issues(document(#""trading_day": {"closing_imbalance_seconds": 23400}"#)).isEmpty)
    }

    @Test func aStartTimeIsForAnAcceleratedDayInsideTheDay() {
        let wall = issues(document(#""trading_day": {"start_time": "09:30"}"#))
        #expect(wall.paths == ["trading_day.start_time"] && wall.first?.message.contains("clock_rate is 1") == true, "\(wall)")
        let outside = issues(document(#""trading_day": {"clock_rate": 10, "start_time": "21:00"}"#))
        #expect(outside.paths == ["trading_day.start_time"], "\(outside)")
        #expect(issues(document(#""trading_day": {"clock_rate": 10, "start_time": "19:59:59"}"#)).isEmpty)
        #expect(issues(document(#""trading_day": {"clock_rate": 10, "start_time": ""}"#)).isEmpty)
    }

    @Test func operatorsAreReadWithTheirRolesAndCheckedLikeAccounts() throws {
        let keys = try APIKeys.parse(json: #"""
            {"accounts": [{"username": "ALICE", "password": "alicepw12", "firm": "ALCE"}],
             "operators": [{"username": "ops.one", "password": "opspass", "role": "operator"},
                           {"username": "viewer", "password": "viewpass", "role": "read_only"}]}
            """#, source: "keys.json")
        #expect(keys.operators.map(\.username) == ["ops.one", "viewer"])
        #expect(keys.operators.map(\.role) == [.operator, .readOnly])
        #expect(keys.operators[0].role.mayHalt && !keys.operators[1].role.mayHalt)
        for (entry, path) in [(#"{"username": "ops", "password": "s3cretpw", "role": "boss"}"#, "operators[0].role"),
                              (#"{"username": "o p", "password": "s3cretpw", "role": "admin"}"#, "operators[0].username"),
                              (#"{"username": "ops", "role": "admin"}"#, "operators[0].secret"),
                              (#"{"username": "ops", "password": "s3cretpw", "role": "admin", "firm": 7}"#, "operators[0].firm")] {
            do {
                _ = try APIKeys.parse(json: #"{"accounts": [{"username": "ALICE", "password": "alicepw12", "firm": "ALCE"}], "operators": [\#(entry)]}"#,
                                      source: "keys.json")
                Issue.record("\(entry) was accepted")
            } catch {
                #expect(error.issues.map(\.path).contains(path), "\(entry): \(error.issues)")
                #expect(!"\(error)".contains("s3cretpw"), "a password was quoted back: \(error)")
            }
        }
    }
}
