@testable import ExchangeConfig
import Testing

/// `durability.replication` and the `replication` section: defaulted when absent, every key
/// read and checked, and the combinations that cannot work refused with what to change.
@Suite struct ReplicationSettingsTests {
    @Test func withoutTheSectionTheDefaultsApply() throws {
        let configuration = try load(document("")).configuration
        #expect(configuration.durability.replication == .none)
        #expect(configuration.replication == ReplicationSettings())
        #expect(configuration.replication.role == .primary)
        #expect(configuration.replication.listenPort == 9_100)
        #expect(configuration.replication.primary.description == "127.0.0.1:9100")
        #expect(configuration.replication.syncAcknowledgement == .durable)
        #expect(configuration.replication.onDivergence == .refuse)
        #expect(configuration.replication.yieldMicroseconds == 0)
    }

    @Test func everyReplicationKeyIsRead() throws {
        let json = document(#"""
            "durability": {"mode": "sync", "replication": "sync"},
            "replication": {"role": "standby", "listen_address": "127.0.0.2", "listen_port": 9200,
                            "primary": "10.0.0.1:9300", "sync_ack": "received", "on_divergence": "move_aside",
                            "yield_us": 200}
            """#)
        let configuration = try load(json).configuration
        #expect(configuration.durability.replication == .sync)
        #expect(configuration.replication.role == .standby)
        #expect(configuration.replication.listenAddress.description == "127.0.0.2")
        #expect(configuration.replication.listenPort == 9_200)
        #expect(configuration.replication.primary.description == "10.0.0.1:9300")
        #expect(configuration.replication.syncAcknowledgement == .received)
        #expect(configuration.replication.onDivergence == .moveAside)
        #expect(configuration.replication.yieldMicroseconds == 200)
    }

    @Test func badValuesAreNamed() {
        for (key, bad) in [("role", #""leader""#), ("listen_address", #""localhost""#), ("listen_port", "0"), ("listen_port", "70000"),
                           ("primary", #""localhost:9100""#), ("primary", #""127.0.0.1""#), ("primary", #""127.0.0.1:0""#),
                           ("sync_ack", #""written""#), ("on_divergence", #""truncate""#),
                           ("yield_us", "100001"), ("yield_us", "-1"), ("yield_us", "1.5")] {
            let found = issues(document(#""durability": {"mode": "sync"}, "replication": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["replication.\(key)"], "\(key): \(bad) → \(found)")
        }
        let mode = issues(document(#""durability": {"mode": "sync", "replication": "synchronous"}"#))
        #expect(mode.paths == ["durability.replication"])
        #expect(mode.first?.message.contains(#"one of "none", "async", "sync""#) == true, "\(mode)")
        let ack = issues(document(#""replication": {"sync_ack": "recieved"}"#))
        #expect(ack.first?.message.contains(#"did you mean "received"?"#) == true, "\(ack)")
    }

    @Test func combinationsThatCannotWorkAreRefusedWithWhatToChange() {
        let noJournal = issues(document(#""durability": {"replication": "async"}"#))
        #expect(noJournal.paths == ["durability.replication"])
        #expect(noJournal.first?.message.contains("set durability.mode to async or sync") == true, "\(noJournal)")
        let asyncDisk = issues(document(#""durability": {"mode": "async", "replication": "sync"}"#))
        #expect(asyncDisk.paths == ["durability.replication"])
        #expect(asyncDisk.first?.message.contains("set durability.mode to sync") == true, "\(asyncDisk)")
        let idleStandby = issues(document(#""durability": {"mode": "async"}, "replication": {"role": "standby"}"#))
        #expect(idleStandby.paths == ["replication.role"])
        let clash = issues(document(#""durability": {"mode": "async", "replication": "async"}, "replication": {"listen_port": 8080}"#))
        #expect(clash.paths == ["replication.listen_port"] || clash.paths == ["exchange.tcp_port"], "\(clash)")
        #expect(clash.first?.message.contains("every port the exchange listens on must differ") == true, "\(clash)")
        // A standby does not listen on the replication port: no clash.
        #expect(issues(document(#""durability": {"mode": "async", "replication": "async"}, "replication": {"role": "standby", "listen_port": 8080}"#)).isEmpty)
    }

    @Test func theEnvironmentOverridesReplicationKeys() throws {
        let loaded = try load(document(#""durability": {"mode": "sync"}"#),
                              environment: ["RTES_DURABILITY_REPLICATION": "async", "RTES_REPLICATION_ROLE": "standby",
                                            "RTES_REPLICATION_PRIMARY": "127.0.0.3:9100"])
        #expect(loaded.configuration.durability.replication == .async)
        #expect(loaded.configuration.replication.role == .standby)
        #expect(loaded.configuration.replication.primary.description == "127.0.0.3:9100")
    }
}
