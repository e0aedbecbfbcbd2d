import ExchangeTLS
import Foundation
import Testing

/// Client and server channels wired together in memory (no sockets): versions, mutual TLS,
/// every refused certificate with its reason, garbage instead of a handshake, close_notify.
@Suite struct Handshakes {
    func serverContext(mutual: Bool = false, certificate: String = "server") throws -> TLSContext {
        try TLSContext.server(
            certificateFile: DevCertificates.path("\(certificate).pem"), keyFile: DevCertificates.path("\(certificate).key"),
            clientCAFile: mutual ? DevCertificates.path("ca.pem") : nil
        )
    }

    func clientContext(certificate: String? = nil, versions: TLSVersions = .modern, ca: String = "ca.pem") throws -> TLSContext {
        try TLSContext.client(
            caFile: DevCertificates.path(ca),
            certificateFile: try certificate.map { try DevCertificates.path("\($0).pem") },
            keyFile: try certificate.map { try DevCertificates.path("\($0).key") },
            versions: versions
        )
    }

    @Test func completesATLS13HandshakeAndCarriesPlaintextBothWays() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext())
        let outcome = pair.handshake()
        #expect(outcome.client == .complete)
        #expect(outcome.server == .complete)
        #expect(pair.serverView.protocolVersion == "TLSv1.3")
        #expect(pair.clientView.protocolVersion == "TLSv1.3")
        #expect(pair.clientView.cipherSuite.hasPrefix("TLS_"))
        let login = pair.send("LOGIN DEMO1", fromClient: true).bytes
        let answer = pair.send("ACCEPTED", fromClient: false).bytes
        #expect(login == Array("LOGIN DEMO1".utf8))
        #expect(answer == Array("ACCEPTED".utf8))
        #expect(pair.serverView.peerCommonName == nil)
    }

    @Test func negotiatesTLS12WhenTheClientOffersOnlyTLS12() throws {
        let pair = ChannelPair(client: try clientContext(versions: .only12), server: try serverContext())
        let outcome = pair.handshake()
        #expect(outcome.server == .complete)
        #expect(pair.serverView.protocolVersion == "TLSv1.2")
        let ping = pair.send("PING", fromClient: true).bytes
        #expect(ping == Array("PING".utf8))
    }

    @Test func refusesATLS11ClientWithProtocolVersionTooOld() throws {
        let pair = ChannelPair(client: try clientContext(versions: .only11), server: try serverContext())
        let outcome = pair.handshake()
        #expect(outcome.server == .failed)
        #expect(outcome.client == .failed)
        #expect(pair.serverView.failure?.kind == .protocolVersionTooOld)
        #expect(pair.clientView.failure?.kind == .protocolVersionTooOld)
        #expect(pair.serverView.failure?.description.contains("protocol version too old") == true)
    }

    @Test func mutualTLSBindsTheCertificateSubjectToItsAccount() throws {
        let pair = ChannelPair(client: try clientContext(certificate: "client-DEMO1"), server: try serverContext(mutual: true))
        let outcome = pair.handshake()
        #expect(outcome.server == .complete)
        #expect(outcome.client == .complete)
        #expect(pair.serverView.peerCommonName == "DEMO1")
        #expect(pair.clientView.peerCommonName == "localhost")
        let accounts = ClientCertificateAccounts(usernames: ["DEMO1", "DEMO2", "TRADER"])
        #expect(accounts.permits(commonName: pair.serverView.peerCommonName, username: "DEMO1     "))
        #expect(!accounts.permits(commonName: pair.serverView.peerCommonName, username: "DEMO2"))
        #expect(!accounts.permits(commonName: nil, username: "DEMO1"))
        #expect(accounts.account(forCommonName: "DEMO2") == "DEMO2")
        #expect(accounts.account(forCommonName: "MALLORY") == nil)
        let mapped = ClientCertificateAccounts(usernames: ["DEMO1"], bindings: ["desk-7.example": "DEMO1", "x": "NOBODY"])
        #expect(mapped.permits(commonName: "desk-7.example", username: "DEMO1"))
        #expect(mapped.account(forCommonName: "x") == nil)
    }

    @Test func mutualTLSRefusesAClientWithoutACertificate() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext(mutual: true))
        _ = pair.handshake()
        #expect(pair.serverView.failure?.kind == .noCertificate)
    }

    @Test func refusesAnExpiredClientCertificateSayingSo() throws {
        let pair = ChannelPair(client: try clientContext(certificate: "expired-client"), server: try serverContext(mutual: true))
        _ = pair.handshake()
        let failure = try #require(pair.serverView.failure)
        #expect(failure.kind == .certificateExpired)
        #expect(failure.description.contains("certificate expired"))
        #expect(failure.detail.contains("certificate has expired"))
        // The client hears it from the server's alert.
        #expect(pair.clientView.failure?.kind == .certificateExpired)
    }

    @Test func refusesAClientCertificateFromAnotherCA() throws {
        let pair = ChannelPair(client: try clientContext(certificate: "other-client"), server: try serverContext(mutual: true))
        _ = pair.handshake()
        #expect(pair.serverView.failure?.kind == .unknownCA)
        #expect(pair.clientView.failure?.kind == .unknownCA)
    }

    @Test func aClientRefusesAnExpiredServerCertificate() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext(certificate: "expired-server"))
        let outcome = pair.handshake()
        #expect(outcome.client == .failed)
        #expect(pair.clientView.failure?.kind == .certificateExpired)
    }

    @Test func aClientRefusesAServerCertificateFromAnUnknownCA() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext(certificate: "other-server"))
        _ = pair.handshake()
        #expect(pair.clientView.failure?.kind == .unknownCA)
        #expect(pair.serverView.failure?.kind == .unknownCA)
    }

    @Test func aClientRefusesAServerCertificateForAnotherHost() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext(), expectedHost: "exchange.example.com")
        _ = pair.handshake()
        #expect(pair.clientView.failure?.kind == .hostnameMismatch)
        let byName = ChannelPair(client: try clientContext(), server: try serverContext(), expectedHost: "localhost")
        let byNameOutcome = byName.handshake()
        #expect(byNameOutcome.client == .complete)
    }

    @Test func garbageInsteadOfAHandshakeFailsAsNotTLS() throws {
        let context = try serverContext()
        for garbage in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u{0}\u{1F}LDEMO1     secret    "] {
            guard let server = TLSChannel(context: context) else {
                Issue.record("no channel")
                return
            }
            let bytes = Array(garbage.utf8)
            let taken = bytes.withUnsafeBytes { server.receiveCiphertext($0) }
            let progress = server.advanceHandshake()
            let serverFailure = server.failure
            #expect(taken == bytes.count)
            #expect(progress == .failed)
            let failure = try #require(serverFailure)
            #expect(failure.kind == .notTLS, "\(failure)")
            #expect(failure.description.hasPrefix("not a TLS handshake"))
        }
    }

    @Test func closeNotifyEndsThePlaintextStream() throws {
        let pair = ChannelPair(client: try clientContext(), server: try serverContext())
        let outcome = pair.handshake()
        let closing = pair.client.close()
        pair.move()
        let last = pair.readAll(pair.server).last
        #expect(outcome.server == .complete)
        #expect(closing == .complete)
        #expect(last == .closed)
    }

    @Test func failureTextsNameNoSecret() throws {
        let keyText = try String(contentsOfFile: try DevCertificates.path("client-DEMO1.key"), encoding: .utf8)
        let keyLines = keyText.split(separator: "\n").filter { !$0.hasPrefix("-----") }
        let pair = ChannelPair(client: try clientContext(certificate: "expired-client"), server: try serverContext(mutual: true))
        _ = pair.handshake()
        let text = pair.serverView.failure?.description ?? ""
        #expect(!text.isEmpty)
        #expect(!text.contains("PRIVATE KEY"))
        for line in keyLines { #expect(!text.contains(line)) }
    }
}

/// Contexts built from files: every unusable file is named with the problem.
@Suite struct Contexts {
    @Test func aMissingCertificateFileIsNamed() throws {
        #expect {
            try TLSContext.server(certificateFile: "/nonexistent/server.pem", keyFile: try DevCertificates.path("server.key"))
        } throws: { error in
            let failure = error as? TLSFailure
            return failure?.kind == .configuration && failure?.detail.contains("/nonexistent/server.pem") == true
                && failure?.detail.contains("No such file") == true
        }
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefused() throws {
        #expect {
            try TLSContext.server(certificateFile: try DevCertificates.path("server.pem"), keyFile: try DevCertificates.path("client-DEMO1.key"))
        } throws: { error in
            (error as? TLSFailure)?.detail.contains("does not match") == true
        }
    }

    @Test func aFileThatIsNoCertificateIsRefused() throws {
        #expect {
            try TLSContext.server(certificateFile: try DevCertificates.path("server.key"), keyFile: try DevCertificates.path("server.key"))
        } throws: { error in
            (error as? TLSFailure)?.detail.contains("cannot load the certificate chain") == true
        }
    }

    @Test func settingsComeFromTheEnvironmentWithAClearErrorWhenUnset() throws {
        #expect {
            try TLSServerSettings.fromEnvironment(["RTES_TLS_KEY": "/k"], service: "gateway.tls is on")
        } throws: { error in
            (error as? TLSFailure)?.detail == "gateway.tls is on but RTES_TLS_CERT is not set (the server certificate's PEM file)"
        }
        #expect {
            try TLSServerSettings.fromEnvironment(["RTES_TLS_CERT": "/c", "RTES_TLS_KEY": ""], service: "s")
        } throws: { error in
            (error as? TLSFailure)?.detail.contains("RTES_TLS_KEY is not set") == true
        }
        let settings = try TLSServerSettings.fromEnvironment(
            ["RTES_TLS_CERT": "/c", "RTES_TLS_KEY": "/k", "RTES_CA_CERT": "/ca"], service: "s")
        #expect(settings == TLSServerSettings(certificateFile: "/c", keyFile: "/k", clientCAFile: "/ca"))
        let client = TLSClientSettings.fromEnvironment(["RTES_CA_CERT": "/ca", "RTES_TLS_CLIENT_CERT": "/cc", "RTES_TLS_CLIENT_KEY": "/ck"])
        #expect(client == TLSClientSettings(caFile: "/ca", certificateFile: "/cc", keyFile: "/ck"))
    }

    @Test func aReloadServesNewConnectionsFromTheNewFilesAndKeepsTheOldOnFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-tls-reload-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/server.pem", key = directory + "/server.key"
        func install(_ name: String) throws {
            for (from, to) in [("\(name).pem", certificate), ("\(name).key", key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: try DevCertificates.path(from), toPath: to)
            }
        }
        try install("server")
        let source = try TLSContextSource(settings: TLSServerSettings(certificateFile: certificate, keyFile: key))
        let client = try TLSContext.client(caFile: try DevCertificates.path("ca.pem"))
        let before = ChannelPair(client: client, server: source.context)
        let beforeOutcome = before.handshake()
        #expect(beforeOutcome.client == .complete)

        try install("other-server")
        try source.reload()
        #expect(source.reloadCount == 1)
        let after = ChannelPair(client: client, server: source.context)
        _ = after.handshake()
        #expect(after.clientView.failure?.kind == .unknownCA)
        // The connection made before the reload carries on.
        let still = before.send("STILL HERE", fromClient: true).bytes
        #expect(still == Array("STILL HERE".utf8))

        try "not a certificate".write(toFile: certificate, atomically: true, encoding: .utf8)
        #expect(throws: TLSFailure.self) { try source.reload() }
        #expect(source.reloadCount == 1)
        let kept = ChannelPair(client: client, server: source.context)
        _ = kept.handshake()
        #expect(kept.clientView.failure?.kind == .unknownCA) // still the other-server context
    }

    @Test func theKernelTLSProbeAnswers() {
        // This VM has no kernel TLS; either answer is fine, a failed probe is not.
        let availability = KernelTLS.probe()
        #expect(availability == .absent || availability == .available, "\(availability)")
        #expect(KernelTLS.logLine().contains("OpenSSL"))
    }
}
