import ExchangeConfig
import ExchangeCore

/// A time zone's offsets from UTC over a span of time: the offset before the first
/// transition, then each transition. Built at start (from the host's time zone data, by the
/// appliance); looked up without allocating.
public struct ZoneOffsets: Sendable, Equatable {
    public struct Transition: Sendable, Equatable {
        /// Seconds since the Unix epoch (UTC) from which `offset` holds.
        public var utc: Int64
        /// Seconds east of UTC.
        public var offset: Int64

        public init(utc: Int64, offset: Int64) {
            self.utc = utc
            self.offset = offset
        }
    }

    public var initialOffset: Int64
    public var transitions: [Transition]

    public init(initialOffset: Int64, transitions: [Transition] = []) {
        self.initialOffset = initialOffset
        self.transitions = transitions
    }

    public static let utc = ZoneOffsets(initialOffset: 0)

    /// The offset in force at UTC second `utc`.
    public func offset(atUTC utc: Int64) -> Int64 {
        var low = 0, high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid].utc <= utc { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? initialOffset : transitions[low - 1].offset
    }

    /// The UTC second of local second `local` (a local time that a change skips or repeats
    /// maps to one of its neighbours).
    public func utc(fromLocal local: Int64) -> Int64 {
        local - offset(atUTC: local - offset(atUTC: local))
    }
}

/// The trading day's schedule (docs/OPERATIONS.md, "The trading day's schedule"): which phase
/// action is due next and when, in the gateway's time (nanoseconds since the UTC midnight
/// before its start). The gateway sends each as `EngineCommand.tradingPhase` for every
/// symbol, so the journal holds them and a replay or a standby sees the same day.
///
/// One day's actions, in order: `preOpen` at `pre_open`; `indicateImbalance` every
/// `imbalance_interval_seconds` from `opening_imbalance_seconds` before `open`; `openingCross`
/// at `open`; imbalances before `close`; `closingCross` at `close`; `endOfSystemHours` at
/// `end`. On the wall clock (`clock_rate` 1) local days follow each other in the time zone;
/// an accelerated day runs `clock_rate` exchange seconds per real second from `start_time`
/// and goes from `end` straight to the next day's `pre_open`. On the wall clock only the
/// configured `weekdays` that are not `holidays` have a day; between them the market stays
/// closed (post-close).
///
/// `nextDue` and `take` allocate nothing.
public struct TradingSchedule: Sendable {
    public struct Event: Sendable, Equatable {
        /// Seconds after the local midnight.
        public var second: Int64
        public var action: PhaseAction
    }

    enum Timeline: Sendable {
        /// The wall clock: the gateway's time plus `epochMidnight` is UTC.
        case wall(zone: ZoneOffsets, epochMidnight: UInt64)
        /// An accelerated clock: at gateway time `startNow` the exchange is `startSecond`
        /// seconds into day 0; `rate` exchange seconds pass per real second.
        case accelerated(rate: Int64, startNow: UInt64, startSecond: Int64)
    }

    /// One day's actions, in order.
    public let events: [Event]
    private(set) var timeline: Timeline
    let preOpen: Int64
    let end: Int64
    /// The wall clock's calendar: the days the market opens (`weekdays`, `holidays`).
    let calendar: TradingDaySettings
    /// The local day (wall clock: days since the epoch; accelerated: days since start) and
    /// the index in `events` of the next action.
    private(set) var day: Int64 = 0
    private(set) var index = 0
    /// When the next action is due, in the gateway's time.
    public private(set) var nextDue: UInt64 = .max

    /// The actions of one day.
    public static func dayEvents(_ settings: TradingDaySettings) -> [Event] {
        var events: [Event] = [Event(second: Int64(settings.preOpen.seconds), action: .preOpen)]
        func imbalances(before cross: Int, lead: Int) {
            guard lead > 0 else { return }
            var t = cross - lead
            while t < cross {
                events.append(Event(second: Int64(t), action: .indicateImbalance))
                t += settings.imbalanceIntervalSeconds
            }
        }
        imbalances(before: settings.open.seconds, lead: settings.openingImbalanceSeconds)
        events.append(Event(second: Int64(settings.open.seconds), action: .openingCross))
        imbalances(before: settings.close.seconds, lead: settings.closingImbalanceSeconds)
        events.append(Event(second: Int64(settings.close.seconds), action: .closingCross))
        events.append(Event(second: Int64(settings.end.seconds), action: .endOfSystemHours))
        return events
    }

    /// A schedule on the wall clock (`settings.clockRate` 1, in `zone`) or an accelerated one
    /// (`clockRate` > 1, `zone` unused); `begin` places it.
    public init(settings: TradingDaySettings, zone: ZoneOffsets, epochMidnight: UInt64) {
        events = Self.dayEvents(settings)
        preOpen = Int64(settings.preOpen.seconds)
        end = Int64(settings.end.seconds)
        calendar = settings
        if settings.clockRate > 1 {
            timeline = .accelerated(rate: Int64(settings.clockRate), startNow: 0,
                                    startSecond: Int64((settings.startTime ?? settings.preOpen).seconds))
        } else {
            timeline = .wall(zone: zone, epochMidnight: epochMidnight)
        }
    }

    /// Places the schedule at gateway time `now`: the next action is the first due at or
    /// after it. Returns the actions that bring an engine to where the day is (an action that
    /// does not apply to an instrument's phase does nothing for it, so an engine already
    /// there — recovered from the journal — is left alone):
    /// - before the opening: `preOpen`;
    /// - between the opening and the closing: `openingCross` (an instrument still in pre-open
    ///   opens; a continuous one is left alone);
    /// - after the closing (or before the day's `pre_open` on the wall clock): `openingCross`
    ///   then `closingCross`.
    public mutating func begin(now: UInt64) -> [PhaseAction] {
        let second: Int64
        switch timeline {
        case .wall(let zone, let epochMidnight):
            let utc = Int64((epochMidnight &+ now) / 1_000_000_000)
            let local = utc + zone.offset(atUTC: utc)
            day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            second = local - day * 86_400
        case .accelerated(let rate, _, let startSecond):
            timeline = .accelerated(rate: rate, startNow: now, startSecond: startSecond)
            day = 0
            second = startSecond
        }
        if case .wall = timeline, !calendar.isTradingDay(day) {
            // A day the market stays closed: closed until the next trading day's pre_open.
            index = 0
            day = nextTradingDay(from: day + 1)
            nextDue = due(day: day, index: index)
            return [.openingCross, .closingCross]
        }
        index = events.firstIndex { $0.second >= second } ?? events.count
        var last: PhaseAction?
        for e in events[..<index] where e.action != .indicateImbalance { last = e.action }
        if index == events.count {
            // After the day's end: the next day's actions.
            index = 0
            day = nextTradingDay(from: day + 1)
        }
        nextDue = due(day: day, index: index)
        switch last {
        case nil:
            // Before pre_open: on the wall clock the previous day is over.
            if case .wall = timeline { return [.openingCross, .closingCross] }
            return []
        case .preOpen?: return [.preOpen]
        case .openingCross?: return [.openingCross]
        default: return [.openingCross, .closingCross]
        }
    }

    /// The action due at gateway time `now`, if any, moving past it. An imbalance indicator
    /// whose successor is due too is skipped (the gateway fell behind: a stale indicator
    /// tells nobody anything).
    public mutating func take(now: UInt64) -> PhaseAction? {
        while now >= nextDue {
            let action = events[index].action
            advance()
            if action == .indicateImbalance && now >= nextDue { continue }
            return action
        }
        return nil
    }

    /// The action `take` would return next (nil when none is due).
    public func peek(now: UInt64) -> PhaseAction? {
        now >= nextDue ? events[index].action : nil
    }

    private mutating func advance() {
        index += 1
        if index == events.count {
            index = 0
            day = nextTradingDay(from: day + 1)
        }
        nextDue = due(day: day, index: index)
    }

    /// The first day from `day` on which the market opens: on the wall clock, a configured
    /// weekday that is not a holiday; an accelerated day loops every day.
    func nextTradingDay(from day: Int64) -> Int64 {
        guard case .wall = timeline else { return day }
        var d = day
        // Some weekday is always configured, so a week past the last holiday is one.
        while !calendar.isTradingDay(d) && d < day + 7 + Int64(calendar.holidays.count) { d += 1 }
        return d
    }

    /// When action `index` of `day` is due, in the gateway's time (0 when before the
    /// gateway's time began).
    func due(day: Int64, index: Int) -> UInt64 {
        let second = events[index].second
        switch timeline {
        case .wall(let zone, let epochMidnight):
            let utc = zone.utc(fromLocal: day * 86_400 + second)
            let nanoseconds = UInt64(max(0, utc)) * 1_000_000_000
            return nanoseconds > epochMidnight ? nanoseconds - epochMidnight : 0
        case .accelerated(let rate, let startNow, let startSecond):
            // Exchange seconds from the start: whole days of (end − pre_open), then into the day.
            let elapsed = day * (end - preOpen) + (second - startSecond)
            guard elapsed > 0 else { return startNow }
            let e = UInt64(elapsed), r = UInt64(rate)
            // e / r whole seconds, then the rest; no overflow for any real span.
            return startNow &+ (e / r) * 1_000_000_000 &+ ((e % r) * 1_000_000_000 + r - 1) / r
        }
    }

    /// The exchange's local time of day at gateway time `now`, in seconds (for logs and
    /// metrics).
    public func localSecond(now: UInt64) -> Int64 {
        switch timeline {
        case .wall(let zone, let epochMidnight):
            let utc = Int64((epochMidnight &+ now) / 1_000_000_000)
            let local = utc + zone.offset(atUTC: utc)
            return ((local % 86_400) + 86_400) % 86_400
        case .accelerated(let rate, let startNow, let startSecond):
            let elapsed = Int64(now >= startNow ? (now - startNow) / 1_000_000_000 : 0) * rate
            let length = end - preOpen
            return preOpen + (startSecond - preOpen + elapsed) % length
        }
    }
}
