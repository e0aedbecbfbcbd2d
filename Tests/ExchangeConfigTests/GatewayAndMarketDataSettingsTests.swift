@testable import ExchangeConfig
import Testing

@Suite struct GatewayAndMarketDataSettingsTests {
    @Test func gatewayAndMarketDataSettingsAreReadWithTheirUnits() throws {
        let json = document(#"""
            "gateway": {"session_name": "DAY1", "max_connections": 16, "max_pre_login_connections": 12, "session_history_messages": 1024,
                        "send_queue_bytes": 65536, "heartbeat_interval_ms": 500, "idle_timeout_ms": 3000,
                        "login_timeout_ms": 1000, "max_messages_per_second": 5000, "token_history": 2048,
                        "recv_buffer_size": 2048, "recv_buffer_count": 64, "sqpoll": true, "shutdown_grace_ms": 0},
            "market_data": {"enabled": false, "interface": "10.0.0.5", "ttl": 0, "loopback": false,
                            "max_payload_bytes": 1200, "heartbeat_interval_ms": 250, "retransmit_port": 7001,
                            "retransmit_history_messages": 4096, "retransmit_max_requests_per_second": 10, "snapshot_port": 7002}
            """#)
        let configuration = try load(json).configuration
        let gateway = configuration.gateway
        #expect(gateway.sessionName == "DAY1" && gateway.maxConnections == 16 && gateway.sessionHistoryMessages == 1024)
        #expect(gateway.sendQueueBytes == 65536 && gateway.heartbeatIntervalMilliseconds == 500 && gateway.idleTimeoutMilliseconds == 3000)
        #expect(gateway.loginTimeoutMilliseconds == 1000 && gateway.maxMessagesPerSecond == 5000 && gateway.tokenHistory == 2048)
        #expect(gateway.receiveBufferSize == 2048 && gateway.receiveBufferCount == 64 && gateway.submissionQueuePolling)
        #expect(gateway.shutdownGraceMilliseconds == 0 && gateway.maxPreLoginConnections == 12)
        let feed = configuration.marketData
        #expect(!feed.enabled && feed.interface.description == "10.0.0.5" && feed.ttl == 0 && !feed.loopback)
        #expect(feed.maxPayloadBytes == 1200 && feed.heartbeatIntervalMilliseconds == 250 && feed.retransmitPort == 7001)
        #expect(feed.retransmitHistoryMessages == 4096 && feed.retransmitMaxRequestsPerSecond == 10 && feed.snapshotPort == 7002)
    }

    @Test func sessionNamesAreUpToTenLettersAndDigits() {
        #expect(issues(document(#""gateway": {"session_name": "ABCDEFGHIJ"}"#)).isEmpty)
        #expect(issues(document(#""gateway": {"session_name": ""}"#)).isEmpty)
        for bad in ["ABCDEFGHIJK", "DAY 1", "DAY-1", "DÄY"] {
            #expect(issues(document(#""gateway": {"session_name": "\#(bad)"}"#)).paths == ["gateway.session_name"], "\(bad)")
        }
    }

    @Test func sizesMustBePowersOfTwoWhereTheyIndexRings() {
        #expect(issues(document(#""gateway": {"session_history_messages": 1000}"#)).paths == ["gateway.session_history_messages"])
        #expect(issues(document(#""gateway": {"recv_buffer_count": 100}"#)).paths == ["gateway.recv_buffer_count"])
        #expect(issues(document(#""market_data": {"retransmit_history_messages": 5000}"#)).paths == ["market_data.retransmit_history_messages"])
        #expect(issues(document(#""gateway": {"max_connections": 0}"#)).paths == ["gateway.max_connections"])
        #expect(issues(document(#""market_data": {"max_payload_bytes": 65508}"#)).paths == ["market_data.max_payload_bytes"])
    }

    @Test func theIdleTimeoutMustOutlastTheHeartbeatInterval() {
        let found = issues(document(#""gateway": {"heartbeat_interval_ms": 2000, "idle_timeout_ms": 2000}"#))
        #expect(found.paths == ["gateway.idle_timeout_ms"])
        #expect(found.first?.message.hasPrefix("idle_timeout_ms (2000) must be longer than heartbeat_interval_ms (2000)") == true)
        let againstDefault = issues(document(#""gateway": {"heartbeat_interval_ms": 20000}"#))
        #expect(againstDefault.paths == ["gateway.heartbeat_interval_ms"])
    }

    @Test func connectionBoundsAreReadAndTheirCombinationsChecked() throws {
        let json = document(#"""
            "gateway": {"max_connections": 32, "max_pre_login_connections": 16, "max_pre_login_per_address": 2},
            "market_data": {"snapshot_max_connections": 8, "snapshot_max_pre_login_connections": 4,
                            "snapshot_max_pre_login_per_address": 1, "snapshot_login_timeout_ms": 250}
            """#)
        let configuration = try load(json).configuration
        #expect(configuration.gateway.maxPreLoginConnections == 16 && configuration.gateway.maxPreLoginPerAddress == 2)
        let feed = configuration.marketData
        #expect(feed.snapshotMaxConnections == 8 && feed.snapshotMaxPreLoginConnections == 4)
        #expect(feed.snapshotMaxPreLoginPerAddress == 1 && feed.snapshotLoginTimeoutMilliseconds == 250)
        // Defaults: a small pre-login share, a smaller one per address.
        let defaults = try load(minimalJSON).configuration
        #expect(defaults.gateway.maxPreLoginConnections == 64 && defaults.gateway.maxPreLoginPerAddress == 8)
        #expect(defaults.marketData.snapshotMaxPreLoginConnections == 8 && defaults.marketData.snapshotMaxPreLoginPerAddress == 4)
        // A share larger than the table it is a share of is an error naming the fix.
        let tooMany = issues(document(#""gateway": {"max_connections": 16, "max_pre_login_connections": 32}"#))
        #expect(tooMany.paths == ["gateway.max_pre_login_connections"])
        #expect(tooMany.first?.message.contains("raise max_connections") == true)
        let snapshotTooMany = issues(document(#""market_data": {"snapshot_max_connections": 4}"#))
        #expect(snapshotTooMany.paths == ["market_data.snapshot_max_connections"], "against the default share of 8")
        #expect(issues(document(#""market_data": {"snapshot_login_timeout_ms": 50}"#)).paths == ["market_data.snapshot_login_timeout_ms"])
        // The default share is lowered to a small max_connections without complaint.
        #expect(issues(document(#""gateway": {"max_connections": 16}"#)).isEmpty)
    }

    @Test func theFeedInterfaceIsAUnicastAddress() {
        #expect(issues(document(#""market_data": {"interface": "239.0.0.1"}"#)).paths == ["market_data.interface"])
        #expect(issues(document(#""market_data": {"interface": "localhost"}"#)).paths == ["market_data.interface"])
    }

    @Test func overridesReachTheNewSections() throws {
        let loaded = try load(minimalJSON, environment: ["RTES_GATEWAY_MAX_CONNECTIONS": "8", "RTES_MARKET_DATA_ENABLED": "false"])
        #expect(loaded.configuration.gateway.maxConnections == 8)
        #expect(!loaded.configuration.marketData.enabled)
    }
}
