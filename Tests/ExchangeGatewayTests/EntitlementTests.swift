import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// Which Firm an account may put on its orders (docs/GATEWAY.md, Accounts), and the OUCH 4.2
/// enumerated fields the gateway refuses before the engine sees them.
@Suite struct FirmEntitlement {
    /// The development accounts, DEMO2 (firm DEM2) also allowed `DEMX`.
    static let keys: APIKeys = {
        var keys = devKeys
        keys.accounts[1].firms = [Firm("DEMX")!]
        return keys
    }()

    /// DEMO2 may name its own firm, leave it blank (its default goes on), or name DEMX
    /// from its `firms`; the Accepted echoes the firm the order carries.
    @Test func acceptsTheDefaultABlankAndAnAllowedExtraFirm() throws {
        let outcome = try withExchange(keys: Self.keys) { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            var firms: [String] = []
            for (token, firm) in [("OWN1", "DEM2"), ("BLANK1", ""), ("EXTRA1", "DEMX")] {
                client.send(Client.unsequenced(Client.enter(token, "B", 100, "AAPL", price(200), firm: firm, display: "A")))
                let reply = client.replies(1)?.first
                #expect(reply?.type == "A" && reply?.token == token, "\(String(describing: reply))")
                firms.append(reply?.alphaField(at: 44, 4) ?? "?")
            }
            #expect(firms == ["DEM2", "DEM2", "DEMX"])
            #expect(client.logOut())
        }
        #expect(outcome.final.gatewayCount("firm_rejects") == 0)
    }

    /// Another firm's name is refused with Rejected `L`, the session stays up, and the
    /// refusal is counted by the gateway and among the engine's rejects.
    @Test func rejectsAnotherFirmsNameWithReasonL() throws {
        let outcome = try withExchange(keys: Self.keys) { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            // DEM1 is DEMO1's firm; TRDR is TRADER's; ZZZZ is nobody's. DEMX is allowed to DEMO2 only.
            for (token, firm) in [("SPOOF1", "DEM1"), ("SPOOF2", "TRDR"), ("SPOOF3", "ZZZZ")] {
                client.send(Client.unsequenced(Client.enter(token, "B", 100, "AAPL", price(200), firm: firm)))
                let reply = client.replies(1)?.first
                #expect(reply?.type == "J" && reply?.token == token && reply?.byte(at: 23) == "L", "\(String(describing: reply))")
            }
            let other = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            other.send(Client.unsequenced(Client.enter("SPOOF4", "B", 100, "AAPL", price(200), firm: "DEMX")))
            let reply = other.replies(1)?.first
            #expect(reply?.type == "J" && reply?.byte(at: 23) == "L", "\(String(describing: reply))")
            for c in [client, other] { #expect(c.logOut()) }
        }
        #expect(outcome.final.gatewayCount("firm_rejects") == 4)
        #expect(outcome.final.rejectsByReason.first { $0.reason == "firm_not_authorized" }?.count == 4)
    }

    /// Self-trade prevention works by firm: an order naming the resting order's firm would
    /// have met it as a self-trade. Refused, it never reaches the book: the resting order is
    /// whole, its owner hears nothing, and nothing under the other firm's name is added.
    @Test func anotherFirmsNameCannotCancelItsRestingOrdersThroughSelfTradePrevention() throws {
        let outcome = try withExchange(keys: Self.keys) { exchange, _ in
            let owner = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            owner.send(Client.order("REST1", "S", 300, "AAPL", price(231)))
            #expect(owner.replies(1)?.first?.type == "A")
            let spoofer = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
            spoofer.send(Client.unsequenced(Client.enter("STP1", "B", 300, "AAPL", price(231), firm: "DEM1", display: "A")))
            #expect(spoofer.replies(1)?.first.map { "\($0.type)\($0.byte(at: 23))" } == "JL")
            #expect(owner.next(timeout: 0.1) == .timeout)
            let buyer = try SoupTestClient.loggedIn(port: exchange.port, .load(1))
            buyer.send(Client.order("TAKE1", "B", 300, "AAPL", price(231)))
            let fills = buyer.replies(2)
            #expect(fills?.map(\.type) == ["A", "E"] && fills?.last?.u32(at: 23) == 300, "\(String(describing: fills))")
            #expect(owner.replies(1)?.first.map { "\($0.type)\($0.u32(at: 23))" } == "E300")
            for c in [owner, spoofer, buyer] { #expect(c.logOut()) }
        }
        #expect(outcome.final.engine["trades"] == 1)
        #expect(outcome.final.gatewayCount("firm_rejects") == 1)
    }

    /// What the feed is given: the engine's book events, in-process, with the time held still.
    /// An attributable order shows its own firm; one naming another firm never reaches the
    /// book, so no Add Order carries that firm's name.
    @Test func anotherFirmsNameNeverReachesTheFeedsAttribution() throws {
        let clock = ManualClock()
        var rig = try GatewayTimers.rig(ExchangeKnobs(), clock: clock)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo2))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        client.send(Client.unsequenced(Client.enter("ATTR1", "B", 100, "AAPL", price(200), display: "A")))
        #expect(rig.next(client).packet?.ouch?.type == "A")
        #expect(rig.attributedAdds == 1 && rig.lastAttribution == Firm("DEM2"))
        for (token, display) in [("ATTR2", "A"), ("ATTR3", "L")] as [(String, Character)] {
            client.send(Client.unsequenced(Client.enter(token, "B", 100, "AAPL", price(201), firm: "DEM1", display: display)))
            let reply = rig.next(client).packet?.ouch
            #expect(reply?.type == "J" && reply?.token == token && reply?.byte(at: 23) == "L", "\(String(describing: reply))")
        }
        rig.advance(clock, milliseconds: 1)  // the gateway publishes its counters each millisecond
        #expect(rig.attributedAdds == 1 && rig.lastAttribution == Firm("DEM2"))
        #expect(memory.counters.snapshot().gatewayCount("firm_rejects") == 2)
        client.send(Client.logout)
        #expect(rig.next(client) == .closed)
        rig.shutDown()
        memory.release()
    }

    /// A value outside OUCH 4.2's set for Display, Capacity, Intermarket Sweep, Cross Type
    /// or Customer Type is answered with Rejected (`D` for Display, `O` otherwise); the
    /// session stays up.
    @Test func rejectsEnumeratedFieldsOutsideTheirSets() throws {
        let outcome = try withExchange { exchange, _ in
            let client = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            let messages: [(String, [UInt8], Character)] = [
                ("BADDSP", Client.enter("BADDSP", "B", 100, "AAPL", price(200), display: "Q"), "D"),
                ("BADCAP", Client.enter("BADCAP", "B", 100, "AAPL", price(200), capacity: "X"), "O"),
                ("BADISO", Client.enter("BADISO", "B", 100, "AAPL", price(200), iso: "y"), "O"),
                ("BADCRS", Client.enter("BADCRS", "B", 100, "AAPL", price(200), crossType: "I"), "O"),
                ("BADCUS", Client.enter("BADCUS", "B", 100, "AAPL", price(200), customerType: "X"), "O"),
                ("BADRPL", Client.replace("BADCAP", "BADRPL", 100, price(200), iso: "X"), "O"),
            ]
            for (token, message, code) in messages {
                client.send(Client.unsequenced(message))
                let reply = client.replies(1)?.first
                #expect(reply?.type == "J" && reply?.token == token && reply?.byte(at: 23) == code, "\(token): \(String(describing: reply))")
            }
            client.send(Client.unsequenced(Client.enter("GOOD1", "B", 100, "AAPL", price(200), capacity: "P", iso: "Y",
                                                        crossType: "N", customerType: " ")))
            #expect(client.replies(1)?.first?.type == "A")
            #expect(client.logOut())
        }
        #expect(outcome.final.gatewayCount("field_rejects") == 6)
        let rejects = Dictionary(outcome.final.rejectsByReason.map { ($0.reason, $0.count) }, uniquingKeysWith: +)
        #expect(rejects["invalid_display"] == 1 && rejects["invalid_capacity"] == 1 && rejects["invalid_cross_type"] == 1
            && rejects["invalid_customer_type"] == 1 && rejects["invalid_intermarket_sweep"] == 2, "\(rejects)")
    }
}
