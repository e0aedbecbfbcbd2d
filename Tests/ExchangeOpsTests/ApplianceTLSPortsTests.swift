import ExchangeOps
import ExchangeTestRig
import Foundation
import Glibc
import Testing

/// The whole exchange with market_data.snapshot_tls and admin.tls on (from the configuration,
/// certificates from the environment, mutual TLS on the snapshot port): `rtes-feed --tls`
/// starts from a snapshot with its account's certificate and is refused with another
/// account's; curl scrapes /metrics over HTTPS; SIGHUP's reload names every TLS port.
@Suite(.serialized) struct ApplianceTLSPorts {
    static func executable(_ name: String) -> URL {
        // The test bundle sits in the build directory beside the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }

    static var feedBuilt: Bool { FileManager.default.isExecutableFile(atPath: executable("rtes-feed").path) }

    /// A feed port of this process's own: another exchange on the host publishing to the
    /// shared default would look like a restart to rtes-feed (and make it rejoin).
    static let udpPort = 20_000 + Int(getpid() % 20_000)

    func exchange() throws -> TestExchange {
        var knobs = ExchangeKnobs()
        knobs.udpPort = Self.udpPort
        knobs.snapshotTLS = "on"
        knobs.adminTLS = "on"
        knobs.environment = [
            "RTES_TLS_CERT": try AdminTLS.file("server.pem"), "RTES_TLS_KEY": try AdminTLS.file("server.key"),
            "RTES_CA_CERT": try AdminTLS.file("ca.pem"),
        ]
        return try TestExchange(knobs)
    }

    /// The test exchange's configuration with the ports it bound, for rtes-feed.
    func feedConfiguration(_ exchange: TestExchange) throws -> String {
        var knobs = ExchangeKnobs()
        knobs.udpPort = Self.udpPort
        knobs.snapshotTLS = "on"
        let json = knobs.json.replacingOccurrences(
            of: #""market_data": {"#,
            with: #""market_data": { "snapshot_port": \#(exchange.appliance.snapshotPort), "retransmit_port": \#(exchange.appliance.retransmitPort),"#)
        let path = NSTemporaryDirectory() + "rtes-feed-tls-\(getpid())-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// rtes-feed to its end (it stops after `--seconds`), bounded.
    func feed(_ arguments: [String], user: String, certificateOf owner: String) throws -> (status: Int32, output: String) {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }.merging([
            "RTES_FEED_PASSWORD": Credentials.password(user), "RTES_CA_CERT": try AdminTLS.file("ca.pem"),
            "RTES_TLS_CLIENT_CERT": try AdminTLS.file("client-\(owner).pem"), "RTES_TLS_CLIENT_KEY": try AdminTLS.file("client-\(owner).key"),
        ]) { $1 }
        return AdminPeer.run(Self.executable("rtes-feed").path, arguments, timeout: 60, environment: environment)
    }

    @Test(.enabled(if: feedBuilt, "rtes-feed is not built: run `swift build --build-tests`"))
    func rtesFeedStartsFromASnapshotOverMutualTLSAndIsRefusedWithAnotherAccountsCertificate() throws {
        let exchange = try exchange()
        defer { exchange.drain() }
        let config = try feedConfiguration(exchange)
        defer { unlink(config) }
        // %u: each account's own certificate.
        let own = try feed([config, "--tls", "--snapshot", "DEMO1", "--seconds", "1"], user: "DEMO1", certificateOf: "%u")
        #expect(own.status == 0, "\(own.output)")
        #expect(own.output.contains("rtes-feed: snapshot loaded"), "\(own.output)")

        // DEMO1's certificate for DEMO2: refused by the snapshot service, and said so.
        let other = try feed([config, "--tls", "--snapshot", "DEMO2", "--seconds", "1"], user: "DEMO2", certificateOf: "DEMO1")
        #expect(other.status == 1, "\(other.output)")
        #expect(other.output.contains("login rejected: A"), "\(other.output)")

        let final = exchange.drain()
        #expect(final.marketData["snapshots_served"] == 1)
        #expect(final.marketData["snapshot_logins_rejected"] == 1)
        #expect(final.marketData["snapshot_tls_failures"] == 0)
    }

    @Test func aPortWithTLSOnAndNoCertificateStopsTheStartNamingThePortAndTheVariable() throws {
        for (port, set) in [("market_data.snapshot_tls", { (k: inout ExchangeKnobs) in k.snapshotTLS = "on" }),
                            ("admin.tls", { (k: inout ExchangeKnobs) in k.adminTLS = "on" })] {
            var knobs = ExchangeKnobs()
            set(&knobs)
            do {
                let exchange = try TestExchange(knobs)
                exchange.drain()
                Issue.record("\(port) on without RTES_TLS_CERT started")
            } catch {
                let text = "\(error)"
                #expect(text.contains("\(port) is on") && text.contains("RTES_TLS_CERT is not set"), "\(text)")
            }
        }
    }

    @Test(.enabled(if: AdminTLS.curl != nil, "curl is not installed"))
    func theAdminPlaneServesMetricsOverHTTPSAndAReloadNamesEveryTLSPort() throws {
        let exchange = try exchange()
        defer { exchange.drain() }
        let port = try #require(exchange.appliance.admin?.port)
        let metrics = AdminPeer.run(AdminTLS.curl!, ["-sS", "--max-time", "30", "--cacert", try AdminTLS.file("ca.pem"),
                                                     "https://127.0.0.1:\(port)/metrics"], timeout: 60)
        #expect(metrics.status == 0, "\(metrics.output)")
        #expect(metrics.output.contains("rtes_md_snapshot_tls_failures_total 0"), "\(metrics.output)")
        let reload = exchange.appliance.reloadTLS()
        #expect(reload.contains("new snapshot connections use") && reload.contains("new admin connections use"), "\(reload)")
        #expect(!reload.contains("failed"), "\(reload)")
    }
}
