import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

extension EtcdSuites {
    /// The load generator fails over mid-run (docs/FAILOVER.md, "rtes-loadgen"): its
    /// connection to a primary killed with SIGKILL resumes on the promoted standby, and every
    /// request is accounted for — answered (by either primary, the replay included) or counted
    /// as of unknown outcome — with nothing answered twice. Two `trading_exchange` processes
    /// (the primary in sync replication) and an etcd started by the test; every wait bounded.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct LoadgenFailoverTests {
        typealias Child = EtcdSuites.PromotionTests.Child
        typealias Trade = EtcdSuites.FailoverClientTests

        final class Outcome: @unchecked Sendable {
            var report: LoadReport?
            var error: String?
            let finished = DispatchSemaphore(value: 0)
        }

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: EtcdSuites.PromotionTests.executable.path),
                       "trading_exchange is not built: run `swift build --build-tests`"))
        func theLoadGeneratorFailsOverToThePromotedStandbyAndAccountsForEveryRequest() async throws {
            try await EtcdServer.with { etcd in
                let place = try EtcdSuites.PromotionTests.Place()
                let a = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let b = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let primary = try Child(place, name: "primary-a", json: Trade.json(place, etcd, name: "primary-a", ports: a, role: .primary,
                                                                                  primaryReplicationPort: a.replication))
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    primary.counter("gateway", "listening") == 1 || !primary.process.isRunning
                })
                try #require(primary.counter("gateway", "listening") == 1, "the primary does not serve: \(primary.output.suffix(3_000))")
                let standby = try Child(place, name: "standby-b", json: Trade.json(place, etcd, name: "standby-b", ports: b, role: .standby,
                                                                                  primaryReplicationPort: a.replication))
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    standby.counter("replication", "connected") == 1 || !standby.process.isRunning
                })
                try #require(standby.counter("replication", "connected") == 1, "the standby did not connect: \(standby.output.suffix(2_000))")

                let orders = 4_000
                var plan = LoadPlan(port: a.tcp, accounts: LoadPlan.devAccounts(2), pacing: .closedLoop(window: 8), requests: orders,
                                    mix: LoadMix(rest: 100, take: 0, cancel: 0), maxResting: 16_384, seed: 11, tokenPrefix: "LGFO",
                                    idle: .block, drainTimeout: .seconds(10), cleanup: false)
                plan.backups = [ExchangeAddress(port: b.tcp)]
                plan.failover = FailoverPolicy(maximumAttempts: 300, initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100),
                                               loginTimeout: .seconds(10))
                let outcome = Outcome()
                let finalPlan = plan
                let thread = Thread {
                    do {
                        outcome.report = try LoadGenerator.run(finalPlan, clock: .calibrated(.monotonic))
                    } catch {
                        outcome.error = "\(error)"
                    }
                    outcome.finished.signal()
                }
                thread.start()
                // Under load: killed once a quarter of the orders are journaled.
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(2)) {
                    primary.counter("journal", "durable_sequence") >= UInt64(orders / 4) || !primary.process.isRunning
                })
                primary.kill()
                primary.process.waitUntilExit()
                try #require(outcome.finished.wait(timeout: .now() + 120) == .success,
                             "the load generator did not finish within 120 s: \(standby.output.suffix(3_000))")
                let report = try #require(outcome.report, "\(outcome.error ?? "")")
                let t = report.tally
                print("LoadgenFailoverTests: \(t.requests) requests, accepted \(t.accepted), rejected \(t.rejected), failovers \(t.failovers), "
                      + "in flight \(t.inFlightAtFailover), unknown outcome \(t.unknownOutcome); \(report.failovers)")
                #expect(report.failures.isEmpty, "\(report.failures)\n\(standby.output.suffix(2_000))")
                #expect(t.failovers == 2, "each of the two connections fails over once: \(report.failovers)")
                #expect(report.failovers.allSatisfy { $0.contains("127.0.0.1:\(b.tcp)") }, "\(report.failovers)")
                #expect(t.requests == orders)
                // Every order answered exactly once (nothing unexpected: no answer twice) or of unknown outcome.
                #expect(t.unexpected == 0)
                #expect(t.outstanding == 0)
                #expect(t.accepted + t.rejected + t.unknownOutcome == orders, "accepted \(t.accepted) rejected \(t.rejected) unknown \(t.unknownOutcome)")
                #expect(t.unknownOutcome <= t.inFlightAtFailover && t.inFlightAtFailover <= 2 * 8)
                #expect(t.accepted > orders / 4)
                standby.kill(SIGTERM)
                standby.process.waitUntilExit()
                #expect(standby.output.contains("promoted: serving as primary"), "\(standby.output.suffix(3_000))")
            }
        }
    }
}
