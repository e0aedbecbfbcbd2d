@testable import ExchangeConfig
import Testing

/// The `leadership` section: read, defaulted when absent, every key checked and named,
/// overridable from the environment like every other section.
@Suite struct LeadershipSettingsTests {
    @Test func withoutTheSectionTheDefaultsApply() throws {
        let leadership = try load(document("")).configuration.leadership
        #expect(leadership == LeadershipSettings())
        #expect(leadership.endpoints.map(\.description) == ["127.0.0.1:2379"])
        #expect(leadership.leaderKey == "/rtes/leader")
        #expect(leadership.leaseTTLSeconds == 5)
        #expect(leadership.candidateName.isEmpty)
        #expect(!leadership.configured, "without the section the exchange does not campaign")
    }

    @Test func everyLeadershipKeyIsRead() throws {
        let json = document(#"""
            "leadership": {"endpoints": "10.10.0.1:2379, 10.10.0.2:12379", "key_prefix": "/exchange/shard-1",
                           "candidate_name": "primary-a:8888", "lease_ttl_seconds": 2}
            """#)
        let leadership = try load(json).configuration.leadership
        #expect(leadership.endpoints.map(\.description) == ["10.10.0.1:2379", "10.10.0.2:12379"])
        #expect(leadership.leaderKey == "/exchange/shard-1/leader")
        #expect(leadership.candidateName == "primary-a:8888")
        #expect(leadership.leaseTTLSeconds == 2)
        #expect(leadership.configured)
        #expect(try load(document(#""leadership": {}"#)).configuration.leadership.configured, "an empty section is present")
    }

    @Test func everyLeadershipKeyHasARangeAndIsNamed() {
        for (key, bad) in [("endpoints", #""""#), ("endpoints", #""localhost:2379""#), ("endpoints", #""127.0.0.1""#),
                           ("endpoints", #""127.0.0.1:0""#), ("endpoints", #""127.0.0.1:2379,""#), ("endpoints", "2379"),
                           ("key_prefix", #""rtes""#), ("key_prefix", #""/rtes/""#), ("key_prefix", #""/""#), ("key_prefix", #""/a b""#),
                           ("candidate_name", #""has space""#), ("lease_ttl_seconds", "1"), ("lease_ttl_seconds", "61"),
                           ("lease_ttl_seconds", "2.5")] {
            let found = issues(document(#""leadership": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["leadership.\(key)"], "\(key): \(bad) → \(found)")
        }
        let endpoints = issues(document(#""leadership": {"endpoints": "localhost:2379"}"#))
        #expect(endpoints.first?.message.contains("IPv4 address:port, comma-separated") == true, "\(endpoints)")
        let ttl = issues(document(#""leadership": {"lease_ttl_seconds": 1}"#))
        #expect(ttl.first?.message.contains("from 2 to 60") == true, "\(ttl)")
        let typo = issues(document(#""leadership": {"lease_ttl": 3}"#))
        #expect(typo.first?.message.contains("did you mean lease_ttl_seconds?") == true, "\(typo)")
    }

    @Test func tooManyEndpointsAreRefused() {
        let list = (1...17).map { "127.0.0.1:\(2_000 + $0)" }.joined(separator: ",")
        #expect(issues(document(#""leadership": {"endpoints": "\#(list)"}"#)).paths == ["leadership.endpoints"])
    }

    @Test func theEnvironmentOverridesLeadershipKeys() throws {
        let loaded = try load(document(""), environment: ["RTES_LEADERSHIP_ENDPOINTS": "127.0.0.2:2379",
                                                        "RTES_LEADERSHIP_LEASE_TTL_SECONDS": "3"])
        #expect(loaded.configuration.leadership.endpoints.map(\.description) == ["127.0.0.2:2379"])
        #expect(loaded.configuration.leadership.leaseTTLSeconds == 3)
        #expect(loaded.configuration.leadership.configured, "an override makes the section present")
    }
}
