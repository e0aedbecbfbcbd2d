import ExchangeClient
import ExchangeConfig
import ExchangeCore
@testable import ExchangeOps
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// One request on its own raw connection (`Connection: close`), read until the server closes:
/// status, body, and the head's lines. (URLSession, given a 401 challenge, waits for credentials
/// a test does not give it.)
func adminRequest(_ method: String, port: Int, _ target: String, user: String? = nil, password: String = "")
    -> (status: Int, body: String, head: String)? {
    guard let connection = try? RawHTTPConnection(port: port) else { return nil }
    var request = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n"
    if let user { request += "Authorization: Basic " + Data("\(user):\(password)".utf8).base64EncodedString() + "\r\n" }
    guard connection.sendAll(request + "\r\n") else { return nil }
    let text = String(decoding: connection.readUntilClosed(deadline: Deadline(after: .seconds(10))).bytes, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.dropFirst(9).prefix(3)) else { return nil }
    return (status, String(text[split.upperBound...]), String(text[..<split.lowerBound]))
}

/// Operators halt and resume through the admin plane: only with an operator's credentials and
/// role, one symbol or the whole market; a halted symbol takes orders and executes nothing, and
/// its resume crosses them (Nasdaq's halt, docs/MATCHING.md); every refusal counted.
@Suite(.serialized) struct OperatorActionTests {
    static var keys: APIKeys {
        var keys = devKeys
        keys.operators = [APIKeys.Operator(username: "ops1", credential: .plain(Secret("opspass1")), role: .operator),
                          APIKeys.Operator(username: "viewer", credential: .plain(Secret("viewpass1")), role: .readOnly)]
        return keys
    }

    func phase(_ base: String, _ symbol: String) -> String? {
        guard let book = httpGet(base + "/debug/orderbook/\(symbol)"), book.status == 200,
              let range = book.body.range(of: #""phase":""#) else { return nil }
        return String(book.body[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func anOperatorHaltsAndResumesASymbolAndTheMarket() throws {
        let exchange = try TestExchange(keys: Self.keys)
        defer { exchange.drain() }
        let port = exchange.appliance.admin!.port
        let base = "http://127.0.0.1:\(port)"
        let halt = "/trading/halt?symbol=AAPL&reason=news%20pending"
        func httpRequest(_ method: String, _ target: String, user: String? = nil, password: String = "") -> (status: Int, body: String, head: String)? {
            adminRequest(method, port: port, target, user: user, password: password)
        }

        // No credentials, wrong ones, a role that may not: refused, nothing changes.
        let anonymous = try #require(httpRequest("POST", halt))
        #expect(anonymous.status == 401 && anonymous.head.contains("WWW-Authenticate: Basic realm="), "\(anonymous)")
        #expect(httpRequest("POST", halt, user: "ops1", password: "wrong")?.status == 401)
        #expect(httpRequest("POST", halt, user: "nobody", password: "opspass1")?.status == 401)
        #expect(httpRequest("POST", halt, user: "viewer", password: "viewpass1")?.status == 403)
        #expect(httpRequest("GET", halt)?.status == 405)
        #expect(httpRequest("POST", "/trading/halt?symbol=NOPE", user: "ops1", password: "opspass1")?.status == 404)
        #expect(httpRequest("POST", "/trading/close", user: "ops1", password: "opspass1")?.status == 404)
        #expect(phase(base, "AAPL") == "continuous")

        // The operator halts AAPL: orders are taken and wait; nothing executes.
        let accepted = try #require(httpRequest("POST", halt, user: "ops1", password: "opspass1"))
        #expect(accepted.status == 202 && accepted.body.contains(#""action":"halt","operator":"ops1","reason":"news pending","symbol":"AAPL""#), "\(accepted)")
        #expect(waitUntil(timeout: .seconds(10)) { phase(base, "AAPL") == "halted" })
        #expect(phase(base, "MSFT") == "continuous")
        let buyer = try exchange.client("DEMO1")
        defer { buyer.close() }
        let seller = try exchange.client("DEMO2")
        defer { seller.close() }
        let aapl = Symbol("AAPL")!
        try buyer.enter(token: OrderToken("HALTBUY1")!, side: .buy, shares: 100, symbol: aapl, price: 2_300_000)
        try seller.enter(token: OrderToken("HALTSELL1")!, side: .sell, shares: 100, symbol: aapl, price: 2_300_000)
        for client in [buyer, seller] {
            var answer = try client.nextMessage(timeout: .seconds(10))
            if case .systemEvent = answer.message { answer = try client.nextMessage(timeout: .seconds(10)) }
            guard case .accepted = answer.message else { Issue.record("not accepted: \(answer)"); continue }
        }
        #expect(exchange.snapshot().engine["trades"] ?? 0 == 0, "a halted symbol executed")

        // The resume crosses them at 230.00.
        #expect(httpRequest("POST", "/trading/resume?symbol=AAPL&reason=news%20out", user: "ops1", password: "opspass1")?.status == 202)
        for client in [buyer, seller] {
            let executed = try client.nextMessage(timeout: .seconds(10))
            guard case .executed(_, _, let shares, let price, _, _) = executed.message else {
                Issue.record("no execution after the resume: \(executed)")
                continue
            }
            #expect(shares == 100 && price == 2_300_000)
        }
        #expect(waitUntil(timeout: .seconds(10)) { phase(base, "AAPL") == "continuous" })

        // The whole market, then back.
        #expect(httpRequest("POST", "/trading/halt?reason=drill", user: "ops1", password: "opspass1")?.status == 202)
        #expect(waitUntil(timeout: .seconds(10)) { phase(base, "AAPL") == "halted" && phase(base, "MSFT") == "halted" })
        #expect(httpRequest("POST", "/trading/resume?reason=drill", user: "ops1", password: "opspass1")?.status == 202)
        #expect(waitUntil(timeout: .seconds(10)) { phase(base, "AAPL") == "continuous" && phase(base, "MSFT") == "continuous" })

        let metrics = try #require(httpGet(base + "/metrics")).body
        for line in [#"rtes_admin_actions_total{action="halt"} 2"#, #"rtes_admin_actions_total{action="resume"} 2"#,
                     #"rtes_admin_action_refusals_total{reason="unauthenticated"} 1"#,
                     #"rtes_admin_action_refusals_total{reason="bad_credentials"} 2"#,
                     #"rtes_admin_action_refusals_total{reason="forbidden"} 1"#] {
            #expect(metrics.contains(line), "missing \(line)")
        }
        #expect((exchange.snapshot().gateway["phase_commands"] ?? 0) == 4)
    }

    @Test func withoutOperatorsThePlaneTakesNoActions() throws {
        var keys = devKeys
        keys.operators = []
        let exchange = try TestExchange(keys: keys)
        defer { exchange.drain() }
        let answer = try #require(adminRequest("POST", port: exchange.appliance.admin!.port, "/trading/halt?symbol=AAPL",
                                               user: "ops1", password: "opspass1"))
        #expect(answer.status == 404 && answer.body.contains("no operators"), "\(answer)")
    }

    @Test func failedAuthenticationsAreThrottledPerSecond() {
        let actions = AdminActions(operators: Self.keys.operators, queue: nil)
        let wrong = "Basic " + Data("ops1:nope".utf8).base64EncodedString()
        for _ in 0..<AdminActions.failuresPerSecond {
            #expect(actions.admits(now: 100))
            #expect(actions.authenticate(wrong, now: 100) == .failure(.badCredentials))
        }
        // The eleventh in the same second is not even checked; the next second starts afresh.
        #expect(!actions.admits(now: 100))
        #expect(actions.admits(now: 101))
        let right = "Basic " + Data("ops1:opspass1".utf8).base64EncodedString()
        #expect((try? actions.authenticate(right, now: 101).get())?.username == "ops1")
        // No gateway behind it (a standby): the action is refused as unavailable.
        let halt = AdminActions.Request(.halt, .symbol(.everySymbol), reason: "drill")
        #expect((try? actions.take(halt, by: Self.keys.operators[0]).get()) == nil)
        if case .failure(let refused) = actions.take(halt, by: Self.keys.operators[0]) { #expect(refused.refusal == .unavailable) }
        if case .failure(let refused) = actions.take(halt, by: Self.keys.operators[1]) { #expect(refused.refusal == .forbidden) }
        // Checked in order: the role, then the reason.
        if case .failure(let refused) = actions.take(AdminActions.Request(.halt, .symbol(.everySymbol), reason: nil), by: Self.keys.operators[0]) {
            #expect(refused.refusal == .missingReason)
        }
    }
}
