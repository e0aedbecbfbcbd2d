import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Histogram

/// Wire-to-wire latency over one connection in closed loop: send an Enter Order, spin until
/// its Accepted arrives, send its Cancel, spin until the Canceled arrives, repeat. So one
/// order at a time rests and nothing accumulates. Times are TSC reads: just before the
/// packet is handed to `send`, and right after the `recv` that brought the answer
/// (`rdtscp`); both include one TSC read (~20 ns here).
struct ClosedLoopRun: Sendable {
    /// Enter Order → Accepted, after the warm-up.
    var enter: Histogram<UInt64>
    /// Cancel Order → Canceled, after the warm-up.
    var cancel: Histogram<UInt64>
    /// Enter Order → its Add Order on the ITCH feed, after the warm-up (with a feed).
    var itch: Histogram<UInt64>?
    /// Sequenced messages that answered neither (e.g. a System Event after login).
    var otherMessages = 0
}

/// Where an exchange publishes its feed.
struct FeedAddress: Sendable {
    var group: UInt32
    var port: UInt16
    var retransmitPort: UInt16
}

/// A receiver on the exchange's multicast group that notes the kernel receive time
/// (SO_TIMESTAMPNS, CLOCK_REALTIME) of the next datagram carrying an Add Order.
final class FeedTap {
    let client: FeedClient
    /// Kernel receive stamp of the last Add Order seen since `expectAddOrder()`; 0 before.
    private(set) var addOrderAt: UInt64 = 0

    init(_ address: FeedAddress) throws(BenchFailure) {
        do {
            client = try FeedClient(group: address.group, port: address.port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                    retransmitPort: address.retransmitPort, instrumentCount: BenchMarket.instruments.count,
                                    orderCapacity: 1_024)
        } catch {
            throw BenchFailure("cannot join the feed: \(error)")
        }
        client.onPacket = { [unowned self] packet, received in
            guard self.addOrderAt == 0, case .success(let p) = MoldUDP64.readPacket(packet) else { return }
            p.forEachMessage { _, message in
                if let type = message.first, type == ITCH.MessageType.addOrder || type == ITCH.MessageType.addOrderAttributed {
                    self.addOrderAt = received
                }
            }
        }
    }

    func expectAddOrder() { addOrderAt = 0 }

    /// Polls until an Add Order has arrived since `expectAddOrder()`; its kernel stamp.
    func awaitAddOrder(deadline: UInt64) throws(BenchFailure) -> UInt64 {
        while addOrderAt == 0 {
            client.poll(timeoutMilliseconds: 0)
            if rtes_rdtsc() > deadline { throw BenchFailure("no Add Order on the feed in time") }
        }
        return addOrderAt
    }
}

enum ClosedLoop {
    /// - Parameters:
    ///   - connect: opens the logged-in connection (OUCH, OUCH over TLS or FIX).
    ///   - tokenPrefix, firstToken: the letter and first number of this run's order tokens
    ///     (one per order, numbered on).
    ///   - replyTimeout: TSC ticks an answer may take before the run fails.
    static func run<Connection: BenchOrderConnection & ~Copyable>(
        connect: () throws(BenchFailure) -> Connection, tokenPrefix: UInt8, firstToken: UInt64, warmup: Int, count: Int,
        clock: TSCClock, replyTimeout: UInt64, feed: FeedAddress? = nil
    ) throws(BenchFailure) -> ClosedLoopRun {
        let tap = try feed.map { (address) throws(BenchFailure) in try FeedTap(address) }
        var connection = try connect()
        var run = ClosedLoopRun(enter: makeLatencyHistogram(), cancel: makeLatencyHistogram(), itch: tap.map { _ in makeLatencyHistogram() })
        for i in 0..<(warmup + count) {
            let token = BenchToken.make(tokenPrefix, firstToken &+ UInt64(i))
            tap?.expectAddOrder()
            let sentAt = tap == nil ? 0 : rtes_realtime_ns()
            connection.queueEnter(token)
            let entered = try roundTrip(&connection, answer: .accepted, token: token, timeout: replyTimeout, other: &run.otherMessages)
            if let tap {
                let published = try tap.awaitAddOrder(deadline: rtes_rdtsc() &+ replyTimeout)
                if i >= warmup && published > sentAt { _ = run.itch!.record(published - sentAt) }
            }
            connection.queueCancel(token)
            let canceled = try roundTrip(&connection, answer: .canceled, token: token, timeout: replyTimeout, other: &run.otherMessages)
            if i >= warmup {
                _ = run.enter.record(clock.nanoseconds(entered))
                _ = run.cancel.record(clock.nanoseconds(canceled))
            }
        }
        connection.logout()
        return run
    }

    /// Sends what is queued and spins until its answer arrives; TSC ticks from just before
    /// `send` to just after the `recv` that brought the answer.
    @inline(__always)
    static func roundTrip<Connection: BenchOrderConnection & ~Copyable>(
        _ connection: inout Connection, answer: BenchAnswer.Kind, token: OrderToken, timeout: UInt64, other: inout Int
    ) throws(BenchFailure) -> UInt64 {
        let sent = rtes_rdtscp()
        try connection.flushAll(deadline: sent &+ timeout)
        try awaitAnswer(&connection, kind: answer, token: token, deadline: sent &+ timeout, other: &other)
        return connection.lastReceiveTSC &- sent
    }

    /// Spins until the answer `kind` for `token` arrives. A reject fails the run; anything
    /// else is counted in `other`.
    @inline(__always)
    static func awaitAnswer<Connection: BenchOrderConnection & ~Copyable>(
        _ connection: inout Connection, kind: BenchAnswer.Kind, token: OrderToken, deadline: UInt64, other: inout Int
    ) throws(BenchFailure) {
        var spins: UInt32 = 0
        while true {
            guard let answer = try connection.nextAnswer() else {
                try connection.waitBetweenPolls(&spins, deadline: deadline)
                continue
            }
            if answer.kind == kind && answer.token == token { return }
            if answer.kind == .rejected || answer.kind == .cancelRejected {
                throw BenchFailure("port \(connection.port): order \(answer.token) \(answer.kind == .rejected ? "rejected" : "cancel rejected"), \(answer.reason)")
            }
            other += 1
        }
    }
}
