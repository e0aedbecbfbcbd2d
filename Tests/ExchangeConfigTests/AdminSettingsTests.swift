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

    @Test func theWebViewIsOffByDefaultAndItsBoundsAreRead() throws {
        #expect(try load(document("")).configuration.admin.webView == false)
        let admin = try load(document(#"""
            "admin": {"web_view": true, "web_view_max_viewers": 3, "web_view_interval_ms": 250, "web_view_levels": 5,
                      "web_view_max_buffer_bytes": 65536}
            """#)).configuration.admin
        #expect(admin.webView && admin.webViewMaxViewers == 3 && admin.webViewIntervalMilliseconds == 250)
        #expect(admin.webViewLevels == 5 && admin.webViewMaxBufferBytes == 65_536)
        for (key, bad) in [("web_view", "1"), ("web_view_max_viewers", "0"), ("web_view_interval_ms", "10"),
                           ("web_view_levels", "51"), ("web_view_max_buffer_bytes", "1024")] {
            #expect(issues(document(#""admin": {"\#(key)": \#(bad)}"#)).paths == ["admin.\(key)"], "\(key)")
        }
    }

    @Test func viewersAreAdminConnections() {
        let found = issues(document(#""admin": {"max_connections": 4, "web_view_max_viewers": 8}"#))
        #expect(found.paths == ["admin.web_view_max_viewers"])
        #expect(found.first?.message.contains("web_view_max_viewers (8) is more than max_connections (4)") == true, "\(found)")
    }
}
