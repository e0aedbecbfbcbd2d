import ExchangeTLS
import Foundation
import Testing

/// Real TLS peers — `openssl s_client` and Python's `ssl` module — against a TLSChannel
/// serving a loopback socket. Each test starts its peer, serves one connection, and waits
/// for the peer to exit (terminating it at a bound), so no process outlives the test.
@Suite(.serialized) struct RealPeers {
    static let openssl = Subprocess.which("openssl")
    static let python = Subprocess.which("python3")

    func serverContext(mutual: Bool) throws -> TLSContext {
        try TLSContext.server(
            certificateFile: DevCertificates.path("server.pem"), keyFile: DevCertificates.path("server.key"),
            clientCAFile: mutual ? DevCertificates.path("ca.pem") : nil
        )
    }

    /// Serves one connection to `arguments` (run with "PING\n" on its standard input).
    func serve(_ executable: String, _ arguments: (Int) throws -> [String], mutual: Bool = false)
        throws -> (outcome: LoopbackServer.Outcome, status: Int32, output: String)
    {
        let server = try LoopbackServer()
        let context = try serverContext(mutual: mutual)
        let peer = try Subprocess.start(executable, try arguments(server.port), input: "PING\n")
        let outcome = server.serveOne(context: context)
        let result = peer.finish(timeout: 30)
        return (outcome, result.status, result.output)
    }

    // ---- openssl s_client ------------------------------------------------------------

    func sClient(_ port: Int, _ extra: [String]) throws -> [String] {
        ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", try DevCertificates.path("ca.pem"),
         "-verify_return_error", "-verify_ip", "127.0.0.1", "-quiet", "-brief"] + extra
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed"), arguments: [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
    func opensslSClientCompletesAHandshakeAndTalks(flag: String, version: String) throws {
        let run = try serve(Self.openssl!, { try sClient($0, [flag]) })
        #expect(run.outcome == .served(line: "PING", version: version, commonName: nil), "\(run.output)")
        #expect(run.output.contains("PONG -"), "\(run.output)")
        #expect(run.output.contains("Protocol version: \(version)"), "\(run.output)")
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed"))
    func opensslSClientWithAClientCertificateIsKnownByItsSubject() throws {
        let run = try serve(Self.openssl!, { port in
            try sClient(port, ["-cert", try DevCertificates.path("client-TRADER.pem"), "-key", try DevCertificates.path("client-TRADER.key")])
        }, mutual: true)
        #expect(run.outcome == .served(line: "PING", version: "TLSv1.3", commonName: "TRADER"), "\(run.output)")
        #expect(run.output.contains("PONG TRADER"), "\(run.output)")
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed"))
    func opensslSClientOfferingTLS11IsRefused() throws {
        let run = try serve(Self.openssl!, { try sClient($0, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]) })
        guard case .failed(let failure) = run.outcome else {
            Issue.record("expected a refusal, got \(run.outcome): \(run.output)")
            return
        }
        #expect(failure.kind == .protocolVersionTooOld, "\(failure)")
        #expect(run.status != 0)
        #expect(!run.output.contains("PONG"))
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed"))
    func opensslSClientWithAnExpiredCertificateIsRefusedWithTheReason() throws {
        let run = try serve(Self.openssl!, { port in
            try sClient(port, ["-cert", try DevCertificates.path("expired-client.pem"), "-key", try DevCertificates.path("expired-client.key")])
        }, mutual: true)
        #expect(run.outcome == .failed(TLSFailure(kind: .certificateExpired, detail: failureDetail(run.outcome))), "\(run.output)")
        #expect(run.output.contains("certificate expired"), "\(run.output)")
    }

    // ---- Python's ssl module -----------------------------------------------------------

    static let pythonClient = """
        import socket, ssl, sys
        port, version, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(ca)
        if version == "1.1":
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        elif version == "1.2":
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        else:
            context.minimum_version = ssl.TLSVersion.TLSv1_3
        if cert != "-":
            context.load_cert_chain(cert, key)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(sys.stdin.buffer.readline())
                    reply = b""
                    while not reply.endswith(b"\\n"):
                        chunk = tls.recv(100)
                        if not chunk:
                            break
                        reply += chunk
                    print("version", tls.version())
                    print("reply", reply.decode().strip())
        except ssl.SSLError as error:
            print("sslerror", error.reason)
            sys.exit(3)
        """

    func pythonArguments(_ port: Int, version: String, certificate: String?) throws -> [String] {
        ["-c", Self.pythonClient, "\(port)", version, try DevCertificates.path("ca.pem"),
         try certificate.map { try DevCertificates.path("\($0).pem") } ?? "-",
         try certificate.map { try DevCertificates.path("\($0).key") } ?? "-"]
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"), arguments: [("1.3", "TLSv1.3"), ("1.2", "TLSv1.2")])
    func pythonSSLCompletesAMutualTLSHandshakeAndTalks(version: String, name: String) throws {
        let run = try serve(Self.python!, { try pythonArguments($0, version: version, certificate: "client-DEMO2") }, mutual: true)
        #expect(run.outcome == .served(line: "PING", version: name, commonName: "DEMO2"), "\(run.output)")
        #expect(run.output.contains("version \(name)"), "\(run.output)")
        #expect(run.output.contains("reply PONG DEMO2"), "\(run.output)")
        #expect(run.status == 0)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func pythonSSLOfferingTLS11IsRefused() throws {
        let run = try serve(Self.python!, { try pythonArguments($0, version: "1.1", certificate: nil) })
        #expect(run.outcome == .failed(TLSFailure(kind: .protocolVersionTooOld, detail: failureDetail(run.outcome))), "\(run.output)")
        #expect(run.status == 3, "\(run.output)")
        #expect(run.output.contains("sslerror"), "\(run.output)")
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func pythonSSLWithACertificateFromAnotherCAIsRefused() throws {
        let run = try serve(Self.python!, { try pythonArguments($0, version: "1.3", certificate: "other-client") }, mutual: true)
        #expect(run.outcome == .failed(TLSFailure(kind: .unknownCA, detail: failureDetail(run.outcome))), "\(run.output)")
        #expect(run.output.contains("UNKNOWN_CA"), "\(run.output)")
    }

    func failureDetail(_ outcome: LoopbackServer.Outcome) -> String {
        if case .failed(let failure) = outcome { return failure.detail }
        return ""
    }
}
