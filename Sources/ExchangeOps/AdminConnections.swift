import Synchronization

/// The admin plane's connection bookkeeping: how many are open (against
/// `admin.max_connections`) and why the plane closed the ones it closed. Shared by the accept
/// path and every connection; read by `/metrics`.
final class AdminConnections: Sendable {
    /// Why the admin plane closed a connection itself.
    enum Closure: CaseIterable, Sendable {
        /// Accepted while `admin.max_connections` were open: closed at once.
        case overLimit
        /// No complete request within `admin.idle_timeout_ms` (idle, or sending slowly).
        case idle
        /// More than `admin.max_pipelined_requests` requests waiting for their answers.
        case pipelined
        /// A request the plane could not accept (malformed, head or URI too long, wrong
        /// method): answered with a 4xx, then closed.
        case badRequest
        /// admin.tls on: the TLS handshake failed (not TLS, a refused protocol version, …) or a
        /// record did not decrypt: closed after OpenSSL's alert.
        case tlsFailed
        /// A web view (`/view/events`) still `admin.web_view_max_buffer_bytes` behind when its
        /// next update was due.
        case slowViewer

        var label: String {
            switch self {
            case .overLimit: "over_limit"
            case .idle: "idle_timeout"
            case .pipelined: "too_many_pipelined"
            case .badRequest: "bad_request"
            case .tlsFailed: "tls_failed"
            case .slowViewer: "slow_viewer"
            }
        }
    }

    let limit: Int
    private let openCount = Atomic<Int>(0)
    private let accepted = Atomic<UInt64>(0)
    private let overLimit = Atomic<UInt64>(0)
    private let idle = Atomic<UInt64>(0)
    private let pipelined = Atomic<UInt64>(0)
    private let badRequest = Atomic<UInt64>(0)
    private let tlsFailed = Atomic<UInt64>(0)
    private let slowViewer = Atomic<UInt64>(0)

    init(limit: Int) { self.limit = limit }

    /// Counts a newly accepted connection in, or refuses it (counted) when `limit` are open.
    func admit() -> Bool {
        accepted.add(1, ordering: .relaxed)
        let (_, open) = openCount.add(1, ordering: .relaxed)
        if open <= limit { return true }
        openCount.subtract(1, ordering: .relaxed)
        count(.overLimit)
        return false
    }

    /// An admitted connection closed.
    func release() { openCount.subtract(1, ordering: .relaxed) }

    func count(_ closure: Closure) {
        switch closure {
        case .overLimit: overLimit.add(1, ordering: .relaxed)
        case .idle: idle.add(1, ordering: .relaxed)
        case .pipelined: pipelined.add(1, ordering: .relaxed)
        case .badRequest: badRequest.add(1, ordering: .relaxed)
        case .tlsFailed: tlsFailed.add(1, ordering: .relaxed)
        case .slowViewer: slowViewer.add(1, ordering: .relaxed)
        }
    }

    var open: Int { openCount.load(ordering: .relaxed) }
    var acceptedTotal: UInt64 { accepted.load(ordering: .relaxed) }
    func closed(_ closure: Closure) -> UInt64 {
        switch closure {
        case .overLimit: overLimit.load(ordering: .relaxed)
        case .idle: idle.load(ordering: .relaxed)
        case .pipelined: pipelined.load(ordering: .relaxed)
        case .badRequest: badRequest.load(ordering: .relaxed)
        case .tlsFailed: tlsFailed.load(ordering: .relaxed)
        case .slowViewer: slowViewer.load(ordering: .relaxed)
        }
    }
}
