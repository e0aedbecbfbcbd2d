import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeWire

/// Sustained throughput: `connections` logged-in connections, each keeping up to `window`
/// messages outstanding (sent, not yet answered), all driven by one spinning client thread.
/// Each connection alternates Enter Order k and Cancel Order k, so at most window / 2 of its
/// orders rest. Sending stops after `seconds` or at `maximumMessages` per connection (each
/// Enter sent still gets its Cancel, so no order is left resting); then every answer must
/// arrive within 5 s. Every message earns exactly one answer
/// (Accepted, Canceled, or a Rejected / Cancel Reject, which are counted apart): anything
/// unanswered at the end is reported as lost and fails the run.
struct PipelinedRun: Codable, Sendable {
    var server: String
    var connections: Int
    var window: Int
    var plannedSeconds: Double
    var maximumMessagesPerConnection: Int
    var sent: Int
    var enters: Int
    var accepted: Int
    var canceled: Int
    var rejected: Int
    var cancelRejected: Int
    var otherMessages: Int
    var lost: Int
    /// From the first send to the last answer.
    var elapsedSeconds: Double
    /// Answered messages (enters and cancels) per second.
    var messagesPerSecond: Double
    /// Enter Orders answered per second.
    var ordersPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case server, connections, window, plannedSeconds = "planned_seconds"
        case maximumMessagesPerConnection = "maximum_messages_per_connection", sent, enters, accepted, canceled, rejected
        case cancelRejected = "cancel_rejected", otherMessages = "other_messages", lost, elapsedSeconds = "elapsed_seconds"
        case messagesPerSecond = "messages_per_second", ordersPerSecond = "enter_orders_per_second"
    }
}

enum Pipelined {
    /// What one connection has sent and had answered.
    struct Flow {
        var sent = 0
        var accepted = 0
        var canceled = 0
        var rejected = 0
        var cancelRejected = 0
        var other = 0
        var answered: Int { accepted + canceled + rejected + cancelRejected }
        /// Messages k = 0, 2, 4, … are Enter Orders.
        var enters: Int { (sent + 1) / 2 }
        var outstanding: Int { sent - answered }
    }

    /// - Parameter connect: opens the logged-in connection of an account (OUCH, OUCH over TLS or FIX).
    static func run<Connection: BenchOrderConnection & ~Copyable>(
        server: String, connect: (BenchAccount) throws(BenchFailure) -> Connection, accounts: [BenchAccount], window: Int,
        seconds: Double, maximumMessages: Int, tokenPrefix: UInt8, clock: TSCClock
    ) throws(BenchFailure) -> PipelinedRun {
        let count = accounts.count
        let connections = UnsafeMutablePointer<Connection>.allocate(capacity: count)
        var opened = 0
        defer {
            for c in 0..<opened { connections[c].logout() }
            connections.deinitialize(count: opened)
            connections.deallocate()
        }
        for c in 0..<count {
            (connections + c).initialize(to: try connect(accounts[c]))
            opened += 1
        }
        var flows = [Flow](repeating: Flow(), count: count)
        let packetRoom = Connection.largestRequest
        let start = rtes_rdtscp()
        let stopSending = start &+ UInt64(seconds * Double(clock.ticksPerSecond))
        let giveUp = stopSending &+ clock.ticksPerSecond &* 5
        var lastAnswer = start
        while true {
            let now = rtes_rdtsc()
            let sending = now < stopSending
            var outstanding = 0
            var sendable = false
            for c in 0..<count {
                let answeredBefore = flows[c].answered
                while let answer = try connections[c].nextAnswer() {
                    tally(answer, into: &flows[c])
                }
                if flows[c].answered != answeredBefore { lastAnswer = connections[c].lastReceiveTSC }
                // Until the time is up: up to the cap. Then only the Cancel of an Enter already sent.
                let limit = sending ? maximumMessages & ~1 : (flows[c].sent + 1) & ~1
                if flows[c].sent < limit {
                    sendable = true
                    while flows[c].outstanding < window && flows[c].sent < limit && connections[c].sendRoom >= packetRoom {
                        let k = flows[c].sent
                        let token = BenchToken.make(tokenPrefix, UInt64(c) &* 100_000_000_000 &+ UInt64(k / 2))
                        if k & 1 == 0 {
                            connections[c].queueEnter(token)
                        } else {
                            connections[c].queueCancel(token)
                        }
                        flows[c].sent += 1
                    }
                }
                try connections[c].flush()
                outstanding += flows[c].outstanding
            }
            if !sendable && outstanding == 0 { break }
            if now > giveUp { break }
        }
        let enters = flows.reduce(0) { $0 + $1.enters }
        let total = flows.reduce(into: Flow()) { sum, flow in
            sum.sent += flow.sent
            sum.accepted += flow.accepted
            sum.canceled += flow.canceled
            sum.rejected += flow.rejected
            sum.cancelRejected += flow.cancelRejected
            sum.other += flow.other
        }
        let elapsed = clock.seconds(lastAnswer &- start)
        return PipelinedRun(
            server: server, connections: count, window: window, plannedSeconds: seconds,
            maximumMessagesPerConnection: maximumMessages, sent: total.sent, enters: enters,
            accepted: total.accepted, canceled: total.canceled, rejected: total.rejected,
            cancelRejected: total.cancelRejected, otherMessages: total.other, lost: total.outstanding,
            elapsedSeconds: elapsed, messagesPerSecond: Double(total.answered) / elapsed,
            ordersPerSecond: Double(total.accepted + total.rejected) / elapsed)
    }

    @inline(__always)
    static func tally(_ answer: BenchAnswer, into flow: inout Flow) {
        switch answer.kind {
        case .accepted: flow.accepted += 1
        case .canceled: flow.canceled += 1
        case .rejected: flow.rejected += 1
        case .cancelRejected: flow.cancelRejected += 1
        case .other: flow.other += 1
        }
    }
}
