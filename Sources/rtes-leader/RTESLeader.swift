import ArgumentParser
import ExchangeClock
import ExchangeConfig
import ExchangeLeadership
import ExchangeTools
import Foundation

/// Operators' and tests' window on leadership through etcd: who leads, campaign for it,
/// depose the leader.
@main
struct RTESLeader: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-leader",
        abstract: "Who leads through etcd, campaign for leadership, resign it (docs/FAILOVER.md).",
        discussion: """
            etcd's address, the key prefix and the lease TTL come from the leadership section of \
            the configuration (--config FILE), else from the options, else the defaults \
            (127.0.0.1:2379, /rtes, 5 s). The leader key is <key_prefix>/leader. The exchange \
            itself does not campaign yet.

            Exit status: 0 done; 1 etcd could not be reached or refused; 64 bad command line or \
            configuration.
            """,
        version: RTESVersion.current,
        subcommands: [Status.self, Campaign.self, Resign.self])
}

/// Where etcd is and which key: from the configuration, overridden by options.
struct EtcdOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The exchange configuration (JSON); its leadership section is used.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("etcd client endpoints, address:port, comma-separated (overrides the configuration).", valueName: "list"))
    var endpoints: String?

    @Option(name: .customLong("key-prefix"), help: ArgumentHelp("The key prefix (overrides the configuration).", valueName: "prefix"))
    var keyPrefix: String?

    @Option(help: ArgumentHelp("Lease TTL in seconds, 2–60 (overrides the configuration).", valueName: "seconds"))
    var ttl: Int?

    func validate() throws {
        if let endpoints, LeadershipSettings.parseEndpoints(endpoints) == nil {
            throw ValidationError("--endpoints \"\(endpoints)\": 1 to \(LeadershipSettings.maximumEndpoints) IPv4 address:port, comma-separated, e.g. 127.0.0.1:2379")
        }
        if let keyPrefix, !LeadershipSettings.isValidKeyPrefix(keyPrefix) {
            throw ValidationError("--key-prefix \"\(keyPrefix)\": starts with '/', does not end with one, 2–256 printable ASCII characters without spaces")
        }
        if let ttl, !LeadershipSettings.ttlSecondsRange.contains(ttl) {
            throw ValidationError("--ttl \(ttl): a whole number of seconds from 2 to 60")
        }
    }

    /// The settings in force; exits with status 64 when the configuration cannot be used.
    func settings() -> LeadershipSettings {
        var settings = LeadershipSettings()
        if let config {
            do {
                settings = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
                    .configuration.leadership
            } catch {
                fail("\(config) cannot be used:\n\(error)", status: 64)
            }
        }
        if let endpoints { settings.endpoints = LeadershipSettings.parseEndpoints(endpoints) ?? settings.endpoints }
        if let keyPrefix { settings.keyPrefix = keyPrefix }
        if let ttl { settings.leaseTTLSeconds = ttl }
        return settings
    }
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("rtes-leader: \(message)\n".utf8))
    exit(status)
}

/// The time a line is printed at: UTC with milliseconds, so that lines of several
/// processes can be put side by side.
func stamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var parts = tm()
    var seconds = now.tv_sec
    gmtime_r(&seconds, &parts)
    return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(now.tv_nsec / 1_000_000))
}

/// One line on standard output, unbuffered (transitions must be seen as they happen, also
/// through a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension RTESLeader {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print who leads, the fencing token and the lease's time left.")

        @OptionGroup var etcd: EtcdOptions

        func run() async throws {
            let settings = etcd.settings()
            let client = EtcdClient(endpoints: settings.endpoints)
            do {
                let (record, revision) = try await client.get(key: settings.leaderKey, timeout: .seconds(2))
                guard let record else {
                    print("no leader: \(settings.leaderKey) is absent (etcd revision \(revision))")
                    return
                }
                print("leader: \(record.name)")
                print("fencing token: \(record.createRevision) (the leader key's create revision)")
                if let lease = try await client.timeToLive(lease: record.lease, timeout: .seconds(2)) {
                    print("lease: \(String(record.lease, radix: 16)), \(lease.remaining) s of \(lease.granted) s left")
                } else {
                    print("lease: \(String(record.lease, radix: 16)), expired")
                }
                print("etcd revision: \(revision)")
            } catch {
                fail("\(error)", status: 1)
            }
        }
    }

    struct Campaign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Campaign for leadership and hold it until SIGTERM or SIGINT, printing each transition.",
            discussion: """
                Each transition is one line: the UTC time, the role (candidate, follower, leader, \
                lost, resigned), the leader, the fencing token and the reason. On SIGTERM or \
                SIGINT it stops acknowledging (were it a leader) and revokes its lease, so that \
                a follower takes over at once.
                """)

        @OptionGroup var etcd: EtcdOptions

        @Option(help: ArgumentHelp("The name (or address) to campaign under (default: the configuration's candidate_name, else the host name).",
                                   valueName: "name"))
        var name: String?

        func validate() throws {
            if let name, name.isEmpty || !LeadershipSettings.isValidCandidateName(name) {
                throw ValidationError("--name \"\(name)\": 1 to 128 printable ASCII characters without spaces")
            }
        }

        func run() async throws {
            let settings = etcd.settings()
            let candidateName = name ?? (settings.candidateName.isEmpty ? ProcessInfo.processInfo.hostName : settings.candidateName)
            let client = EtcdClient(endpoints: settings.endpoints)
            let clock = TSCClock.calibrated(.monotonic)
            say("\(stamp()) campaigning as \(candidateName) for \(settings.leaderKey) at \(client.endpointList), lease \(settings.leaseTTLSeconds) s")
            let candidate = LeaderCandidate(
                client: client, key: settings.leaderKey, name: candidateName, ttlSeconds: Int64(settings.leaseTTLSeconds), clock: clock
            ) { state in
                say("\(stamp()) \(state)")
            }
            let campaign = candidate.campaign()
            signal(SIGTERM, SIG_IGN)
            signal(SIGINT, SIG_IGN)
            let sources = [SIGTERM, SIGINT].map { number in
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { campaign.cancel() }
                source.resume()
                return source
            }
            await campaign.finished()
            for source in sources { source.cancel() }
        }
    }

    struct Resign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Depose the current leader: revoke its lease, which deletes the leader key.",
            discussion: """
                The deposed leader learns it at its next keepalive (within a third of the TTL) and \
                reports lost, but a follower may win before that: for a clean handover stop the \
                leader with SIGTERM instead, which stops its acknowledgements before it revokes. \
                With --name, only a leader of that name is deposed.
                """)

        @OptionGroup var etcd: EtcdOptions

        @Option(help: ArgumentHelp("Depose the leader only if it is this one.", valueName: "name"))
        var name: String?

        func run() async throws {
            let settings = etcd.settings()
            let client = EtcdClient(endpoints: settings.endpoints)
            do {
                let (record, _) = try await client.get(key: settings.leaderKey, timeout: .seconds(2))
                guard let record else {
                    print("no leader: \(settings.leaderKey) is absent")
                    return
                }
                if let name, record.name != name {
                    fail("the leader is \(record.name), not \(name): nothing revoked", status: 1)
                }
                try await client.revoke(lease: record.lease, timeout: .seconds(2))
                print("revoked the lease of \(record.name) (fencing token \(record.createRevision))")
            } catch {
                fail("\(error)", status: 1)
            }
        }
    }
}
