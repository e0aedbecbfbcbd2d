import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// What the gateway itself decides about orders: duplicate tokens, cancel-on-disconnect, a
/// full command ring.
@Suite struct OrderEntry {
    @Test func rejectsADuplicateTokenEvenAfterItsOrderIsGoneAndKeepsTheSession() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.order("DUP1", "S", 100, "AAPL", price(231)))
            #expect(client.replies(1)?.first?.type == "A")
            client.send(Client.order("DUP1", "S", 100, "AAPL", price(232)))
            let duplicate = client.replies(1)?.first
            #expect(duplicate?.type == "J" && duplicate?.token == "DUP1" && duplicate?.byte(at: 23) == "O", "\(String(describing: duplicate))")
            // Canceled: the token stays used for the day.
            client.send(Client.unsequenced(Client.cancel("DUP1")))
            #expect(client.replies(1)?.first?.type == "C")
            client.send(Client.order("DUP1", "B", 100, "AAPL", price(229)))
            #expect(client.replies(1)?.first?.type == "J")
            // A replacement token already used is a duplicate too.
            client.send(Client.order("DUP2", "S", 100, "AAPL", price(233)))
            #expect(client.replies(1)?.first?.type == "A")
            client.send(Client.unsequenced(Client.replace("DUP2", "DUP1", 100, price(234))))
            let replaced = client.replies(1)?.first
            #expect(replaced?.type == "J" && replaced?.token == "DUP1")
            // Another account may use the same token.
            let other = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            other.send(Client.order("DUP1", "S", 100, "AAPL", price(235)))
            #expect(other.replies(1)?.first?.type == "A")
            for c in [client, other] { #expect(c.logOut()) }
        }
        #expect(outcome.final.gatewayCount("duplicate_token_rejects") == 3)
        #expect(outcome.disconnects == ["logout": 3])
    }

    @Test func cancelsTheRestingOrdersOfACancelOnDisconnectAccountWhenItsConnectionDrops() throws {
        let outcome = try withExchange { exchange, _ in
            // TRADER asked for cancel-on-disconnect; DEMO2 did not. Both rest a bid, both drop.
            let trader = try SoupTestClient.loggedIn(port: exchange.port, .trader)
            trader.send(Client.order("COD1", "B", 100, "AAPL", price(230)))
            #expect(trader.replies(1)?.first?.type == "A")
            let keeper = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            keeper.send(Client.order("KEEP1", "B", 100, "AAPL", price(229)))
            #expect(keeper.replies(1)?.first?.type == "A")
            trader.close()
            keeper.reset()
            #expect(exchange.waitFor { $0.gatewayCount("closed_connections") == 2 })
            // A seller finds only DEMO2's bid: TRADER's better one is gone.
            let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            seller.send(Client.order("SELL1", "S", 200, "AAPL", price(229)))
            let fills = seller.replies(2)
            #expect(fills?.map(\.type) == ["A", "E"])
            #expect(fills?.last?.u32(at: 23) == 100 && fills?.last?.u32(at: 27) == price(229))
            #expect(seller.next(timeout: 0.1) == .timeout)
            // TRADER's session log says so: Canceled after the Accepted, waiting for the next login.
            let back = try SoupTestClient(port: exchange.port)
            #expect(back.login(.trader, sequence: 2).packet?.loginAccepted?.sequence == 2)
            let missed = back.replies(2)
            #expect(missed?.map(\.type) == ["A", "C"])
            #expect(missed?.last?.token == "COD1" && missed?.last?.u32(at: 23) == 100)
            for c in [seller, back] { #expect(c.logOut()) }
        }
        #expect(outcome.disconnects == ["peer_closed": 1, "connection_error": 1, "logout": 3])
        #expect(outcome.final.engine["trades"] == 1)
    }

    @Test func cancelsTheRestingOrdersOfACancelOnDisconnectAccountOnLogoutToo() throws {
        // docs/GATEWAY.md: "when its connection ends for any reason, Logout included".
        let outcome = try withExchange { exchange, _ in
            let trader = try SoupTestClient.loggedIn(port: exchange.port, .trader)
            trader.send(Client.order("LOGOUT1", "B", 100, "AAPL", price(230)))
            #expect(trader.replies(1)?.first?.type == "A")
            #expect(trader.logOut())
            // TRADER's session log: the Accepted, then Canceled (U) after the Logout.
            let back = try SoupTestClient(port: exchange.port)
            #expect(back.login(.trader, sequence: 2).packet?.loginAccepted?.sequence == 2)
            let log = back.replies(2)
            #expect(log?.map(\.type) == ["A", "C"])
            #expect(log?.last?.token == "LOGOUT1" && log?.last?.byte(at: 27) == "U")
            #expect(back.logOut())
            // Nothing left to trade with.
            let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            seller.send(Client.order("SELL2", "S", 100, "AAPL", price(230)))
            #expect(seller.replies(1)?.first?.type == "A")
            #expect(seller.next(timeout: 0.1) == .timeout)
            #expect(seller.logOut())
        }
        #expect(outcome.disconnects == ["logout": 4])
        #expect(outcome.final.engine["trades"] == 0)
    }

    @Test func rejectsFieldsTheEngineCannotTakeWithoutClosingTheSession() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            // One at a time (see answersAClientsMessagesInTheOrderItSentThem for why).
            var replies: [OUCHReply] = []
            for message in [Client.order("FLD1", "X", 100, "AAPL", price(231)), Client.order("FLD2", "S", 100, "AAPL", price(231)),
                            Client.unsequenced(Client.modify("FLD2", "Q", 50)),
                            Client.unsequenced(Client.replace("FLD2", "FLD3", 100, 0x7FFF_FFFF))] {
                client.send(message)
                replies += client.replies(1) ?? []
            }
            #expect(replies.map { "\($0.type)\($0.token)" } == ["JFLD1", "AFLD2", "IFLD2", "JFLD3"], "\(replies)")
            #expect(replies.first?.byte(at: 23) == "O")
            #expect(replies.last?.byte(at: 23) == "X")
            #expect(client.logOut())
        }
        #expect(outcome.final.gatewayCount("field_rejects") == 3)
        #expect(outcome.disconnects == ["logout": 2])
    }

    @Test func refusesToCancelReplaceOrModifyAnotherAccountsOrder() throws {
        let outcome = try withExchange { exchange, _ in
            let owner = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            owner.send(Client.order("MINE1", "S", 300, "AAPL", price(231)))
            #expect(owner.replies(1)?.first?.type == "A")
            let intruder = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            intruder.send(Client.unsequenced(Client.cancel("MINE1")))
            intruder.send(Client.unsequenced(Client.modify("MINE1", "S", 100)))
            intruder.send(Client.unsequenced(Client.replace("MINE1", "THEIRS1", 100, price(240))))
            let answers = intruder.replies(3)
            #expect(answers?.map(\.type) == ["I", "I", "J"], "\(String(describing: answers))")
            // The owner heard nothing, and its order is whole: a buyer takes all 300.
            #expect(owner.next(timeout: 0.1) == .timeout)
            let buyer = try SoupTestClient.loggedIn(port: exchange.port, .load(1))
            buyer.send(Client.order("TAKE1", "B", 300, "AAPL", price(231)))
            let fills = buyer.replies(2)
            #expect(fills?.last?.type == "E" && fills?.last?.u32(at: 23) == 300)
            #expect(owner.replies(1)?.first?.u32(at: 23) == 300)
            for c in [owner, intruder, buyer] { #expect(c.logOut()) }
        }
        #expect(outcome.disconnects == ["logout": 4])
    }

    @Test func rejectsAnAccountsNewOrdersOnceItHasUsedItsShareOfTheTokenHistory() throws {
        // token_history 1,024 (the smallest allowed) over the 11 development accounts: 93 each.
        let knobs = ExchangeKnobs(tokenHistory: 1_024)
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let share = 1_024 / devKeys.accounts.count
        let filler = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
        let other = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
        // Immediate-or-cancel orders that find nothing: each is Accepted and Canceled, and its token stays used.
        filler.send((0..<share).flatMap { Client.order("F\($0)", "B", 100, "AAPL", price(200), timeInForce: 0) })
        let replies = try #require(filler.replies(2 * share, timeout: 10))
        #expect(replies.filter { $0.type == "A" }.count == share)
        filler.send(Client.order("F\(share)", "B", 100, "AAPL", price(200)))
        let full = filler.replies(1)?.first
        #expect(full?.type == "J" && full?.token == "F\(share)" && full?.byte(at: 23) == "O", "\(String(describing: full))")
        // Another account still has its own share.
        other.send(Client.order("OTHER1", "S", 100, "AAPL", price(231)))
        #expect(other.replies(1)?.first?.type == "A")
        for c in [filler, other] { #expect(c.logOut()) }
        let final = exchange.drain()
        #expect(final.gatewayCount("token_history_full_rejects") == 1)
    }

    /// A client's messages are answered in the order it sent them, whether the answer comes
    /// from the engine or from the gateway itself: otherwise a Rejected for a duplicate token
    /// arrives before the Accepted of the order that holds the token (and the client cannot
    /// tell which of the two was refused), and a Cancel Reject before the Accepted of the
    /// order it names.
    @Test func answersAClientsMessagesInTheOrderItSentThem() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send(Client.order("ORD1", "S", 100, "AAPL", price(231)) + Client.order("ORD1", "S", 100, "AAPL", price(232)))
            let duplicate = client.replies(2)?.map { "\($0.type) \($0.token)" }
            #expect(duplicate == ["A ORD1", "J ORD1"])
            client.send(Client.order("ORD2", "S", 100, "AAPL", price(233)) + Client.unsequenced(Client.modify("ORD2", "Q", 50)))
            let modify = client.replies(2)?.map { "\($0.type) \($0.token)" }
            #expect(modify == ["A ORD2", "I ORD2"])
            #expect(client.logOut())
        }
        #expect(outcome.disconnects == ["logout": 2])
    }

    @Test func answersEveryOrderAtOnceWhenTheCommandRingIsFull() throws {
        // queue_capacity 2, and in shared mode the gateway handles a whole receive before the
        // engine runs: of 32 orders arriving together, all but a couple find the ring full.
        let knobs = ExchangeKnobs(queueCapacity: 2)
        let outcome = try withExchange(knobs) { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            client.send((1...32).flatMap { Client.order("RING\($0)", "S", 100, "AAPL", price(240) + UInt32($0) * 100) })
            let replies = try #require(client.replies(32))
            #expect(Set(replies.map(\.token)) == Set((1...32).map { "RING\($0)" }))
            let rejected = replies.filter { $0.type == "J" }
            #expect(rejected.allSatisfy { $0.byte(at: 23) == "O" })
            #expect(replies.allSatisfy { $0.type == "A" || $0.type == "J" })
            #expect(!rejected.isEmpty)
            #expect(exchange.waitFor { $0.gatewayCount("backpressure_rejects") == UInt64(rejected.count) })
            #expect(client.logOut())
        }
        #expect(outcome.final.gatewayCount("backpressure_rejects") > 0)
        #expect(outcome.disconnects == ["logout": 2])
    }
}
