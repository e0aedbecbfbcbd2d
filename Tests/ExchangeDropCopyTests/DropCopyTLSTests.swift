import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// `rtes-dropcopy --pg-tls` against a PostgreSQL server of the test's own with `ssl=on` and a
/// certificate from configs/tls/make-dev-certs.sh, which takes TCP clients over TLS only
/// (`hostssl`): verify-full with the development CA stores the day, require connects without
/// checking; a CA that did not issue the server's certificate is refused, the reason logged and
/// retried; plain TCP is refused by the server; a CA file that is not PEM is a usage error.
@Suite(.serialized) struct DropCopyTLSTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var ready: Bool { DropCopyTests.ready && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built, openssl and \(LocalPostgres.unavailableReason)"))
    func verifyFullStoresTheDayOverTLSAndAnotherCAIsRefused() throws {
        let directory = try DropCopyTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = directory + "/certs"
        _ = try LocalPostgres.run("/bin/bash", [Self.repositoryRoot + "/configs/tls/make-dev-certs.sh", certificates])
        let postgres = try LocalPostgres(tls: (certificates + "/server.pem", certificates + "/server.key"))
        defer { postgres.remove() }
        let day = try DropCopyDay(in: directory, count: 2_000, seed: 53, perSegment: 1_000)

        // Plain TCP: the server takes none.
        let plain = try DropCopyTests.Store(day, postgres: postgres, arguments: ["--finished"], log: directory + "/plain.log")
        #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(100)) { plain.text.contains("(attempt 1)") },
                "no failed attempt logged over plain TCP: \(plain.text)")
        #expect(plain.text.contains("no encryption"), "the server's reason is not logged: \(plain.text)")
        plain.kill(SIGTERM)
        #expect(plain.exitStatus(within: 60) == 0, "\(plain.text)")

        // A CA that did not issue the server's certificate: the handshake fails, said and retried.
        let other = try DropCopyTests.Store(day, postgres: postgres, arguments: ["--finished", "--pg-tls", "verify-full",
                                                                                 "--pg-ca-file", certificates + "/other-ca.pem"],
                                            log: directory + "/other.log")
        #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(100)) { other.text.contains("(attempt 2)") },
                "no retried attempt logged with another CA: \(other.text)")
        #expect(other.text.contains("the TLS handshake with the server failed") && other.text.contains("CERTIFICATE_VERIFY_FAILED"),
                "the reason does not name the handshake and the certificate: \(other.text)")
        other.kill(SIGTERM)
        #expect(other.exitStatus(within: 60) == 0, "\(other.text)")
        let created = try postgres.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'rtes'")
        #expect(created == "0", "tables were created without a verified server: \(created)")

        let verified = try DropCopyTests.Store(day, postgres: postgres, arguments: ["--finished", "--pg-tls", "verify-full",
                                                                                    "--pg-ca-file", certificates + "/ca.pem"],
                                               log: directory + "/verified.log")
        #expect(verified.exitStatus(within: 180) == 0, "rtes-dropcopy over TLS did not exit 0 within 180 s: \(verified.text)")
        #expect(try DropCopyTests.stored(postgres) == day.expected, "\(verified.text)")
        #expect(verified.text.contains("(TLS verify-full"), "\(verified.text)")

        // require: encrypted, the certificate not checked; the day is stored already, so nothing is written.
        let required = try DropCopyTests.Store(day, postgres: postgres, arguments: ["--finished", "--pg-tls", "require"],
                                               log: directory + "/required.log")
        #expect(required.exitStatus(within: 180) == 0, "rtes-dropcopy --pg-tls require did not exit 0 within 180 s: \(required.text)")
        #expect(required.text.contains("0 orders, 0 executions, 0 trades written"), "\(required.text)")

        // A CA file that is not one: a usage error before any connection.
        let bad = try DropCopyTests.Store(day, postgres: postgres, arguments: ["--finished", "--pg-tls", "verify-full",
                                                                               "--pg-ca-file", day.keysPath],
                                          log: directory + "/bad.log")
        #expect(bad.exitStatus(within: 60) == 64, "\(bad.text)")
        #expect(bad.text.contains("--pg-tls verify-full: the CA file \(day.keysPath)"), "\(bad.text)")
    }
}
