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
    ///   - tokenPrefix, firstToken: the letter and first number of this run's order tokens
    ///     (one per order, numbered on).
    ///   - replyTimeout: TSC ticks an answer may take before the run fails.
    static func run(port: UInt16, account: BenchAccount, tokenPrefix: UInt8, firstToken: UInt64, warmup: Int, count: Int,
                    clock: TSCClock, replyTimeout: UInt64, feed: FeedAddress? = nil) throws(BenchFailure) -> ClosedLoopRun {
        let tap = try feed.map { (address) throws(BenchFailure) in try FeedTap(address) }
        var connection = try OrderEntryConnection.loggedIn(port: port, account: account, clock: clock)
        var run = ClosedLoopRun(enter: makeLatencyHistogram(), cancel: makeLatencyHistogram(), itch: tap.map { _ in makeLatencyHistogram() })
        for i in 0..<(warmup + count) {
            let token = BenchToken.make(tokenPrefix, firstToken &+ UInt64(i))
            tap?.expectAddOrder()
            let sentAt = tap == nil ? 0 : rtes_realtime_ns()
            let entered = try roundTrip(&connection, answer: OUCH.OutboundType.accepted, token: token, timeout: replyTimeout,
                                        other: &run.otherMessages) { BenchMarket.writeEnter(token: token, to: $0) }
            if let tap {
                let published = try tap.awaitAddOrder(deadline: rtes_rdtsc() &+ replyTimeout)
                if i >= warmup && published > sentAt { _ = run.itch!.record(published - sentAt) }
            }
            let canceled = try roundTrip(&connection, answer: OUCH.OutboundType.canceled, token: token, timeout: replyTimeout,
                                         other: &run.otherMessages) { BenchMarket.writeCancel(token: token, to: $0) }
            if i >= warmup {
                _ = run.enter.record(clock.nanoseconds(entered))
                _ = run.cancel.record(clock.nanoseconds(canceled))
            }
        }
        connection.logout()
        return run
    }

    /// Sends the packet `write` writes and spins until its answer arrives; TSC ticks from
    /// just before `send` to just after the `recv` that brought the answer.
    @inline(__always)
    static func roundTrip(_ connection: inout OrderEntryConnection, answer: UInt8, token: OrderToken, timeout: UInt64,
                          other: inout Int, _ write: (UnsafeMutableRawPointer) -> Int) throws(BenchFailure) -> UInt64 {
        connection.queue(write)
        let sent = rtes_rdtscp()
        try connection.flushAll(deadline: sent &+ timeout)
        try awaitAnswer(&connection, type: answer, token: token, deadline: sent &+ timeout, other: &other)
        return connection.lastReceiveTSC &- sent
    }

    /// Spins until the sequenced message `type` for `token` arrives (Accepted and Canceled
    /// both carry the token at offset 9). A Rejected or anything unexpected fails the run.
    @inline(__always)
    static func awaitAnswer(_ connection: inout OrderEntryConnection, type: UInt8, token: OrderToken, deadline: UInt64,
                            other: inout Int) throws(BenchFailure) {
        while true {
            let frame = try connection.nextFrame(deadline: deadline)
            guard frame.type == SoupPacketType.sequencedData else {
                if frame.type == SoupPacketType.serverHeartbeat || frame.type == SoupPacketType.debug { continue }
                throw BenchFailure("port \(connection.port): packet type \(frame.type) while waiting for an answer")
            }
            guard let message = frame.payload.baseAddress, frame.payload.count >= OUCHLayout.Rejected.length else {
                if frame.payload.count > 0 { other += 1; continue }
                throw BenchFailure("port \(connection.port): an empty Sequenced Data packet")
            }
            let kind = message.load(as: UInt8.self)
            if kind == type && AlphaField.readToken(message, at: OUCHLayout.Accepted.token) == token { return }
            if kind == OUCH.OutboundType.rejected {
                let reason = message.load(fromByteOffset: OUCHLayout.Rejected.reason, as: UInt8.self)
                throw BenchFailure("port \(connection.port): order \(AlphaField.readToken(message, at: OUCHLayout.Rejected.token)) rejected, reason \(String(UnicodeScalar(reason)))")
            }
            other += 1
        }
    }
}
