@testable import ExchangeConfig
import Testing

/// The `durability` section: read, defaulted to no journal when absent, every key checked and
/// named, overridable from the environment like every other section.
@Suite struct DurabilitySettingsTests {
    @Test func withoutTheSectionNothingIsJournaled() throws {
        let defaults = try load(document("")).configuration.durability
        #expect(defaults == DurabilitySettings())
        #expect(defaults.mode == .none)
        #expect(!defaults.mode.journals)
    }

    @Test func everyDurabilityKeyIsRead() throws {
        let json = document(#"""
            "durability": {"mode": "sync", "directory": "/var/lib/rtes/journal", "segment_bytes": 1048576, "io": "buffered",
                           "preallocate": "zeros", "sync_method": "dsync",
                           "group_commit_max_bytes": 65536, "ring_capacity": 4096, "retain": 3, "snapshot_interval_seconds": 60,
                           "stall_budget_ms": 40}
            """#)
        let durability = try load(json).configuration.durability
        #expect(durability.mode == .sync && durability.mode.gatesOutput)
        #expect(durability.directory == "/var/lib/rtes/journal")
        #expect(durability.segmentBytes == 1_048_576 && durability.io == .buffered && durability.groupCommitMaxBytes == 65_536)
        #expect(durability.ringCapacity == 4_096 && durability.retain == 3)
        #expect(durability.snapshotIntervalSeconds == 60 && durability.stallBudgetMilliseconds == 40)
        #expect(durability.preallocate == .zeros)
        #expect(try load(document(#""durability": {"mode": "sync"}"#)).configuration.durability.preallocate == .fallocate)
        #expect(durability.syncMethod == .dsync)
        #expect(try load(document(#""durability": {"mode": "sync"}"#)).configuration.durability.syncMethod == .fdatasync)
    }

    @Test func everyDurabilityKeyHasARangeAndIsNamed() {
        for (key, bad) in [("mode", #""fast""#), ("directory", #""""#), ("directory", "7"), ("segment_bytes", "1048577"),
                           ("segment_bytes", "65536"), ("io", #""mmap""#), ("preallocate", #""sparse""#), ("sync_method", #""osync""#), ("group_commit_max_bytes", "1000"),
                           ("ring_capacity", "3000"), ("retain", "-1"), ("snapshot_interval_seconds", "86401"),
                           ("stall_budget_ms", "0")] {
            let found = issues(document(#""durability": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["durability.\(key)"], "\(key): \(bad) → \(found)")
        }
        let mode = issues(document(#""durability": {"mode": "synk"}"#))
        #expect(mode.first?.message.contains(#"did you mean "sync"?"#) == true, "\(mode)")
        let segment = issues(document(#""durability": {"segment_bytes": 1048577}"#))
        #expect(segment.first?.message.contains("a multiple of 4096") == true, "\(segment)")
    }

    @Test func aGroupCommitMustFitInASegment() {
        let found = issues(document(#""durability": {"segment_bytes": 1048576, "group_commit_max_bytes": 1048576}"#))
        #expect(found.paths == ["durability.group_commit_max_bytes"])
        #expect(found.first?.message.contains("must fit in a segment after its 4096-byte header") == true, "\(found)")
    }

    @Test func theEnvironmentOverridesDurabilityKeys() throws {
        let loaded = try load(document(#""durability": {"mode": "sync"}"#),
                              environment: ["RTES_DURABILITY_MODE": "async", "RTES_DURABILITY_DIRECTORY": "/tmp/j",
                                            "RTES_DURABILITY_STALL_BUDGET_MS": "75"])
        #expect(loaded.configuration.durability.mode == .async)
        #expect(loaded.configuration.durability.directory == "/tmp/j")
        #expect(loaded.configuration.durability.stallBudgetMilliseconds == 75)
        let bad = issues(document(""), environment: ["RTES_DURABILITY_SEGMENT_BYTES": "12"])
        #expect(bad.paths == ["durability.segment_bytes"])
    }

    @Test func unknownDurabilityKeysAreNamed() {
        let found = issues(document(#""durability": {"segment_size": 1048576}"#))
        #expect(found.paths == ["durability.segment_size"], "\(found)")
    }
}
