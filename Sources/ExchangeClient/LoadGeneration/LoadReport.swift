import ExchangeClock
import Histogram

/// What a load run did and measured. Latencies are in nanoseconds.
public struct LoadReport: Sendable {
    /// Order → Accepted (or Rejected) for every order entered.
    public var accepted = LoadReport.histogram()
    /// Taking order → its first Executed.
    public var executed = LoadReport.histogram()
    /// Cancel → Canceled.
    public var canceled = LoadReport.histogram()

    public var tally = LoadTally()
    /// Per connection: the username and what it sent and got.
    public var connections: [(username: String, tally: LoadTally)] = []
    /// Seconds from the first request to the last.
    public var sendingSeconds: Double = 0
    /// The most any request went out after its planned time (open loop), in nanoseconds.
    public var maximumSendLagNanoseconds: UInt64 = 0
    /// Connections that failed, with why.
    public var failures: [String] = []
    /// Failovers during the run, one line each (the connection, from where to where).
    public var failovers: [String] = []
    public var clockSource = TSCClock.Source.monotonic

    /// Requests sent per second while sending (orders and cancels, cleanup excluded).
    public var achievedRate: Double { sendingSeconds > 0 ? Double(tally.requests) / sendingSeconds : 0 }

    /// Every request got its answer and no connection failed.
    public var isComplete: Bool { failures.isEmpty && tally.outstanding == 0 }

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }
}

/// Counts of requests and replies (one connection's, or all of them added up).
public struct LoadTally: Sendable, Equatable {
    /// Enter Order and Cancel requests of the measured run (the cleanup's cancels apart).
    public var requests = 0
    public var orders = 0
    public var takingOrders = 0
    public var cancels = 0
    /// Cancels sent by the cleanup at the end.
    public var cleanupCancels = 0
    /// Accepted, and how many of those rest (state L).
    public var accepted = 0
    public var acceptedLive = 0
    public var rejected = 0
    /// Rejected, by OUCH reason byte.
    public var rejectsByReason: [UInt8: Int] = [:]
    /// Executed messages (both sides of a trade count when both are this run's).
    public var executions = 0
    public var executedShares: UInt64 = 0
    /// Taking orders that traded at least once.
    public var takersFilled = 0
    /// Canceled messages, by reason byte (U user, I immediate-or-cancel remainder, Q self-match, …).
    public var canceledByReason: [UInt8: Int] = [:]
    public var cancelRejects = 0
    /// Messages naming a token that is not this run's, or that this run does not expect.
    public var unexpected = 0
    /// Requests still without an answer at the end.
    public var outstanding = 0
    /// Orders still resting at the end (0 after a cleanup that completed).
    public var resting = 0
    /// Taking orders whose outcome (fill or Canceled) is still open at the end.
    public var unfinished = 0
    /// Failovers (a lost connection resumed at another address).
    public var failovers = 0
    /// Requests (orders and cancels) unanswered when a connection was lost and failed over.
    public var inFlightAtFailover = 0
    /// Of those, the ones the new primary never answered (it never had them): their outcome on
    /// the old primary is unknown — journaled there or not, they were never acknowledged.
    public var unknownOutcome = 0

    public init() {}

    public static func + (a: LoadTally, b: LoadTally) -> LoadTally {
        var t = LoadTally()
        t.requests = a.requests + b.requests
        t.orders = a.orders + b.orders
        t.takingOrders = a.takingOrders + b.takingOrders
        t.cancels = a.cancels + b.cancels
        t.cleanupCancels = a.cleanupCancels + b.cleanupCancels
        t.accepted = a.accepted + b.accepted
        t.acceptedLive = a.acceptedLive + b.acceptedLive
        t.rejected = a.rejected + b.rejected
        t.rejectsByReason = a.rejectsByReason.merging(b.rejectsByReason, uniquingKeysWith: +)
        t.executions = a.executions + b.executions
        t.executedShares = a.executedShares + b.executedShares
        t.takersFilled = a.takersFilled + b.takersFilled
        t.canceledByReason = a.canceledByReason.merging(b.canceledByReason, uniquingKeysWith: +)
        t.cancelRejects = a.cancelRejects + b.cancelRejects
        t.unexpected = a.unexpected + b.unexpected
        t.outstanding = a.outstanding + b.outstanding
        t.resting = a.resting + b.resting
        t.unfinished = a.unfinished + b.unfinished
        t.failovers = a.failovers + b.failovers
        t.inFlightAtFailover = a.inFlightAtFailover + b.inFlightAtFailover
        t.unknownOutcome = a.unknownOutcome + b.unknownOutcome
        return t
    }
}
