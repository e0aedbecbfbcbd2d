import ExchangeConfig
@testable import ExchangeOps
import ExchangeTestSupport
import Glibc
import Testing

/// The web view's serving and bounds on an admin plane of its own (no engine, no symbols:
/// updates carry the counters; the Chromium test, .ci/webview, covers books and trades).
@Suite(.serialized) struct WebViewTests {
    func settings(on: Bool = true, viewers: Int = 8, bufferBytes: Int = 262_144) -> AdminSettings {
        var s = adminSettings()
        s.webView = on
        s.webViewMaxViewers = viewers
        s.webViewIntervalMilliseconds = 50
        s.webViewMaxBufferBytes = bufferBytes
        return s
    }

    func openView(_ plane: BoundedAdminPlane, receiveBuffer: Int32? = nil) throws -> RawHTTPConnection {
        let c = try RawHTTPConnection(port: plane.port, receiveBuffer: receiveBuffer)
        #expect(c.sendAll("GET /view/events HTTP/1.1\r\nHost: t\r\n\r\n"))
        return c
    }

    @Test func thePageAndItsEventsAreServedOnlyWhenOn() throws {
        let off = try BoundedAdminPlane(settings(on: false))
        #expect(off.statusLine("/view") == "HTTP/1.1 404 Not Found")
        #expect(off.statusLine("/view/events") == "HTTP/1.1 404 Not Found")
        off.stop()

        let plane = try BoundedAdminPlane(settings())
        defer { plane.stop() }
        let page = try RawHTTPConnection(port: plane.port)
        #expect(page.sendAll("GET /view HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
        let html = String(decoding: page.readUntilClosed().bytes, as: UTF8.self)
        #expect(html.hasPrefix("HTTP/1.1 200 OK"))
        #expect(html.contains("text/html"))
        #expect(html.contains(#"new EventSource("/view/events")"#))
        #expect(!html.contains("http://") || !html.contains("<script src"), "the page loads nothing from elsewhere")

        let view = try openView(plane)
        let first = view.readResponse(containing: "event: history\ndata: ")
        #expect(first?.contains("text/event-stream") == true, "\(first ?? "nothing")")
        // Then updates, each one JSON object with the counters and the latency histogram.
        let updates = view.readResponse(containing: "data: {\"time\":", deadline: Deadline(after: .seconds(10)))
        #expect(updates?.contains(#""latency":[[1,"#) == true, "\(updates ?? "nothing")")
        // No feed on this plane: the tape is sampled, and the update says so.
        #expect(updates?.contains(#""tapeSource":"sampled","feed":null"#) == true, "\(updates ?? "nothing")")
        #expect(plane.connections.open >= 1)
    }

    @Test func viewersBeyondTheCapAreRefusedAndASlotFreesWhenOneLeaves() throws {
        let plane = try BoundedAdminPlane(settings(viewers: 2))
        defer { plane.stop() }
        var views = try [openView(plane), openView(plane)]
        for v in views { #expect(v.readResponse(containing: "event: history") != nil) }
        let third = try openView(plane)
        let refused = String(decoding: third.readUntilClosed().bytes, as: UTF8.self)
        #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
        #expect(refused.contains("admin.web_view_max_viewers"))
        views.removeFirst()  // closes it: the plane notices at its next write
        #expect(waitUntil(timeout: .seconds(10)) { plane.connections.open == 1 })
        let again = try openView(plane)
        #expect(again.readResponse(containing: "event: history") != nil)
        _ = views
    }

    @Test func aViewerThatStopsReadingIsClosedWithAReason() throws {
        let plane = try BoundedAdminPlane(settings(bufferBytes: 16_384))
        defer { plane.stop() }
        let good = try openView(plane)
        let slow = try openView(plane, receiveBuffer: 4_096)  // never read
        #expect(good.readResponse(containing: "event: history") != nil)
        // ~0.5 KB every 50 ms until the kernel's buffers and the 16 KB mark are full.
        var buffer = [UInt8](repeating: 0, count: 65_536)
        #expect(waitUntil(timeout: .seconds(60)) {
            // The good view keeps reading meanwhile.
            while buffer.withUnsafeMutableBytes({ recv(good.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
            // The plane's count, not the slow socket: its FIN waits behind the unread bytes.
            return plane.connections.closed(.slowViewer) == 1
        })
        // The well-behaved view still gets updates.
        #expect(good.readResponse(containing: "data: {\"time\"", deadline: Deadline(after: .seconds(10))) != nil)
    }
}
