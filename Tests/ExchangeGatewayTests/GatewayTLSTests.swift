import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeOps
import ExchangeTestRig
import ExchangeTLS
import Foundation
import Logging
import Testing

/// The order gateway with gateway.tls on: clients trade over TLS, mutual TLS binds the
/// certificate to the account, and a client that does not speak TLS is disconnected with
/// its reason while the others carry on.
@Suite(.serialized) struct GatewayTLS {
    /// configs/tls/make-dev-certs.sh's output, made once per run in a temporary directory.
    static let certificates: Result<String, ToolFailed> = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-gateway-tls-\(getpid())").path
        let script = repositoryRoot.appendingPathComponent("configs/tls/make-dev-certs.sh").path
        guard let result = try? ExternalTools.run(script, [path], timeout: 300), result.status == 0 else {
            return .failure(ToolFailed(output: "make-dev-certs.sh failed"))
        }
        certificateDirectory = path
        atexit { if let path = GatewayTLS.certificateDirectory { try? FileManager.default.removeItem(atPath: path) } }
        return .success(path)
    }()
    nonisolated(unsafe) static var certificateDirectory: String?

    static func file(_ name: String) throws -> String { try certificates.get() + "/" + name }

    func exchange(mutual: Bool) throws -> TestExchange {
        var knobs = ExchangeKnobs()
        knobs.tls = "on"
        knobs.environment = [
            "RTES_TLS_CERT": try Self.file("server.pem"), "RTES_TLS_KEY": try Self.file("server.key"),
        ]
        if mutual { knobs.environment["RTES_CA_CERT"] = try Self.file("ca.pem") }
        return try TestExchange(knobs)
    }

    func options(certificate: String? = nil) throws -> OrderEntryClient.Options {
        OrderEntryClient.Options(tls: try TLSContext.client(
            caFile: try Self.file("ca.pem"),
            certificateFile: try certificate.map { try Self.file("\($0).pem") },
            keyFile: try certificate.map { try Self.file("\($0).key") }))
    }

    func enterAndExpectAccepted(_ client: OrderEntryClient, token text: String) throws {
        try client.enter(token: OrderToken(text)!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_290_000)
        let reply = try client.nextMessage(timeout: .seconds(5))
        let accepted = try #require(reply.message.accepted, "expected Accepted, got \(reply)")
        #expect(accepted.token == OrderToken(text)!)
    }

    @Test func aClientTradesOverTLS() throws {
        let exchange = try exchange(mutual: false)
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1", options: try options())
        defer { client.close() }
        try enterAndExpectAccepted(client, token: "TLS1")
        _ = try client.logout()
        let final = exchange.drain()
        #expect(final.gatewayCount("tls_failures") == 0)
        #expect(final.gatewayCount("logins_accepted") == 1)
    }

    @Test func mutualTLSLetsACertificateLogInOnlyAsItsOwnAccount() throws {
        let exchange = try exchange(mutual: true)
        defer { exchange.drain() }
        let own = try exchange.client("DEMO1", options: try options(certificate: "client-DEMO1"))
        defer { own.close() }
        try enterAndExpectAccepted(own, token: "MTLS1")

        // DEMO2's certificate, DEMO2's password too, but logging in as TRADER: refused.
        let other = try OrderEntryClient(port: exchange.port, options: try options(certificate: "client-DEMO2"))
        defer { other.close() }
        let outcome = try other.login(username: "TRADER", password: Credentials.password("TRADER"))
        #expect(outcome == .rejected(.notAuthorized, debug: nil), "\(outcome)")

        // The same DEMO2 certificate as DEMO2 is fine.
        let demo2 = try exchange.client("DEMO2", options: try options(certificate: "client-DEMO2"))
        defer { demo2.close() }
        try enterAndExpectAccepted(demo2, token: "MTLS2")
        #expect(exchange.snapshot().gatewayCount("logins_rejected_not_authorized") >= 1)
    }

    @Test(arguments: [("expired-client", "certificate expired"), ("other-client", "unknown CA"), (nil, "certificate")])
    func mutualTLSRefusesABadCertificateWithItsReason(certificate: String?, reason: String) throws {
        let exchange = try exchange(mutual: true)
        defer { exchange.drain() }
        do {
            let client = try exchange.client("DEMO1", options: try options(certificate: certificate))
            client.close()
            Issue.record("a client with \(certificate ?? "no certificate") logged in")
        } catch let error as ClientError {
            guard case .tls(let text) = error else {
                Issue.record("expected a TLS error, got \(error)")
                return
            }
            #expect(text.contains(reason), "\(text)")
        }
        #expect(exchange.waitFor { $0.disconnects["tls_failed"] == 1 }, "\(exchange.snapshot().disconnects)")
    }

    @Test func aClientSendingPlainSoupBinTCPIsDisconnectedWhileTLSClientsTrade() throws {
        let exchange = try exchange(mutual: false)
        defer { exchange.drain() }
        let trader = try exchange.client("DEMO1", options: try options())
        defer { trader.close() }
        try enterAndExpectAccepted(trader, token: "BEFORE")

        // A plaintext client: its Login Request is not a TLS handshake.
        let plain = try SoupConnection(host: "127.0.0.1", port: exchange.port)
        defer { plain.close() }
        let login = Array(repeating: UInt8(ascii: " "), count: 46)
        try plain.sendPacket(type: UInt8(ascii: "L"), payload: Array("DEMO2 demo2pass ".utf8) + login.prefix(30))
        let result = plain.receiveUntilClosed(timeout: .seconds(5))
        #expect(result.closed)
        #expect(result.packets.isEmpty, "a plaintext client got SoupBinTCP packets: \(result.packets)")
        #expect(exchange.waitFor { $0.disconnects["tls_failed"] == 1 }, "\(exchange.snapshot().disconnects)")

        try enterAndExpectAccepted(trader, token: "AFTER")
    }

    @Test func theExchangeRefusesToStartWithTLSOnAndNoCertificate() throws {
        var knobs = ExchangeKnobs()
        knobs.tls = "on"
        knobs.environment = ["RTES_TLS_KEY": "/nonexistent.key"]
        do {
            let exchange = try TestExchange(knobs)
            exchange.drain()
            Issue.record("the exchange started without RTES_TLS_CERT")
        } catch {
            #expect("\(error)".contains("gateway.tls is on but RTES_TLS_CERT is not set"), "\(error)")
        }
    }
}
