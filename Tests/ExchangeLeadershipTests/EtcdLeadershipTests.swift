import ExchangeClock
import ExchangeConfig
import ExchangeLeadership
import Foundation
import Testing

extension EtcdSuites {
    /// Leadership against a real etcd, started by each test (TTL 2 s, the shortest etcd keeps
    /// as asked). Every wait is bounded; outcomes are read from etcd's own history.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct EtcdLeadershipTests {
        static let key = "/rtes-test/leader"

        @Test
        func oneCandidateWinsAndASecondFollowsIt() async throws {
            try await EtcdServer.with { server in
                // A 10 s lease: this test is about who leads and follows across renewals, not
                // about expiry; with 2 s, a test process stalled by the rest of a loaded full run
                // (seen: a minute) let alpha's lease lapse and beta win.
                let (alpha, _) = makeCandidate("alpha", on: server, key: Self.key, ttl: 10)
                let (beta, _) = makeCandidate("beta", on: server, key: Self.key, ttl: 10)
                let alphaRun = alpha.campaign()
                // 60 s bounds: on a loaded 2-core machine (a full run beside builds) a campaign's
                // thread was seen to take more than 20 s to follow; nothing here is about time.
                #expect(await eventually(within: .seconds(60)) { alpha.state.role == .leader })
                let betaRun = beta.campaign()
                #expect(await eventually(within: .seconds(60)) { beta.state.role == .follower && beta.state.leaderName == "alpha" })
                #expect(alpha.mayAcknowledge())
                #expect(!beta.mayAcknowledge())
                #expect(beta.state.fencingToken == alpha.state.fencingToken)
                #expect(alpha.gate.fencingToken == alpha.state.fencingToken)
                let (record, _) = try await server.client.get(key: Self.key, timeout: .seconds(2))
                #expect(record?.name == "alpha")
                #expect(record?.createRevision == alpha.state.fencingToken)
                // After three confirmed keepalives (each moves the lease deadline; together more than
                // one TTL), alpha leads under the same token and beta follows it. (Beta may be
                // between two watches at any one instant: a watch that ends makes it check the key
                // again, as a candidate, before it follows again.)
                let token = alpha.state.fencingToken
                var deadlines: Set<UInt64> = [alpha.state.leaseDeadlineTicks]
                #expect(await eventually(within: .seconds(60)) {
                    deadlines.insert(alpha.state.leaseDeadlineTicks)
                    return deadlines.count >= 4
                }, "keepalives confirmed: \(deadlines.count - 1)")
                #expect(await eventually(within: .seconds(20)) { alpha.state.role == .leader && alpha.state.fencingToken == token })
                #expect(await eventually(within: .seconds(20)) { beta.state.role == .follower && beta.state.leaderName == "alpha" })
                await betaRun.stop()
                await alphaRun.stop()
                #expect(alpha.state.role == .resigned)
                #expect(!alpha.mayAcknowledge())
                // Resigning revoked the lease: the key is gone at once.
                #expect(try await server.client.get(key: Self.key, timeout: .seconds(2)).record == nil)
            }
        }

        @Test func aResignedLeaderIsSucceededWithAHigherFencingToken() async throws {
            try await EtcdServer.with { server in
                let (alpha, _) = makeCandidate("alpha", on: server, key: Self.key)
                let (beta, betaLog) = makeCandidate("beta", on: server, key: Self.key)
                let alphaRun = alpha.campaign()
                #expect(await eventually(within: .seconds(20)) { alpha.state.role == .leader })
                let betaRun = beta.campaign()
                #expect(await eventually(within: .seconds(20)) { beta.state.role == .follower })
                let alphaToken = alpha.state.fencingToken
                await alphaRun.stop()
                #expect(!alpha.mayAcknowledge())
                // The follower wins without waiting for the TTL: the resignation deleted the key.
                #expect(await eventually(within: .seconds(20)) { beta.state.role == .leader })
                #expect(beta.state.fencingToken > alphaToken)
                #expect(beta.gate.fencingToken == beta.state.fencingToken)
                await betaRun.stop()
                #expect(betaLog.first(.leader) != nil)
                let (leaderships, problems) = checkLeaderships(in: try await history(of: Self.key, on: server))
                #expect(problems.isEmpty, "\(problems)")
                #expect(leaderships.map(\.name) == ["alpha", "beta"])
                #expect(leaderships.map(\.token) == [alphaToken, betaLog.first(.leader)?.state.fencingToken ?? 0])
            }
        }

        @Test(.enabled(if: LeaderTool.built, "rtes-leader is not built: run `swift build --build-tests`"))
        func aKilledLeaderIsSucceededAfterItsLeaseExpires() async throws {
            try await EtcdServer.with { server in
                let (process, out, err) = try LeaderTool.start([
                    "campaign", "--name", "alpha", "--endpoints", server.endpoint.description, "--key-prefix", "/rtes-test", "--ttl", "2",
                ])
                defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; _ = LeaderTool.finish(process, out, err) }
                #expect(await eventually(within: .seconds(10)) {
                    (try? await server.client.get(key: Self.key, timeout: .seconds(1)).record?.name) == "alpha"
                })
                let alphaToken = try await server.client.get(key: Self.key, timeout: .seconds(2)).record?.createRevision ?? 0
                let (beta, betaLog) = makeCandidate("beta", on: server, key: Self.key)
                let betaRun = beta.campaign()
                #expect(await eventually(within: .seconds(20)) { beta.state.role == .follower && beta.state.leaderName == "alpha" })
                // Kill the leader: its lease is left to expire.
                let killedAt = beta.clock.ticks()
                kill(process.processIdentifier, SIGKILL)
                #expect(await eventually(within: .seconds(10)) { beta.state.role == .leader })
                await betaRun.stop()
                let won = try #require(betaLog.first(.leader))
                #expect(won.state.fencingToken > alphaToken)
                let sawVacancy = betaLog.all.last { $0.state.role == .candidate && $0.ticks <= won.ticks }
                let fromKill = beta.clock.elapsedNanoseconds(from: killedAt, to: won.ticks) / 1_000_000
                let fromExpiry = sawVacancy.map { beta.clock.elapsedNanoseconds(from: $0.ticks, to: won.ticks) / 1_000 } ?? 0
                print("failover: kill -9 → new leader \(fromKill) ms; lease expiry (key deleted, seen by the follower) → new leader \(fromExpiry) µs")
                let (leaderships, problems) = checkLeaderships(in: try await history(of: Self.key, on: server))
                #expect(problems.isEmpty, "\(problems)")
                #expect(leaderships.map(\.name) == ["alpha", "beta"])
            }
        }

        @Test(.enabled(if: LeaderTool.built, "rtes-leader is not built: run `swift build --build-tests`"))
        func aCampaignStoppedBySIGTERMResignsAndPrintsItsTransitions() async throws {
            try await EtcdServer.with { server in
                let (process, out, err) = try LeaderTool.start([
                    "campaign", "--name", "alpha", "--endpoints", server.endpoint.description, "--key-prefix", "/rtes-test", "--ttl", "2",
                ])
                defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                #expect(await eventually(within: .seconds(10)) {
                    (try? await server.client.get(key: Self.key, timeout: .seconds(1)).record?.name) == "alpha"
                })
                let status = try LeaderTool.start(["status", "--endpoints", server.endpoint.description, "--key-prefix", "/rtes-test"])
                let statusRun = LeaderTool.finish(status.0, status.1, status.2)
                #expect(statusRun.status == 0)
                #expect(statusRun.output.contains("leader: alpha"))
                #expect(statusRun.output.contains("fencing token: "))
                kill(process.processIdentifier, SIGTERM)
                let run = LeaderTool.finish(process, out, err)
                #expect(run.status == 0, "\(run.errors)")
                #expect(run.output.contains(" leader leader=alpha"), "\(run.output)")
                #expect(run.output.contains(" resigned"), "\(run.output)")
                // The lease was revoked on the way out: no one holds the key.
                #expect(try await server.client.get(key: Self.key, timeout: .seconds(2)).record == nil)
            }
        }

        @Test func aLeaderCutOffFromEtcdReportsLostByItsOwnDeadline() async throws {
            try await EtcdServer.with { server in
                let (alpha, alphaLog) = makeCandidate("alpha", on: server, key: Self.key)
                let alphaRun = alpha.campaign()
                #expect(await eventually(within: .seconds(20)) { alpha.state.role == .leader })
                let first = alpha.state.leaseDeadlineTicks
                // At least one keepalive confirmed (the deadline moved), then etcd stops answering.
                #expect(await eventually(within: .seconds(3)) { alpha.state.leaseDeadlineTicks > first })
                server.pause()
                let pausedAt = alpha.clock.ticks()
                defer { server.resume() }
                #expect(await eventually(within: .seconds(5)) { alpha.state.role == .lost })
                #expect(!alpha.mayAcknowledge())
                // `state` reads lost from the gate at the deadline; the campaign's own report follows.
                #expect(await eventually(within: .seconds(5)) { alphaLog.first(.lost) != nil })
                let lost = try #require(alphaLog.first(.lost))
                let deadline = lost.state.leaseDeadlineTicks
                let ttl = alpha.clock.ticks(forNanoseconds: 2 * Clocks.nanosecondsPerSecond)
                // The deadline it lost by counts from a keepalive sent before etcd stopped: within
                // one TTL of the stop, never later.
                #expect(deadline > 0)
                #expect(deadline <= pausedAt + ttl)
                // It reported lost at that deadline, not before (give or take the scheduler).
                #expect(lost.ticks >= deadline)
                let late = alpha.clock.elapsedNanoseconds(from: deadline, to: lost.ticks) / 1_000_000
                #expect(late < 1_000, "reported lost \(late) ms after the deadline")
                print("lost after etcd stopped: \(alpha.clock.elapsedNanoseconds(from: pausedAt, to: lost.ticks) / 1_000_000) ms after the stop, \(late) ms after the deadline")
                #expect(lost.state.reason?.contains("not confirmed within its TTL") == true, "\(lost.state.reason ?? "")")
                server.resume()
                await alphaRun.stop()
            }
        }

        @Test func twoCandidatesCampaigningConcurrentlyNeverBothLead() async throws {
            try await EtcdServer.with { server in
                var claimed: [(name: String, token: Int64)] = []
                for _ in 0..<50 {
                    let (alpha, alphaLog) = makeCandidate("alpha", on: server, key: Self.key)
                    let (beta, betaLog) = makeCandidate("beta", on: server, key: Self.key)
                    let runs = [alpha.campaign(), beta.campaign()]
                    let someoneLeads = await eventually(within: .seconds(20)) { alpha.state.role == .leader || beta.state.role == .leader }
                    try #require(someoneLeads)
                    let winner = alpha.state.role == .leader ? 0 : 1
                    await runs[winner].stop()
                    #expect(await eventually(within: .seconds(20)) { [alpha, beta][1 - winner].state.role == .leader })
                    await runs[1 - winner].stop()
                    for (name, log) in [("alpha", alphaLog), ("beta", betaLog)] {
                        for entry in log.all where entry.state.role == .leader { claimed.append((name, entry.state.fencingToken)) }
                    }
                }
                let (leaderships, problems) = checkLeaderships(in: try await history(of: Self.key, on: server))
                #expect(problems.isEmpty, "\(problems)")
                #expect(leaderships.count == 100)
                // Every leadership a candidate claimed is one etcd recorded, under its name, and
                // the fencing tokens rise.
                let recorded = Dictionary(leaderships.map { ($0.token, $0.name) }, uniquingKeysWith: { first, _ in first })
                #expect(claimed.count == 100)
                for claim in claimed { #expect(recorded[claim.token] == claim.name, "\(claim)") }
                #expect(leaderships.map(\.token) == leaderships.map(\.token).sorted())
                #expect(Set(leaderships.map(\.token)).count == leaderships.count)
            }
        }

        @Test(.enabled(if: LeaderTool.built, "rtes-leader is not built: run `swift build --build-tests`"))
        func rtesLeaderNamesAnUnreachableEndpoint() throws {
            let port = try freeLoopbackPort()
            let (process, out, err) = try LeaderTool.start(["status", "--endpoints", "127.0.0.1:\(port)"])
            let run = LeaderTool.finish(process, out, err)
            #expect(run.status == 1)
            #expect(run.errors.contains("etcd is unreachable at 127.0.0.1:\(port)"), "\(run.errors)")
            #expect(run.errors.contains("connection refused"), "\(run.errors)")
            #expect(!run.errors.contains("Fatal error"))
            #expect(run.errors.split(separator: "\n").count == 1, "\(run.errors)")
        }
    }
}
