import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// SoupBinTCP sessions: logins refused (`A`, `S`), replay from a sequence number, the limits of
/// the kept history, heartbeats both ways, Logout, End of Session at shutdown.
@Suite struct Sessions {
    @Test(arguments: [Credentials(username: "DEMO1", password: "wrongpass"), Credentials(username: "NOBODY", password: "demo1pass"),
                      Credentials(username: "DEMO1", password: "demo1pas"), Credentials(username: "", password: "")])
    func rejectsBadCredentialsWithNotAuthorized(credentials: Credentials) throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(Client.login(credentials))
            // No Debug: nothing is said about which of the two was wrong.
            #expect(client.readUntilClosed() == ([.loginRejected("A")], .closed))
        }
        #expect(outcome.disconnects == ["login_rejected": 1, "logout": 1])
        #expect(outcome.final.gatewayCount("logins_rejected_not_authorized") == 1)
        #expect(outcome.final.gatewayCount("logins_rejected_session") == 0)
    }

    /// docs/GATEWAY.md: after a Logout Request "what is owed is sent, then the connection is
    /// closed" — including the answers to orders sent just before it in the same write, which
    /// the engine has not handled yet when the Logout is read.
    @Test func answersEveryOrderSentBeforeALogoutInTheSameWriteThenCloses() throws {
        let count = 300
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            #expect(client.login(.demo1).packet?.loginAccepted != nil)
            client.send((1...count).flatMap { Client.order("LO\($0)", "S", 100, "AAPL", price(250)) } + Client.logout)
            let (packets, end) = client.readUntilClosed(timeout: 10)
            let answered = packets.compactMap(\.ouch).map(\.token).filter { $0.hasPrefix("LO") }
            #expect(answered.count == count)
            #expect(answered == (1...count).map { "LO\($0)" })
            #expect(end == .closed)
        }
        #expect(outcome.disconnects == ["logout": 2])
        #expect(outcome.otherOrdersIn == UInt64(count))
    }

    @Test func rejectsAnUnknownSessionWithSessionNotAvailableAndSaysWhy() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            client.send(Client.login(.demo1, session: "OLDSESSION", sequence: 1))
            let (packets, end) = client.readUntilClosed()
            #expect(packets.last == .loginRejected("S"))
            #expect(packets.dropLast().map(\.type) == [ascii("+")])
            #expect(packets.first?.text.contains("unknown session") == true)
            #expect(end == .closed)
            // The current session by name is fine.
            let named = try SoupTestClient(port: exchange.port)
            #expect(named.login(.demo1, session: testSessionName).packet?.loginAccepted?.session == testSessionName)
            #expect(named.logOut())
        }
        #expect(outcome.disconnects == ["login_rejected": 1, "logout": 2])
        #expect(outcome.final.gatewayCount("logins_rejected_session") == 1)
    }

    @Test func rejectsASecondLoginToAnAccountAlreadyLoggedInAndKeepsTheFirst() throws {
        let outcome = try withExchange { exchange, _ in
            let first = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            let second = try SoupTestClient(port: exchange.port)
            second.send(Client.login(.demo1))
            let (packets, end) = second.readUntilClosed()
            #expect(packets.map(\.type) == [ascii("+"), ascii("J")])
            #expect(packets.first?.text.contains("already logged in") == true)
            #expect(packets.last == .loginRejected("S"))
            #expect(end == .closed)
            first.send(Client.order("FIRST1", "S", 100, "AAPL", price(231)))
            #expect(first.replies(1)?.first?.token == "FIRST1")
            #expect(first.logOut())
        }
        #expect(outcome.disconnects == ["login_rejected": 1, "logout": 2])
        #expect(outcome.final.gatewayCount("logins_rejected_session") == 1)
    }

    @Test func rejectsALoginAskingForMessagesOlderThanTheKeptHistory() throws {
        let knobs = ExchangeKnobs(sessionHistoryMessages: 64)
        let outcome = try withExchange(knobs) { exchange, _ in
            // 70 orders: 71 messages with the start of day; the oldest 7 are gone.
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send((1...70).flatMap { Client.order("H\($0)", "S", 100, "AAPL", price(240) + UInt32($0) * 100) })
            #expect(client.replies(70)?.count == 70)
            #expect(client.logOut())

            let late = try SoupTestClient(port: exchange.port)
            late.send(Client.login(.demo1, sequence: 7))
            let (packets, end) = late.readUntilClosed()
            #expect(packets.map(\.type) == [ascii("+"), ascii("J")])
            #expect(packets.first?.text.contains("older than the session history") == true)
            #expect(packets.last == .loginRejected("S"))
            #expect(end == .closed)

            // The oldest message kept is still there.
            let oldest = try SoupTestClient(port: exchange.port)
            #expect(oldest.login(.demo1, sequence: 8).packet?.loginAccepted?.sequence == 8)
            let replayed = oldest.replies(64)
            #expect(replayed?.first?.token == "H7")
            #expect(replayed?.last?.token == "H70")
            #expect(oldest.logOut())
        }
        #expect(outcome.disconnects == ["login_rejected": 1, "logout": 3])
        #expect(outcome.final.gatewayCount("logins_rejected_session") == 1)
        #expect(outcome.final.gatewayCount("replayed_messages") == 64 + 1)  // and the bystander's start of day
    }

    @Test func replaysEveryMessageFromTheRequestedSequenceNumberByteForByte() throws {
        let outcome = try withExchange { exchange, _ in
            let first = try SoupTestClient.loggedIn(port: exchange.port, .demo1, sequence: 1)
            let other = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            // Accepted, Replaced, Modified, Canceled, Executed, Rejected, Cancel Reject: every kind.
            first.send(Client.order("R1", "S", 300, "AAPL", price(231)))
            first.send(Client.unsequenced(Client.replace("R1", "R2", 300, price(230.5))))
            first.send(Client.unsequenced(Client.modify("R2", "S", 200)))
            first.send(Client.order("R3", "S", 100, "AAPL", price(232)))
            first.send(Client.unsequenced(Client.cancel("R3")))
            first.send(Client.order("R4", "S", 100, "NOPE", price(10)))
            first.send(Client.unsequenced(Client.cancel("NOSUCHTOKEN")))
            #expect(first.replies(1 + 7)?.map(\.type) == ["S", "A", "U", "M", "A", "C", "J", "I"])
            other.send(Client.order("T1", "B", 150, "AAPL", price(231)))
            #expect(other.replies(2)?.map(\.type) == ["A", "E"])
            #expect(first.replies(1)?.first?.type == "E")
            let original = first.sequenced
            #expect(original.map(\.sequence) == Array(1...9))
            #expect(first.logOut())

            for from in [1, 4, 9, 10] as [UInt64] {
                let again = try SoupTestClient(port: exchange.port)
                #expect(again.login(.demo1, sequence: from).packet?.loginAccepted?.sequence == from)
                let count = Int(10 - from)
                if count > 0 { #expect(again.replies(count)?.count == count) }
                let replayed = again.sequenced
                #expect(replayed.map(\.packet.bytes) == original.filter { $0.sequence >= from }.map(\.packet.bytes), "from \(from)")
                #expect(replayed.map(\.sequence) == original.filter { $0.sequence >= from }.map(\.sequence))
                #expect(again.logOut(), "from \(from)")
            }
            #expect(other.logOut())
        }
        #expect(outcome.disconnects == ["logout": 7])
        // The first login's start of day, then from 1, 4, 9 and 10, and the well-behaved session's start of day.
        let replayed: UInt64 = 1 + 9 + 6 + 1 + 0 + 1
        #expect(outcome.final.gatewayCount("replayed_messages") == replayed)
    }

    @Test func replaysAWrappedHistoryToASlowReaderIntactThroughPartialSends() throws {
        let knobs = ExchangeKnobs(sessionHistoryMessages: 1_024)
        let outcome = try withExchange(knobs) { exchange, _ in
            // 3,000 messages: the log's byte ring (128 KiB) wraps more than once.
            let writer = try SoupTestClient.loggedIn(port: exchange.port, .demo1, sequence: 1)
            writer.send((1...2_999).flatMap { Client.order("W\($0)", "S", 100, "AAPL", price(300) + UInt32($0) * 100) })
            #expect(writer.replies(3_000, timeout: 10)?.count == 3_000)  // with the start of day
            let original = writer.sequenced
            #expect(writer.logOut())
            // The oldest 1,024 kept, to a client with a tiny receive window that reads slowly.
            let reader = try SoupTestClient(port: exchange.port, receiveBuffer: 2_048)
            let from: UInt64 = 3_001 - 1_024
            #expect(reader.login(.demo1, sequence: from).packet?.loginAccepted?.sequence == from)
            var received = 0
            while received < 1_024 {
                let event = reader.next(timeout: 3)
                let p = try #require(event.packet, "the replay ended after \(received) messages: \(event)")
                try #require(p.isSequenced || p.isHeartbeat, "unexpected \(p) in the replay")
                if p.isSequenced { received += 1 }
                // Pacing only: the reader falls behind so that the gateway's sends go out in
                // pieces. It decides nothing; the bytes must arrive intact either way.
                if received % 64 == 0 { usleep(2_000) }
            }
            let replayed = reader.sequenced.map(\.packet.bytes)
            let expected = original.suffix(1_024).map(\.packet.bytes)
            #expect(replayed.count == expected.count)
            if let i = replayed.indices.first(where: { $0 < expected.count && replayed[$0] != expected[$0] }) {
                Issue.record("replayed message \(i) (sequence \(from + UInt64(i))) differs: \(ServerPacket(type: replayed[i][2], payload: Array(replayed[i].dropFirst(3)))) vs \(ServerPacket(type: expected[i][2], payload: Array(expected[i].dropFirst(3))))")
            }
            #expect(reader.logOut())
        }
        #expect(outcome.disconnects == ["logout": 3])
        #expect(outcome.final.gatewayCount("replayed_messages") == 1 + 1_024 + 1)
    }

    @Test func startsALoginAskingForAFutureSequenceNumberAtTheNextMessage() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient(port: exchange.port)
            #expect(client.login(.demo1, sequence: 1_000).packet?.loginAccepted?.sequence == 2)
            client.send(Client.order("FUT1", "S", 100, "AAPL", price(231)))
            #expect(client.replies(1)?.first?.token == "FUT1")
            #expect(client.sequenced.map(\.sequence) == [2])
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
    }

    @Test func closesOnLogoutWithoutAnyPacketAndKeepsTheSessionForTheNextLogin() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.order("LO1", "S", 100, "AAPL", price(231)))
            #expect(client.replies(1)?.first?.token == "LO1")
            #expect(client.logOut())
            let again = try SoupTestClient(port: exchange.port)
            #expect(again.login(.demo1).packet?.loginAccepted?.sequence == 3)
            #expect(again.logOut())
        }
        #expect(outcome.disconnects == ["logout": 3])
    }

    @Test func sendsEndOfDayAndEndOfSessionToEveryLoggedInClientAtShutdown() throws {
        let exchange = try TestExchange()
        defer { exchange.drain() }
        let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
        let waiting = try SoupTestClient(port: exchange.port)  // connected, not logged in
        client.send(Client.order("EOS1", "S", 100, "AAPL", price(231)))
        #expect(client.replies(1)?.first?.token == "EOS1")
        #expect(exchange.waitFor { $0.gatewayCount("accepted_connections") == 2 })
        let drained = DispatchSemaphore(value: 0)
        let box = SnapshotBox()
        Thread {
            box.value = exchange.drain()
            drained.signal()
        }.start()
        let (packets, end) = client.readUntilClosed(timeout: 5)
        let endOfDay = packets.first?.ouch
        #expect(endOfDay?.type == "S" && endOfDay?.byte(at: 9) == "E", "\(packets)")
        #expect(packets.dropFirst().filter { !$0.isHeartbeat } == [.endOfSession])
        #expect(end == .closed)
        #expect(waiting.readUntilClosed(timeout: 5) == ([], .closed))
        #expect(drained.wait(timeout: .now() + 10) == .success)
        let final = try #require(box.value)
        #expect(final.disconnects == ["shutdown": 2])
        #expect(final.gatewayCount("active_connections") == 0)
    }
}

final class SnapshotBox: @unchecked Sendable {
    var value: CountersSnapshot?
}
