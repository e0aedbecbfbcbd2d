@testable import ExchangeConfig
import Testing

/// `market_data.snapshot_tls` and `admin.tls`: off by default, "on" read from the file or the
/// environment (RTES_MARKET_DATA_SNAPSHOT_TLS, RTES_ADMIN_TLS), anything else refused by name.
@Suite struct TLSPortSettingsTests {
    @Test func theSnapshotAndAdminTLSKeysDefaultOffAndAreRead() throws {
        let defaults = try load(document("")).configuration
        #expect(defaults.marketData.snapshotTLS == .off && defaults.admin.tls == .off)
        let on = try load(document(#""market_data": {"snapshot_tls": "on"}, "admin": {"tls": "on"}"#)).configuration
        #expect(on.marketData.snapshotTLS == .on && on.admin.tls == .on)
        let fromEnvironment = try load(document(""), environment: ["RTES_MARKET_DATA_SNAPSHOT_TLS": "on", "RTES_ADMIN_TLS": "on"])
            .configuration
        #expect(fromEnvironment.marketData.snapshotTLS == .on && fromEnvironment.admin.tls == .on)
    }

    @Test func aValueOtherThanOffOrOnIsRefusedByName() {
        #expect(issues(document(#""market_data": {"snapshot_tls": "yes"}"#)).paths == ["market_data.snapshot_tls"])
        #expect(issues(document(#""admin": {"tls": true}"#)).paths == ["admin.tls"])
    }
}
