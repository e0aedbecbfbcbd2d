@testable import ExchangeConfig
import Testing

/// The `emergency` section (docs/OPERATIONS.md, "Emergency triggers"): every trigger off by
/// default, each value's range, each action's choices, environment overrides, and a warning for
/// an action whose trigger is off.
@Suite struct EmergencySettingsTests {
    @Test func everyTriggerIsOffByDefault() throws {
        let defaults = try load(document("")).configuration.emergency
        #expect(defaults == EmergencySettings() && !defaults.anyOn && defaults.holdSeconds == 5)
    }

    @Test func theSectionIsRead() throws {
        let json = document(#"""
            "emergency": {"hold_seconds": 10, "memory_mb": 4096, "memory_action": "shutdown",
                          "reject_ratio": 0.25, "reject_ratio_action": "stop_new_orders",
                          "error_rate_per_second": 50, "error_rate_action": "alert",
                          "journal_lag_records": 100000, "journal_lag_action": "cancel_all_and_halt",
                          "replication_lag_records": 200000, "replication_lag_action": "stop_new_orders"}
            """#)
        let e = try load(json).configuration.emergency
        #expect(e.holdSeconds == 10 && e.memoryMB == 4_096 && e.memoryAction == .shutdown)
        #expect(e.rejectRatioTenThousandths == 2_500 && e.rejectRatioAction == .stopNewOrders)
        #expect(e.errorRatePerSecond == 50 && e.errorRateAction == .alert)
        #expect(e.journalLagRecords == 100_000 && e.journalLagAction == .cancelAllAndHalt)
        #expect(e.replicationLagRecords == 200_000 && e.replicationLagAction == .stopNewOrders && e.anyOn)
    }

    @Test func badValuesAreNamed() {
        for (key, bad) in [("hold_seconds", "3601"), ("hold_seconds", "-1"), ("memory_mb", "1.5"), ("reject_ratio", "1.5"),
                           ("reject_ratio", "0.00001"), ("error_rate_per_second", "\"10\""), ("journal_lag_records", "4294967296"),
                           ("replication_lag_records", "true"), ("memory_action", "\"panic\""), ("reject_ratio_action", "1"),
                           ("journal_lag_action", "\"halt\"")] {
            #expect(issues(document(#""emergency": {"\#(key)": \#(bad)}"#)).paths == ["emergency.\(key)"], "\(key) \(bad)")
        }
        let found = issues(document(#""emergency": {"memory_action": "panic", "reject_ratio": 2}"#))
        #expect(found.at("emergency.memory_action").first?.message.contains(#""alert", "stop_new_orders", "cancel_all_and_halt", "shutdown""#) == true,
                "\(found)")
        #expect(found.at("emergency.reject_ratio").first?.message.contains("a share from 0 (off) to 1") == true, "\(found)")
        #expect(issues(document(#""emergency": {"memroy_mb": 1}"#)).paths == ["emergency.memroy_mb"])
    }

    @Test func everyFieldHasAnEnvironmentOverride() throws {
        let e = try load(document(""), environment: ["RTES_EMERGENCY_MEMORY_MB": "2048", "RTES_EMERGENCY_MEMORY_ACTION": "shutdown",
                                                     "RTES_EMERGENCY_REJECT_RATIO": "0.5", "RTES_EMERGENCY_HOLD_SECONDS": "0"])
            .configuration.emergency
        #expect(e.memoryMB == 2_048 && e.memoryAction == .shutdown && e.rejectRatioTenThousandths == 5_000 && e.holdSeconds == 0)
        #expect(issues(document(""), environment: ["RTES_EMERGENCY_JOURNAL_LAG_ACTION": "reboot"]).paths == ["emergency.journal_lag_action"])
    }

    @Test func anActionForATriggerThatIsOffIsAWarning() throws {
        let loaded = try load(document(#""emergency": {"memory_action": "shutdown"}"#))
        #expect(loaded.warnings.map(\.path) == ["emergency.memory_action"])
        #expect(loaded.warnings.first?.message.contains("emergency.memory_mb is 0, so that trigger is off") == true, "\(loaded.warnings)")
        #expect(try load(document(#""emergency": {"memory_mb": 10, "memory_action": "shutdown"}"#)).warnings.isEmpty)
    }
}
