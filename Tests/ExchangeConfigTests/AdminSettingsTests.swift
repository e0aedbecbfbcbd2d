@testable import ExchangeConfig
import Testing

@Suite struct AdminSettingsTests {
    @Test func adminBoundsAreReadAndDefaultWhenAbsent() throws {
        let defaults = try load(document("")).configuration.admin
        #expect(defaults == AdminSettings())
        let json = document(#"""
            "admin": {"max_connections": 8, "idle_timeout_ms": 250, "max_header_bytes": 4096, "max_uri_bytes": 512,
                      "max_pipelined_requests": 4}
            """#)
        let admin = try load(json).configuration.admin
        #expect(admin.maxConnections == 8 && admin.idleTimeoutMilliseconds == 250 && admin.maxHeaderBytes == 4096)
        #expect(admin.maxURIBytes == 512 && admin.maxPipelinedRequests == 4)
    }

    @Test func everyAdminBoundHasARange() {
        for (key, bad) in [("max_connections", "0"), ("idle_timeout_ms", "10"), ("max_header_bytes", "100000"),
                           ("max_uri_bytes", "8"), ("max_pipelined_requests", "0")] {
            #expect(issues(document(#""admin": {"\#(key)": \#(bad)}"#)).paths == ["admin.\(key)"], "\(key)")
        }
    }

    @Test func theURIMustLeaveRoomInTheRequestHead() {
        let found = issues(document(#""admin": {"max_header_bytes": 2048, "max_uri_bytes": 2048}"#))
        #expect(found.paths == ["admin.max_uri_bytes"])
        #expect(found.first?.message.contains("lower max_uri_bytes below max_header_bytes (2048) or raise max_header_bytes") == true,
                "\(found)")
    }
}
