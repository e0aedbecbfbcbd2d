import ExchangeConfig
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// A well-behaved session running beside the bad input: it logs in from sequence 1, enters
/// orders that rest (bids in QUIET, a symbol no test trades) and must get exactly its own
/// Accepted for each, in sequence, and nothing else but heartbeats; at the end it logs out
/// and must see a clean close. Whatever went wrong is in `problems`.
final class WellBehavedSession {
    let client: SoupTestClient
    private(set) var orders = 0
    private(set) var problems: [String] = []
    private var lastKeepAlive = ContinuousClock.now

    init(port: Int, _ credentials: Credentials = .load(8)) throws {
        client = try SoupTestClient(port: port)
        let answer = client.login(credentials, sequence: 1)
        guard let accepted = answer.packet?.loginAccepted else { throw LoginFailed(answer: answer.description) }
        if accepted.sequence != 1 || accepted.session != testSessionName {
            problems.append("Login Accepted \(accepted)")
        }
        // Sequence 1 of every session: System Event, start of day.
        if let start = client.replies(1)?.first {
            if start.type != "S" || start.byte(at: 9) != "S" { problems.append("first message \(start)") }
        } else {
            problems.append("no start of day: \(client.unexpected)")
        }
    }

    /// Enters one resting order and checks that its Accepted, and only that, comes back.
    func roundTrip() {
        orders += 1
        let token = "WB\(orders)"
        let bid = price(40) - UInt32(orders) * 100
        client.send(Client.order(token, "B", 100, "QUIET", bid))
        guard let reply = client.replies(1)?.first else {
            problems.append("order \(token): \(client.unexpected)")
            return
        }
        if reply.type != "A" || reply.token != token || reply.u32(at: 24) != 100 || reply.alphaField(at: 28, 8) != "QUIET"
            || reply.u32(at: 36) != bid || reply.byte(at: 64) != "L" {
            problems.append("order \(token): \(reply)")
        }
    }

    /// A Client Heartbeat at most every 50 ms, for tests with short idle timeouts. The pace
    /// decides nothing: more heartbeats than needed are harmless, and the idle timeouts the
    /// tests meet are far longer than 50 ms.
    func keepAlive() {
        let now = ContinuousClock.now
        guard now - lastKeepAlive > .milliseconds(50) else { return }
        lastKeepAlive = now
        client.send(Client.heartbeat)
    }

    /// A last round trip, the sequence check, and a Logout; returns every problem seen.
    func finish() -> [String] {
        roundTrip()
        let numbers = client.sequenced.map(\.sequence)
        if numbers != Array(1...UInt64(orders + 1)) { problems.append("sequence numbers \(numbers)") }
        client.send(Client.logout)
        let (packets, end) = client.readUntilClosed()
        let extra = packets.filter { !$0.isHeartbeat }
        if !extra.isEmpty || end != .closed { problems.append("logout: \(extra) then \(end)") }
        return problems
    }
}

/// What `withExchange` hands back: the final counters and how many orders the well-behaved
/// session entered (each one is in `orders_in`).
struct Outcome {
    var final: CountersSnapshot
    var bystanderOrders: Int
    var disconnects: [String: UInt64] { final.disconnects }
    /// `orders_in` less the well-behaved session's.
    var otherOrdersIn: UInt64 { final.gatewayCount("orders_in") - UInt64(bystanderOrders) }
}


/// Starts an exchange with a well-behaved session (LOAD8) beside `body`; the session makes a
/// round trip before and after and must see no errors and no loss; then drains and returns
/// the final counters. Every test of bad input runs through here.
func withExchange(_ knobs: ExchangeKnobs = ExchangeKnobs(), keys: ExchangeConfig.APIKeys = devKeys,
                  sourceLocation: Testing.SourceLocation = #_sourceLocation,
                  _ body: (TestExchange, WellBehavedSession) throws -> Void) throws -> Outcome {
    let exchange = try TestExchange(knobs, keys: keys)
    defer { exchange.drain() }
    let bystander = try WellBehavedSession(port: exchange.port)
    bystander.roundTrip()
    try body(exchange, bystander)
    let problems = bystander.finish()
    #expect(problems.isEmpty, "the well-behaved session: \(problems)", sourceLocation: sourceLocation)
    let final = exchange.drain()
    #expect(final.disconnects["logout", default: 0] >= 1, sourceLocation: sourceLocation)
    // Every command the gateway sent was handled and every order event it was due was taken.
    let rings = final.rings.filter { $0.depth != 0 }.map { "\($0.slot): \($0.produced) produced, \($0.consumed) consumed" }
    #expect(rings.isEmpty, "rings not empty after the drain: \(rings)", sourceLocation: sourceLocation)
    #expect(final.gatewayCount("active_connections") == 0, sourceLocation: sourceLocation)
    return Outcome(final: final, bystanderOrders: bystander.orders)
}
