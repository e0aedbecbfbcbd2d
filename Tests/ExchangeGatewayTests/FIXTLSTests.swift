import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// The FIX port with fix.tls on (docs/TLS.md, docs/FIX.md): a client — Python's `ssl`
/// module, a real TLS stack other than the exchange's — logs on and trades over TLS 1.2/1.3;
/// with mutual TLS a certificate logs on only as its own account (CN = Username); a client
/// that does not speak TLS is disconnected (`tls_failed`). The certificates are
/// configs/tls/make-dev-certs.sh's (as for the order-entry port's TLS tests).
@Suite(.serialized) struct FIXTLSTests {
    /// Connects over TLS (CA: ca.pem; `certificate`: a client certificate), sends a Logon as
    /// `user`, then, once logged on, a NewOrderSingle; prints the TLS version and each message
    /// received, `|` for SOH, until a Logout, the order's ExecutionReport or the end.
    static let script = #"""
    import datetime, re, socket, ssl, sys
    port, user, password, certificate, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate != "-":
        context.load_cert_chain(certificate + ".pem", certificate + ".key")
    connection = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname="localhost")
    print("TLS", connection.version(), flush=True)
    def message(kind, sequence, fields):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
        body = "".join(f"{k}={v}\x01" for k, v in [(35, kind), (49, user), (56, "RTES"), (34, sequence), (52, now)] + fields)
        head = f"8=FIX.4.4\x019={len(body)}\x01" + body
        return (head + "10=%03d\x01" % (sum(head.encode()) % 256)).encode()
    pending = b""
    def next_message():
        global pending
        while True:
            end = re.search(rb"\x0110=\d{3}\x01", pending)
            if end:
                found, pending = pending[:end.end()], pending[end.end():]
                print("RECV", found.replace(b"\x01", b"|").decode(), flush=True)
                return found
            chunk = connection.recv(4096)
            if not chunk:
                print("CLOSED", flush=True)
                sys.exit(0)
            pending += chunk
    connection.sendall(message("A", 1, [(98, 0), (108, 30), (553, user), (554, password)]))
    if b"\x0135=A\x01" in next_message():
        connection.sendall(message("D", 2, [(11, "T1"), (55, "AAPL"), (54, 1), (38, 100), (40, 2), (44, "229"), (60, "20260101-00:00:00")]))
        while b"\x0135=8\x01" not in next_message():
            pass
        connection.sendall(message("5", 3, []))
        next_message()
    """#

    static func run(port: Int, user: String, password: String, certificate: String?) throws -> (status: Int32, output: String) {
        let ca = try GatewayTLS.file("ca.pem")
        let cert = try certificate.map { try GatewayTLS.file($0) } ?? "-"
        return try ExternalTools.run("/usr/bin/env", ["python3", "-c", script, "\(port)", user, password, cert, ca], timeout: 60)
    }

    func exchange(mutual: Bool) throws -> TestExchange {
        var knobs = ExchangeKnobs()
        knobs.fix = true
        knobs.fixTLS = "on"
        knobs.environment = ["RTES_TLS_CERT": try GatewayTLS.file("server.pem"), "RTES_TLS_KEY": try GatewayTLS.file("server.key")]
        if mutual { knobs.environment["RTES_CA_CERT"] = try GatewayTLS.file("ca.pem") }
        return try TestExchange(knobs)
    }

    @Test func aClientLogsOnAndTradesOverTLS() throws {
        let exchange = try exchange(mutual: false)
        defer { exchange.drain() }
        let run = try Self.run(port: exchange.fixPort, user: "DEMO1", password: "demo1pass", certificate: nil)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("TLS TLSv1.3") || run.output.contains("TLS TLSv1.2"), "\(run.output)")
        #expect(run.output.contains("|35=A|"), "no Logon over TLS: \(run.output)")
        #expect(run.output.contains("|35=8|") && run.output.contains("|11=T1|") && run.output.contains("|150=0|"), "\(run.output)")
        let final = exchange.drain()
        #expect(final.gatewayCount("tls_failures") == 0)
        #expect(final.gatewayCount("fix_logons") == 1)
    }

    @Test func mutualTLSLetsACertificateLogOnOnlyAsItsOwnAccount() throws {
        let exchange = try exchange(mutual: true)
        defer { exchange.drain() }
        let own = try Self.run(port: exchange.fixPort, user: "DEMO1", password: "demo1pass", certificate: "client-DEMO1")
        #expect(own.output.contains("|35=A|") && own.output.contains("|150=0|"), "\(own.output)")
        // DEMO2's certificate with DEMO1's right password: refused as a wrong password is.
        let other = try Self.run(port: exchange.fixPort, user: "DEMO1", password: "demo1pass", certificate: "client-DEMO2")
        #expect(!other.output.contains("|35=A|") && other.output.contains("|35=5|") && other.output.contains("|58=Logon rejected|"),
                "\(other.output)")
        // No certificate: the handshake fails.
        let none = try Self.run(port: exchange.fixPort, user: "DEMO1", password: "demo1pass", certificate: nil)
        #expect(!none.output.contains("|35=A|"), "\(none.output)")
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("tls_failures") >= 1 }, "the refused handshake was not counted")
    }

    @Test(.enabled(if: QuickFIXPeer.built != nil, QuickFIXPeer.missing))
    func aQuickFIXSSLInitiatorWithItsCertificateLogsOnAndTrades() throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        let exchange = try exchange(mutual: true)
        defer { exchange.drain() }
        let store = NSTemporaryDirectory() + "rtes-quickfix-tls-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: store) }
        // QuickFIX 1.15 takes only RSA (or DSA) client certificates; the development ones are EC:
        // an RSA one for DEMO1 from the same development CA.
        let (key, certificate) = (store + "/rsa-DEMO1.key", store + "/rsa-DEMO1.pem")
        let request = try ExternalTools.run("/usr/bin/openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                                                "-subj", "/CN=DEMO1", "-out", store + "/rsa-DEMO1.csr"])
        #expect(request.status == 0, "\(request.output)")
        try "extendedKeyUsage=clientAuth\n".write(toFile: store + "/client.ext", atomically: true, encoding: .ascii)
        let signed = try ExternalTools.run("/usr/bin/openssl", ["x509", "-req", "-in", store + "/rsa-DEMO1.csr", "-CA", try GatewayTLS.file("ca.pem"),
                                                               "-CAkey", try GatewayTLS.file("ca.key"), "-set_serial", "7001", "-days", "1",
                                                               "-extfile", store + "/client.ext", "-out", certificate])
        #expect(signed.status == 0, "\(signed.output)")
        let run = try InitiatorRun(program, [xml, "\(exchange.fixPort)", store, "DEMO1", "demo1pass", "order",
                                             try GatewayTLS.file("ca.pem"), certificate, key])
        defer { run.stop() }
        #expect(run.await("DONE"), "\(run.lines.suffix(8))")
        #expect(run.exitStatus() == 0)
        #expect(run.problems.isEmpty, "\(run.problems)")
        #expect(run.received.contains { fixField($0, 11) == "T1" && fixField($0, 150) == "0" }, "\(run.received)")
        #expect(exchange.snapshot().gatewayCount("tls_failures") == 0)
    }

    @Test func aClientThatDoesNotSpeakTLSIsDisconnected() throws {
        let exchange = try exchange(mutual: false)
        defer { exchange.drain() }
        let client = try FIXTestClient(port: exchange.fixPort, username: "DEMO1")
        client.logon(password: "demo1pass")
        #expect(client.closes(), "a plaintext Logon on the TLS port was not disconnected")
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("tls_failures") >= 1 })
    }
}
