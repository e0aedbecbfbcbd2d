import ExchangeClient
import ExchangeCore
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Testing

let aapl = Symbol("AAPL")!

func token(_ text: String) -> OrderToken { OrderToken(text)! }

/// The client against a real in-process exchange: login, each OUCH request and its answer,
/// trades, replay after a new login, heartbeats, and every way a session can fail.
@Suite(.serialized) struct OrderEntryClientAgainstTheExchange {
    @Test func logsInAndLearnsTheSessionAndTheNextSequenceNumber() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try OrderEntryClient(port: exchange.port)
        defer { client.close() }
        let outcome = try client.login(username: "DEMO1", password: "demo1pass")
        // Message 1 of every session is the System Event that starts the day.
        #expect(outcome == .accepted(session: exchange.session, nextSequence: 2))
        #expect(client.isLoggedIn && client.session == exchange.session && client.nextSequence == 2)
    }

    @Test func refusesAWrongPasswordAndAnUnknownUserAsNotAuthorized() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        for (user, password) in [("DEMO1", "wrong"), ("NOBODY", "demo1pass")] {
            let client = try OrderEntryClient(port: exchange.port)
            defer { client.close() }
            let outcome = try client.login(username: user, password: password)
            #expect(outcome == .rejected(.notAuthorized, debug: nil), "\(user)")
            #expect(!client.isLoggedIn)
            // The exchange closes the connection after Login Rejected.
            #expect(throws: ClientError.closedByPeer(debug: nil)) { try client.receive(timeout: .seconds(2)) }
        }
        #expect(throws: ClientError.loginRejected(.notAuthorized, debug: nil)) {
            try OrderEntryClient.connect(port: exchange.port, username: "DEMO2", password: "demo1pass")
        }
    }

    @Test func refusesASecondSessionForTheSameAccountWithItsReason() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let first = try exchange.client("DEMO1")
        defer { first.close() }
        let second = try OrderEntryClient(port: exchange.port)
        defer { second.close() }
        let outcome = try second.login(username: "DEMO1", password: "demo1pass")
        #expect(outcome == .rejected(.sessionNotAvailable, debug: "RTES: this account is already logged in on another connection"))
    }

    @Test func restsAnOrderWithStateLiveAndAnOrderReference() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.enter(token: token("REST1"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        let reply = try client.nextMessage(timeout: .seconds(2))
        #expect(reply.sequence == 2)
        let accepted = try #require(reply.message.accepted, "expected Accepted, got \(reply)")
        #expect(accepted.token == token("REST1") && accepted.side == .buy && accepted.shares == 100 && accepted.symbol == aapl)
        #expect(accepted.price == 2_290_000 && accepted.state == .live && accepted.reference > 0)
        #expect(accepted.timeInForce == .marketHours && accepted.firm == Firm("DEM1")!)
        #expect(reply.description.hasPrefix("#2 Accepted token=REST1 side=B shares=100 AAPL @ 229.0000 ref=\(accepted.reference) state=L"))
    }

    @Test func tradesTwoOrdersAndTellsBothSidesTheSameMatchNumber() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let buyer = try exchange.client("DEMO1")
        defer { buyer.close() }
        let seller = try exchange.client("DEMO2")
        defer { seller.close() }
        try buyer.enter(token: token("BUY1"), side: .buy, shares: 100, symbol: aapl, price: 2_300_000)
        let resting = try #require(try buyer.nextMessage(timeout: .seconds(2)).message.accepted, "the buy order was not accepted")
        #expect(resting.state == .live)

        try seller.enter(token: token("SELL1"), side: .sell, shares: 100, symbol: aapl, price: 2_300_000)
        let sellerReplies = try seller.nextMessages(2, timeout: .seconds(2)).map(\.message)
        let taker = try #require(sellerReplies[0].accepted, "expected Accepted then Executed, got \(sellerReplies)")
        let takerFill = try #require(sellerReplies[1].executed, "expected Accepted then Executed, got \(sellerReplies)")
        #expect(taker.token == token("SELL1") && taker.side == .sell)
        #expect(takerFill.token == token("SELL1") && takerFill.shares == 100 && takerFill.price == 2_300_000)
        #expect(takerFill.liquidity == LiquidityFlag.removed.ouchCode)

        let makerFill = try #require(
            try buyer.nextMessage(timeout: .seconds(2)).message.executed, "the resting buyer was not told of its execution")
        #expect(makerFill.token == token("BUY1") && makerFill.shares == 100 && makerFill.price == 2_300_000)
        #expect(makerFill.liquidity == LiquidityFlag.added.ouchCode)
        #expect(makerFill.matchNumber == takerFill.matchNumber && makerFill.matchNumber > 0)
    }

    @Test func cancelsARestingOrderAndRejectsCancellingAnUnknownOne() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.enter(token: token("C1"), side: .sell, shares: 300, symbol: aapl, price: 2_310_000)
        _ = try client.nextMessage(timeout: .seconds(2))
        try client.cancel(token: token("C1"), shares: 100)
        try client.cancel(token: token("C1"))
        try client.cancel(token: token("NOSUCH"))
        let replies = try client.nextMessages(3, timeout: .seconds(2)).map(\.message)
        #expect(replies[0] == .canceled(timestamp: replies[0].timestamp, token: token("C1"), decrement: 200,
                                        reason: CancelReason.userRequested.ouchCode))
        #expect(replies[1] == .canceled(timestamp: replies[1].timestamp, token: token("C1"), decrement: 100,
                                        reason: CancelReason.userRequested.ouchCode))
        #expect(replies[2] == .cancelReject(timestamp: replies[2].timestamp, token: token("NOSUCH")))
    }

    @Test func replacesARestingOrderWithANewTokenSizeAndPrice() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.enter(token: token("OLD"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        let original = try #require(try client.nextMessage(timeout: .seconds(2)).message.accepted, "not accepted")
        try client.replace(existing: token("OLD"), replacement: token("NEW"), shares: 200, price: 2_295_000)
        let replaced = try #require(try client.nextMessage(timeout: .seconds(2)).message.replaced, "not replaced")
        #expect(replaced.token == token("NEW") && replaced.previousToken == token("OLD"))
        #expect(replaced.shares == 200 && replaced.price == 2_295_000 && replaced.side == .buy && replaced.symbol == aapl)
        #expect(replaced.state == .live && replaced.reference != original.reference)
        // The old token is gone; replacing it again is refused under the replacement token.
        try client.replace(existing: token("OLD"), replacement: token("NEWER"), shares: 100, price: 2_290_000)
        let rejected = try #require(
            try client.nextMessage(timeout: .seconds(2)).message.rejected, "a replace of a dead order was not rejected")
        #expect(rejected.token == token("NEWER"))
    }

    @Test func modifiesARestingOrdersSideAndSize() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.enter(token: token("M1"), side: .sell, shares: 100, symbol: aapl, price: 2_320_000)
        _ = try client.nextMessage(timeout: .seconds(2))
        try client.modify(token: token("M1"), side: .sellShort, shares: 60)
        let modified = try client.nextMessage(timeout: .seconds(2)).message
        #expect(modified == .orderModified(timestamp: modified.timestamp, token: token("M1"), side: .sellShort, shares: 60))
        // A buy side for a sell order is not a modification: Cancel Reject.
        try client.modify(token: token("M1"), side: .buy, shares: 50)
        let refused = try client.nextMessage(timeout: .seconds(2)).message
        #expect(refused == .cancelReject(timestamp: refused.timestamp, token: token("M1")))
        try client.cancel(token: token("M1"))
        let canceled = try client.nextMessage(timeout: .seconds(2)).message
        #expect(canceled == .canceled(timestamp: canceled.timestamp, token: token("M1"), decrement: 60,
                                      reason: CancelReason.userRequested.ouchCode))
    }

    @Test func rejectsADuplicateToken() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.enter(token: token("DUP"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        try client.enter(token: token("DUP"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        // The gateway refuses the second at once, so its Rejected may overtake the first's Accepted.
        let replies = try client.nextMessages(2, timeout: .seconds(2)).map(\.message)
        let rejected = try #require(replies.first { if case .rejected = $0 { true } else { false } })
        #expect(rejected == .rejected(timestamp: rejected.timestamp, token: token("DUP"), reason: 0x4F))
        #expect(MessageText.line(rejected) == "Rejected token=DUP reason=O (other)")
        #expect(replies.contains { if case .accepted(let m) = $0 { m.token == token("DUP") } else { false } })
    }

    @Test func replaysWhatItMissedWhenItLogsInAgainFromASequenceNumber() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let first = try exchange.client("DEMO1", sequence: 1)
        defer { first.close() }
        let startOfDay = try first.nextMessage(timeout: .seconds(2))
        #expect(startOfDay.sequence == 1)
        #expect(startOfDay.message == .systemEvent(timestamp: startOfDay.message.timestamp, eventCode: OUCH.SystemEventCode.startOfDay))
        try first.enter(token: token("AWAY"), side: .buy, shares: 100, symbol: aapl, price: 2_300_000)
        let accepted = try first.nextMessage(timeout: .seconds(2))
        #expect(accepted.sequence == 2)
        try first.logout()

        // While DEMO1 is away its order trades: the execution waits in its session.
        let seller = try exchange.client("DEMO2")
        defer { seller.close() }
        try seller.enter(token: token("HIT"), side: .sell, shares: 100, symbol: aapl, price: 2_300_000)
        _ = try seller.nextMessages(2, timeout: .seconds(2))

        let again = try logInRetrying(exchange, "DEMO1", sequence: 2)
        defer { again.close() }
        #expect(again.nextSequence == 2)
        let replayed = try again.nextMessages(2, timeout: .seconds(2))
        #expect(replayed[0] == accepted)
        #expect(replayed[1].sequence == 3)
        let missed = try #require(replayed[1].message.executed, "expected the missed execution, got \(replayed[1])")
        #expect(missed.shares == 100 && missed.price == 2_300_000 && missed.liquidity == LiquidityFlag.added.ouchCode)
        #expect(missed.token == token("AWAY"))
        try again.logout()

        // Sequence 0: only what is new.
        let latest = try logInRetrying(exchange, "DEMO1", sequence: 0)
        defer { latest.close() }
        #expect(latest.nextSequence == 4)
        #expect(try latest.poll(timeout: .milliseconds(100)) == nil)
    }

    @Test func reportsTheExchangesReasonWhenItClosesTheConnection() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.connection.send([0x00, 0x00])  // a SoupBinTCP length of 0
        let reason = "RTES: disconnected: malformed SoupBinTCP packet length"
        #expect(throws: ClientError.closedByPeer(debug: reason)) { try client.nextMessage(timeout: .seconds(2)) }
        #expect(!client.connection.isOpen)
        // Sticky: every later call says the same.
        #expect(throws: ClientError.closedByPeer(debug: reason)) {
            try client.enter(token: token("LATE"), side: .buy, shares: 1, symbol: aapl, price: 2_300_000)
        }
    }

    @Test func reportsAnOUCHMessageTheExchangeCannotDecode() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        try client.sendOUCHMessage([0x51, 0x01, 0x02])  // type Q: not an OUCH 4.2 client message
        let packets = client.connection.receiveUntilClosed(timeout: .seconds(2))
        #expect(packets.closed)
        #expect(packets.packets == [SoupPacket(type: SoupPacketType.debug, payload: Array("RTES: disconnected: malformed OUCH 4.2 message".utf8))])
    }

    @Test func reportsConnectionRefusedWhenNothingListens() {
        let port = freePort()
        #expect(throws: ClientError.connectionRefused(host: "127.0.0.1", port: port)) {
            try OrderEntryClient(port: port)
        }
        #expect(throws: ClientError.self) { try OrderEntryClient(host: "no-such-host.invalid", port: 1) }
    }

    @Test func timesOutWhenNothingArrives() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        #expect(throws: ClientError.timedOut(waitingFor: "an OUCH message", seconds: 0.05)) {
            try client.nextMessage(timeout: .milliseconds(50))
        }
        #expect(try client.poll(timeout: .milliseconds(20)) == nil)
        #expect(client.connection.isOpen)
    }

    @Test func keepsASessionUpWithHeartbeatsAndLosesOneWithout() throws {
        let exchange = try TestExchange(ExchangeKnobs(heartbeatIntervalMilliseconds: 100, idleTimeoutMilliseconds: 600))
        defer { exchange.drain() }
        let beating = try exchange.client("DEMO1", options: .init(heartbeatInterval: .milliseconds(100)))
        defer { beating.close() }
        let silent = try exchange.client("DEMO2", options: .init(heartbeatInterval: nil))
        defer { silent.close() }

        let heard = try beating.packets(for: .milliseconds(1_200))
        #expect(heard.contains(.heartbeat))
        #expect(beating.connection.isOpen)
        try beating.enter(token: token("ALIVE"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        #expect(try beating.nextMessage(timeout: .seconds(2)).message.timestamp > 0)

        let reason = "RTES: disconnected: no heartbeat from client"
        #expect(throws: ClientError.closedByPeer(debug: reason)) { try silent.nextMessage(timeout: .seconds(2)) }
    }

    @Test func receivesEndOfDayAndEndOfSessionWhenTheExchangeShutsDown() throws {
        let exchange = try TestExchange()
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        exchange.drain()
        let endOfDay = try client.nextMessage(timeout: .seconds(2))
        #expect(endOfDay.message == .systemEvent(timestamp: endOfDay.message.timestamp, eventCode: OUCH.SystemEventCode.endOfDay))
        var rest: [ServerPacket] = []
        while let packet = try client.poll(timeout: .seconds(2)), packet != .endOfSession { rest.append(packet) }
        #expect(rest.allSatisfy { $0 == .heartbeat })
        #expect(throws: ClientError.closedByPeer(debug: nil)) { try client.receive(timeout: .seconds(2)) }
    }
}

/// Logs in, trying again while the exchange still holds the account's previous session (it
/// is released once the previous connection is closed).
func logInRetrying(_ exchange: TestExchange, _ username: String, sequence: UInt64) throws -> OrderEntryClient {
    var client: OrderEntryClient?
    try waitUntil(pollInterval: .milliseconds(5)) {
        do {
            client = try exchange.client(username, sequence: sequence)
            return true
        } catch ClientError.loginRejected(.sessionNotAvailable, _) {
            return false
        }
    }
    return try #require(client, "the exchange still held \(username)'s previous session after 10 s")
}

/// A client with several addresses (docs/FAILOVER.md, "What a client sees and must do"): the
/// first that accepts is used, and a connection lost while logged in is resumed (here on the
/// same exchange, the only one listening) from the next message not yet handed out.
@Suite(.serialized) struct OrderEntryClientFailover {
    @Test func parsesAddressListsAndRefusesBadOnes() throws {
        #expect(try ExchangeAddress.parseList(["10.0.0.1:8888,10.0.0.2:9888", "9000", "[::1]:7000"]) == [
            ExchangeAddress(host: "10.0.0.1", port: 8888), ExchangeAddress(host: "10.0.0.2", port: 9888),
            ExchangeAddress(host: "127.0.0.1", port: 9000), ExchangeAddress(host: "::1", port: 7000),
        ])
        #expect(ExchangeAddress(host: "::1", port: 7000).description == "[::1]:7000")
        for bad in ["host:", "host:0", "host:65536", ":8888", "a:b", "", "[::1]7000"] {
            #expect(throws: ClientError.self, "\(bad)") { try ExchangeAddress.parse(bad) }
        }
    }

    @Test func backsOffBetweenAttemptsDoublingUpToItsBound() {
        let policy = FailoverPolicy(maximumAttempts: 6, initialBackoff: .milliseconds(10), maximumBackoff: .milliseconds(50))
        #expect((1...6).map { policy.backoff(beforeAttempt: $0) } == [.zero, .milliseconds(10), .milliseconds(20), .milliseconds(40),
                                                                      .milliseconds(50), .milliseconds(50)])
        #expect(policy.worstCaseBackoff == .milliseconds(170))
        #expect(FailoverPolicy(maximumAttempts: 0).maximumAttempts == 1)
    }

    @Test func connectsToTheFirstAddressThatAcceptsAndResumesItsSessionAfterALostConnection() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let nothing = ExchangeAddress(port: freePort())
        let addresses = [nothing, ExchangeAddress(port: exchange.port)]
        // Without a policy: one pass over the list.
        let plain = try OrderEntryClient.connect(addresses: addresses, username: "DEMO2", password: "demo2pass")
        #expect(plain.currentAddress == addresses[1] && plain.failover == nil)
        plain.close()
        #expect(throws: ClientError.self) {
            try OrderEntryClient.connect(addresses: [nothing, nothing], username: "DEMO2", password: "demo2pass")
        }

        let policy = FailoverPolicy(maximumAttempts: 400, initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(50))
        let client = try OrderEntryClient.connect(addresses: addresses, username: "DEMO1", password: "demo1pass", sequence: 1, failover: policy)
        defer { client.close() }
        #expect(client.currentAddress == addresses[1])
        var events: [FailoverEvent] = []
        client.onFailover = { events.append($0) }
        try client.enter(token: token("FO1"), side: .buy, shares: 100, symbol: aapl, price: 2_300_000)
        let before = try client.nextMessages(2, timeout: .seconds(10))  // start of day, Accepted
        #expect(before.map(\.sequence) == [1, 2])

        // The exchange drops the connection (a length of 0); meanwhile the order trades.
        try client.connection.send([0x00, 0x00])
        let seller = try logInRetrying(exchange, "DEMO2", sequence: 0)
        defer { seller.close() }
        try seller.enter(token: token("FO2"), side: .sell, shares: 100, symbol: aapl, price: 2_300_000)
        _ = try seller.nextMessages(2, timeout: .seconds(10))

        // The next call fails over by itself and the execution comes next, once.
        let after = try client.nextMessage(timeout: .seconds(30))
        #expect(after.sequence == 3)
        #expect(after.message.executed?.token == token("FO1"), "\(after)")
        #expect(client.failoverCount == 1 && events.count == 1)
        #expect(events.first?.resumedAt == 3)
        #expect(events.first?.to == addresses[1])
        if case .closedByPeer = events.first?.reason {} else { Issue.record("reason \(String(describing: events.first?.reason))") }
        #expect(try client.poll(timeout: .milliseconds(100)) == nil, "a message twice")
        // It goes on trading on the resumed session.
        try client.enter(token: token("FO3"), side: .buy, shares: 100, symbol: aapl, price: 2_290_000)
        #expect(try client.nextMessage(timeout: .seconds(10)).sequence == 4)
        // A logout is not a loss: no failover.
        try client.logout()
        #expect(client.failoverCount == 1)
    }
}

extension OrderEntryClientFailover {
    /// An exchange that accepts one login and then goes silent, the connection left open (a
    /// host that vanished without its kernel closing anything): `silenceTimeout` notices it.
    @Test func aConnectionThatGoesSilentIsTakenAsLostAndFailsOver() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } } == 0)
        try #require(listen(listener, 1) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let silentPort = Int(UInt16(bigEndian: address.sin_port))

        // The silent exchange, on a thread of its own: Login Accepted (the test exchange's
        // session, next sequence 1), then nothing; it closes when the client has gone.
        let served = DispatchSemaphoreBox()
        let thread = Thread {
            defer { served.signal() }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var request = [UInt8](repeating: 0, count: 49)
            var got = 0
            while got < request.count {
                let n = request.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, $0.count - got, 0) }
                guard n > 0 else { return }
                got += n
            }
            var accepted = [UInt8](repeating: 0, count: 33)
            _ = accepted.withUnsafeMutableBytes { SoupBinTCP.loginAccepted(session: SoupSessionName(testSessionName)!, sequence: 1, to: $0.baseAddress!) }
            _ = accepted.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            // Read (the client's heartbeats) until it closes, saying nothing.
            var sink = [UInt8](repeating: 0, count: 256)
            while sink.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
        }
        thread.start()

        let addresses = [ExchangeAddress(port: silentPort), ExchangeAddress(port: exchange.port)]
        let policy = FailoverPolicy(maximumAttempts: 400, initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(50),
                                    silenceTimeout: .milliseconds(500))
        let client = try OrderEntryClient.connect(addresses: addresses, username: "LOAD3", password: "load3pass", failover: policy)
        defer { client.close() }
        #expect(client.currentAddress == addresses[0] && client.nextSequence == 1)
        // Silence, then the failover: the real exchange resumes the session at 1 (its start of day).
        let first = try client.nextMessage(timeout: .seconds(30))
        #expect(first.sequence == 1)
        #expect(first.message == .systemEvent(timestamp: first.message.timestamp, eventCode: OUCH.SystemEventCode.startOfDay))
        #expect(client.failoverCount == 1 && client.currentAddress == addresses[1])
        if case .connectionLost(ETIMEDOUT, _) = client.lastFailover?.reason {} else {
            Issue.record("reason \(String(describing: client.lastFailover?.reason))")
        }
        client.close()
        #expect(served.wait(seconds: 10), "the silent exchange's thread did not end")
    }
}

/// A semaphore a test thread signals when it ends.
final class DispatchSemaphoreBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func signal() { semaphore.signal() }
    func wait(seconds: Int) -> Bool { semaphore.wait(timeout: .now() + .seconds(seconds)) == .success }
}
