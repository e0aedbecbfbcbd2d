import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Glibc
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
    /// The feed tap's recovery (with a feed): gaps in the live feed, re-requests sent, and
    /// Add Orders that came only from a re-request answer (not timed).
    var feedGaps = 0
    var feedRequests = 0
    var feedRecovered = 0
}

/// Where an exchange publishes its feed.
struct FeedAddress: Sendable {
    var group: UInt32
    var port: UInt16
    var retransmitPort: UInt16
}

/// A receiver on the exchange's multicast group that notes the kernel receive time
/// (SO_TIMESTAMPNS, CLOCK_REALTIME) of the next datagram carrying an Add Order — and, like
/// any feed handler, recovers what it misses through the exchange's re-request server.
///
/// It follows the sequence numbers from the first packet it sees (it joins late; the day's
/// earlier messages do not matter to it). A live packet past the next expected sequence is a
/// gap: the missing range is asked for at once. An Add Order that has not arrived
/// `recoveryAfter` ticks after `expectAddOrder()` is asked for too (the lost packet may be the
/// last one, with no later packet to show the gap), every `recoveryAfter` until the deadline.
/// An Add Order found only in a re-request answer is counted (`recovered`) and timed by
/// nothing: its wire time is unknown.
final class FeedTap {
    let client: FeedClient
    /// Kernel receive stamp of the Add Order seen since `expectAddOrder()`; 0 before.
    private(set) var addOrderAt: UInt64 = 0
    /// The awaited Add Order came from a re-request answer (no wire time).
    private(set) var addOrderRecovered = false
    /// Live sequence numbers seen up to (not including) `next`; 0 before the first packet.
    private(set) var next: UInt64 = 0
    private var session: SoupSessionName?
    /// Add Orders numbered below this are an earlier order's.
    private var awaitedFrom: UInt64 = 0
    /// Gaps seen in the live feed, re-requests sent, Add Orders recovered from answers.
    private(set) var gaps = 0
    private(set) var requests = 0
    private(set) var recovered = 0
    let recoveryAfter: UInt64
    private let buffer: UnsafeMutableRawPointer
    private static let bufferBytes = 65_536

    init(_ address: FeedAddress, recoveryAfter: UInt64) throws(BenchFailure) {
        do {
            client = try FeedClient(group: address.group, port: address.port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                    retransmitPort: address.retransmitPort, instrumentCount: BenchMarket.instruments.count,
                                    orderCapacity: 1_024)
        } catch {
            throw BenchFailure("cannot join the feed: \(error)")
        }
        self.recoveryAfter = recoveryAfter
        buffer = .allocate(byteCount: Self.bufferBytes, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Reads what has arrived, then starts waiting for the next Add Order.
    func expectAddOrder() {
        drain()
        addOrderAt = 0
        addOrderRecovered = false
        awaitedFrom = next
    }

    /// Polls until an Add Order has arrived since `expectAddOrder()`; its kernel stamp, or
    /// nil when it was recovered from a re-request answer.
    func awaitAddOrder(deadline: UInt64) throws(BenchFailure) -> UInt64? {
        var askAt = rtes_rdtsc() &+ recoveryAfter
        while addOrderAt == 0 {
            drain()
            let now = rtes_rdtsc()
            if addOrderAt == 0 && now > askAt {
                // Nothing later has shown a gap: ask for what may have been published since.
                request(from: next, count: 64)
                askAt = now &+ recoveryAfter
            }
            if now > deadline {
                throw BenchFailure("no Add Order on the feed in time (live packets up to sequence \(next), \(gaps) gaps, "
                    + "\(requests) re-requests, \(recovered) Add Orders recovered so far)")
            }
        }
        return addOrderRecovered ? nil : addOrderAt
    }

    /// Every datagram waiting on the feed socket and on the re-request socket.
    private func drain() {
        while let (n, stamp) = receive(client.multicastFD) { live(UnsafeRawBufferPointer(start: buffer, count: n), stamp: stamp) }
        while let (n, _) = receive(client.requestFD) { answer(UnsafeRawBufferPointer(start: buffer, count: n)) }
    }

    private func live(_ bytes: UnsafeRawBufferPointer, stamp: UInt64) {
        guard case .success(let p) = MoldUDP64.readPacket(bytes) else { return }
        session = p.session
        if next == 0 { next = p.sequence }
        if p.sequence > next {
            gaps += 1
            request(from: next, count: p.sequence - next)
        }
        note(p, stamp: stamp, recovered: false)
        next = max(next, p.sequence &+ UInt64(p.messageCount))
    }

    private func answer(_ bytes: UnsafeRawBufferPointer) {
        guard case .success(let p) = MoldUDP64.readPacket(bytes), p.session == session else { return }
        note(p, stamp: rtes_realtime_ns(), recovered: true)
    }

    private func note(_ p: MoldUDP64.Packet, stamp: UInt64, recovered: Bool) {
        guard addOrderAt == 0 else { return }
        p.forEachMessage { sequence, message in
            guard addOrderAt == 0, sequence >= awaitedFrom, let type = message.first,
                  type == ITCH.MessageType.addOrder || type == ITCH.MessageType.addOrderAttributed else { return }
            addOrderAt = stamp
            addOrderRecovered = recovered
            if recovered { self.recovered += 1 }
        }
    }

    private func request(from sequence: UInt64, count: UInt64) {
        guard let session, sequence > 0 else { return }
        var bytes = (UInt64(0), UInt64(0), UInt32(0))
        withUnsafeMutableBytes(of: &bytes) { raw in
            let n = MoldUDP64.writeRequest(session: session, sequence: sequence, count: UInt16(min(count, 0xFFFE)), to: raw.baseAddress!)
            if client.sendToRetransmitServer(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { requests += 1 }
        }
    }

    /// One datagram without waiting, with its kernel receive timestamp; nil when none is there.
    private func receive(_ fd: Int32) -> (Int, UInt64)? { receiveDatagram(fd, into: buffer, capacity: Self.bufferBytes) }
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
        // A missing Add Order is asked for again after 20 ms (a lost datagram; the exchange answers
        // re-requests from its history).
        let tap = try feed.map { (address) throws(BenchFailure) in try FeedTap(address, recoveryAfter: clock.ticksPerSecond / 50) }
        var connection = try connect()
        var run = ClosedLoopRun(enter: makeLatencyHistogram(), cancel: makeLatencyHistogram(), itch: tap.map { _ in makeLatencyHistogram() })
        for i in 0..<(warmup + count) {
            let token = BenchToken.make(tokenPrefix, firstToken &+ UInt64(i))
            tap?.expectAddOrder()
            let sentAt = tap == nil ? 0 : rtes_realtime_ns()
            connection.queueEnter(token)
            let entered = try roundTrip(&connection, answer: .accepted, token: token, timeout: replyTimeout, other: &run.otherMessages)
            if let tap {
                if let published = try tap.awaitAddOrder(deadline: rtes_rdtsc() &+ replyTimeout), i >= warmup && published > sentAt {
                    _ = run.itch!.record(published - sentAt)
                }
            }
            connection.queueCancel(token)
            let canceled = try roundTrip(&connection, answer: .canceled, token: token, timeout: replyTimeout, other: &run.otherMessages)
            if i >= warmup {
                _ = run.enter.record(clock.nanoseconds(entered))
                _ = run.cancel.record(clock.nanoseconds(canceled))
            }
        }
        connection.logout()
        if let tap {
            run.feedGaps = tap.gaps
            run.feedRequests = tap.requests
            run.feedRecovered = tap.recovered
        }
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
