import ExchangeConfig
import ExchangeCore
@testable import ExchangeGateway
import Testing

/// The trading day's schedule on synthetic times: which action is due when, on an accelerated
/// clock and on the wall clock in a time zone with daylight saving, and what a start in the
/// middle of the day sends first.
@Suite struct TradingScheduleTests {
    static let second: UInt64 = 1_000_000_000

    static func settings(rate: Int = 1, start: String? = nil) -> TradingDaySettings {
        var s = TradingDaySettings()
        s.enabled = true
        s.preOpen = .init("09:00")!
        s.open = .init("09:30")!
        s.close = .init("16:00")!
        s.end = .init("16:30")!
        s.openingImbalanceSeconds = 300
        s.closingImbalanceSeconds = 600
        s.imbalanceIntervalSeconds = 60
        s.clockRate = rate
        s.startTime = start.map { TradingDaySettings.TimeOfDay($0)! }
        return s
    }

    @Test func aDaysActionsAreInOrderWithIndicatorsBeforeEachCross() {
        let events = TradingSchedule.dayEvents(Self.settings())
        let actions = events.map(\.action)
        #expect(actions.first == .preOpen && actions.last == .endOfSystemHours)
        // 300 s before 09:30 every 60 s: 09:25 … 09:29 (5), and 600 s before 16:00: 15:50 … 15:59 (10).
        #expect(actions == [.preOpen] + Array(repeating: .indicateImbalance, count: 5) + [.openingCross]
                    + Array(repeating: .indicateImbalance, count: 10) + [.closingCross, .endOfSystemHours])
        #expect(events.map(\.second) == events.map(\.second).sorted())
        #expect(events[1].second == 9 * 3_600 + 25 * 60)
    }

    @Test func anAcceleratedDayRunsAtItsRateAndLoopsFromEndToPreOpen() {
        // 100 exchange seconds per real second from 09:00: 09:30 is 18 s later, 16:00 252 s,
        // 16:30 270 s, and the next 09:00 is the same instant as 16:30.
        var schedule = TradingSchedule(settings: Self.settings(rate: 100, start: "09:00"), zone: .utc, epochMidnight: 0)
        let start: UInt64 = 7 * Self.second
        #expect(schedule.begin(now: start) == [])
        var taken: [(UInt64, PhaseAction)] = []
        var now = start
        while now <= start + 280 * Self.second {
            while let action = schedule.take(now: now) { taken.append((now - start, action)) }
            now += Self.second / 10
        }
        let structural = taken.filter { $0.1 != .indicateImbalance }
        #expect(structural.map(\.1) == [.preOpen, .openingCross, .closingCross, .endOfSystemHours, .preOpen])
        #expect(structural.map(\.0) == [0, 18, 252, 270, 270].map { $0 * Self.second })
        // Every indicator of the day was taken at its time (0.6 s apart), 5 + 10 of them.
        let indicators = taken.filter { $0.1 == .indicateImbalance }.map(\.0)
        #expect(indicators.count == 15)
        #expect(indicators.first == 15 * Self.second)
        #expect(schedule.localSecond(now: start + 18 * Self.second) == 9 * 3_600 + 30 * 60)
    }

    @Test func aStartInTheMiddleOfTheDayBringsTheEngineThere() {
        let mid = [("09:10", [PhaseAction.preOpen], PhaseAction.indicateImbalance),
                   ("09:30", [.preOpen], .openingCross),
                   ("12:00", [.openingCross], .indicateImbalance),
                   ("16:10", [.openingCross, .closingCross], .endOfSystemHours)]
        for (start, establishing, next) in mid {
            var schedule = TradingSchedule(settings: Self.settings(rate: 10, start: start), zone: .utc, epochMidnight: 0)
            #expect(schedule.begin(now: Self.second) == establishing, "start \(start)")
            // What is due at the start is sent at once; otherwise nothing until its time.
            let due = schedule.nextDue
            #expect(start == "09:30" ? due == Self.second : due > Self.second, "start \(start)")
            #expect(schedule.take(now: due) == next, "start \(start)")
        }
    }

    @Test func aGatewayThatFellBehindSkipsStaleIndicatorsButNoPhaseChange() {
        var schedule = TradingSchedule(settings: Self.settings(rate: 100, start: "09:00"), zone: .utc, epochMidnight: 0)
        _ = schedule.begin(now: 0)
        #expect(schedule.take(now: 0) == .preOpen)
        // Nothing for 20 s (past the open at 18 s): the five indicators are stale, the cross is not.
        #expect(schedule.take(now: 20 * Self.second) == .openingCross)
        #expect(schedule.take(now: 20 * Self.second) == nil)
    }

    /// New York: UTC−5 in winter, UTC−4 from the second Sunday of March (2027-03-14 07:00 UTC).
    static let newYork = ZoneOffsets(initialOffset: -5 * 3_600, transitions: [.init(utc: 1_805_007_600, offset: -4 * 3_600)])

    @Test func theWallClockFollowsTheTimeZoneAcrossDaylightSaving() {
        #expect(Self.newYork.offset(atUTC: 1_805_007_599) == -18_000)
        #expect(Self.newYork.offset(atUTC: 1_805_007_600) == -14_400)
        // Friday 2027-03-12 14:00 UTC = 09:00 New York (winter): the gateway started at UTC midnight.
        let midnight: UInt64 = 1_804_809_600 * Self.second  // 2027-03-12 00:00 UTC
        var schedule = TradingSchedule(settings: Self.settings(), zone: Self.newYork, epochMidnight: midnight)
        #expect(schedule.begin(now: 14 * 3_600 * Self.second - 1) == [.openingCross, .closingCross])  // 08:59:59: yesterday is over
        #expect(schedule.take(now: 14 * 3_600 * Self.second) == .preOpen)
        // The open: 09:30 New York = 14:30 UTC on that day.
        while let a = schedule.take(now: 14 * 3_600 * Self.second + 30 * 60 * Self.second) { if a == .openingCross { break } }
        #expect(schedule.localSecond(now: 14 * 3_600 * Self.second + 30 * 60 * Self.second) == 9 * 3_600 + 30 * 60)
        // Three days later (Monday 15th, summer time) pre-open is at 13:00 UTC.
        var later = TradingSchedule(settings: Self.settings(), zone: Self.newYork, epochMidnight: midnight)
        _ = later.begin(now: (3 * 86_400 + 12 * 3_600) * Self.second)  // 15th 08:00 New York
        #expect(later.nextDue == (3 * 86_400 + 13 * 3_600) * Self.second)
        #expect(later.take(now: later.nextDue) == .preOpen)
    }

    @Test func theWallClockOpensOnlyOnWeekdaysThatAreNotHolidays() {
        let midnight: UInt64 = 1_804_809_600 * Self.second  // Friday 2027-03-12 00:00 UTC
        let hour = 3_600 * Self.second, day = 86_400 * Self.second
        // Friday 17:00 New York (after the end): the next pre-open is Monday's, 09:00 summer time.
        var friday = TradingSchedule(settings: Self.settings(), zone: Self.newYork, epochMidnight: midnight)
        #expect(friday.begin(now: 22 * hour) == [.openingCross, .closingCross])
        #expect(friday.nextDue == 3 * day + 13 * hour)
        // Saturday noon: the market is closed (post-close), and opens on Monday.
        var saturday = TradingSchedule(settings: Self.settings(), zone: Self.newYork, epochMidnight: midnight)
        #expect(saturday.begin(now: day + 17 * hour) == [.openingCross, .closingCross])
        #expect(saturday.nextDue == 3 * day + 13 * hour)
        #expect(saturday.take(now: 3 * day + 13 * hour - 1) == nil)
        #expect(saturday.take(now: 3 * day + 13 * hour) == .preOpen)
        // Monday a holiday: Tuesday. A whole Friday taken action by action ends on Tuesday's pre-open.
        var settings = Self.settings()
        settings.holidays = [TradingDaySettings.dayNumber("2027-03-15")!]
        var walk = TradingSchedule(settings: settings, zone: Self.newYork, epochMidnight: midnight)
        #expect(walk.begin(now: 13 * hour) == [.openingCross, .closingCross])  // 08:00 Friday: yesterday is over
        var structural: [PhaseAction] = []
        while walk.nextDue < 4 * day, let action = walk.take(now: walk.nextDue) {
            if action != .indicateImbalance { structural.append(action) }
        }
        #expect(structural == [.preOpen, .openingCross, .closingCross, .endOfSystemHours])
        #expect(walk.nextDue == 4 * day + 13 * hour)
        #expect(walk.take(now: walk.nextDue) == .preOpen)
        // An accelerated day ignores the calendar.
        var fast = Self.settings(rate: 100, start: "09:00")
        fast.weekdays = 0b100_0000
        var accelerated = TradingSchedule(settings: fast, zone: .utc, epochMidnight: midnight)
        #expect(accelerated.begin(now: 0) == [] && accelerated.take(now: 0) == .preOpen)
    }

    @Test func operatorActionsQueueInOrderAndTheQueueIsBounded() {
        let queue = OperatorActionQueue(capacity: 2)
        let aapl = Symbol("AAPL")!
        #expect(queue.take() == nil)
        #expect(queue.offer(.init(symbol: aapl, action: .halt)))
        #expect(queue.offer(.init(symbol: .everySymbol, action: .resume)))
        #expect(!queue.offer(.init(symbol: aapl, action: .resume)))
        #expect(queue.depth == 2)
        #expect(queue.take() == .init(symbol: aapl, action: .halt))
        #expect(queue.take() == .init(symbol: .everySymbol, action: .resume))
        #expect(queue.take() == nil)
        #expect(queue.offer(.init(symbol: aapl, action: .resume)))
    }
}
