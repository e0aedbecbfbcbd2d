/// The `admin` section: the bounds of the admin HTTP plane (`/metrics`, `/health`, …), so
/// that no client of it can take memory, descriptors or CPU from the exchange.
public struct AdminSettings: Sendable, Equatable {
    /// `max_connections`: admin connections open at once; one more is closed as it is accepted.
    public var maxConnections = 64
    /// `idle_timeout_ms`: a connection that has not completed a request this long after it
    /// opened or after its previous request is closed (slow senders included).
    public var idleTimeoutMilliseconds = 10_000
    /// `max_header_bytes`: a request's head (request line and header fields) at most; a
    /// longer one is answered 400 and the connection closed.
    public var maxHeaderBytes = 8_192
    /// `max_uri_bytes`: a request target at most; a longer one is answered 414 and the
    /// connection closed.
    public var maxURIBytes = 2_048
    /// `max_pipelined_requests`: requests a connection may have waiting for their answers to
    /// reach the kernel (a client that sends without reading); one more closes it.
    public var maxPipelinedRequests = 16
    /// `tls`: off (HTTP) or on (HTTPS: TLS 1.2/1.3 with the exchange's certificate and key,
    /// `RTES_TLS_CERT`/`RTES_TLS_KEY`; client certificates are not asked for).
    public var tls = TLSMode.off
    /// `web_view`: the read-only web view (`/view`, live over server-sent events at
    /// `/view/events`) on the admin plane's port (docs/WEBVIEW.md); off by default.
    public var webView = false
    /// `web_view_max_viewers`: live views open at once (each also an admin connection); one
    /// more is answered 503.
    public var webViewMaxViewers = 8
    /// `web_view_interval_ms`: the views are updated at most this often (changes in between
    /// are coalesced into the next update).
    public var webViewIntervalMilliseconds = 100
    /// `web_view_levels`: price levels per side in the ladder.
    public var webViewLevels = 10
    /// `web_view_max_buffer_bytes`: what one view may have waiting for the kernel; a view
    /// still that far behind when its next update is due is closed (`slow_viewer`).
    public var webViewMaxBufferBytes = 262_144

    /// The documented defaults.
    public init() {}
}
