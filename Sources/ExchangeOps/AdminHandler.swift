import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One admin connection's requests and answers, behind NIO's HTTP/1 decoder (whose limits
/// bound the request head: `admin.max_header_bytes`) and its pipelining handler (which holds a
/// request back until the answer before it is written).
///
/// Bounds, so that no client of the admin plane can take memory or a descriptor for good:
/// - it reads no more from the socket while an answer waits for the kernel to take it (a
///   client that sends without reading fills its own socket buffers, not the exchange's
///   memory), and a request beyond `admin.max_pipelined_requests` such answers closes it;
/// - a connection that has not completed a request within `admin.idle_timeout_ms` of opening
///   or of its previous answer is closed — whether silent or sending one byte at a time
///   (an idle-state handler would not do: every slow byte would reset its read timer);
/// - a URI longer than `admin.max_uri_bytes` is answered 414, a malformed or oversize head
///   400; every 4xx answer closes the connection (its write side at once, the rest within a
///   second: `refuse`).
final class AdminHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: AdminState
    private let pool: NIOThreadPool
    private let settings: AdminSettings
    private let connections: AdminConnections
    private var request: HTTPRequestHead?
    /// Requests taken whose answers the kernel has not yet taken in full.
    private var unanswered = 0
    /// A read the channel asked for while answers were waiting; issued when they are gone.
    private var readPending = false
    /// When the connection opened, last completed a request or last had an answer taken.
    private var lastProgress = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    private var closing = false
    /// The web view (admin.web_view on), and whether this connection is one of its live views
    /// (`/view/events`: an answer that does not end, written by the hub).
    private let webView: WebViewHub?
    private var streaming = false

    init(state: AdminState, pool: NIOThreadPool, settings: AdminSettings, connections: AdminConnections, webView: WebViewHub? = nil) {
        self.state = state
        self.pool = pool
        self.settings = settings
        self.connections = connections
        self.webView = webView
    }

    private var idleTimeout: TimeAmount { .milliseconds(Int64(settings.idleTimeoutMilliseconds)) }

    func handlerAdded(context: ChannelHandlerContext) {
        lastProgress = .now()
        scheduleIdleCheck(context, at: lastProgress + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        if streaming { webView?.remove(ObjectIdentifier(self)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if streaming { webView?.remove(ObjectIdentifier(self)) }
        context.fireChannelInactive()
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard !streaming else { return }  // a live view: bounded by its buffer instead
            let due = lastProgress + idleTimeout
            if NIODeadline.now() >= due {
                close(context, because: .idle)
            } else {
                scheduleIdleCheck(context, at: due)
            }
        }
    }

    private func close(_ context: ChannelHandlerContext, because reason: AdminConnections.Closure) {
        guard !closing else { return }
        closing = true
        connections.count(reason)
        context.close(promise: nil)
    }

    /// After a 4xx answer: the write side closes once the answer is out (FIN), and whatever
    /// the client still sends is read and dropped until it closes too or a second passes.
    /// Closing at once with unread bytes would make the kernel reset the connection, and
    /// the client could lose the answer that says what it did wrong.
    private func refuse(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        connections.count(.badRequest)
        context.close(mode: .output, promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        if readPending {
            readPending = false
            context.read()
        }
    }

    // MARK: Reading

    func read(context: ChannelHandlerContext) {
        if unanswered > 0 && !closing {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            lastProgress = .now()
            guard unanswered < settings.maxPipelinedRequests else { return close(context, because: .pipelined) }
            unanswered += 1
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // NIO's HTTPServerProtocolErrorHandler has answered a malformed or oversize request
        // 400 already (HTTPParserError); anything else (a reset, say) gets no answer. Either
        // way the connection is closed.
        guard !closing else { return }  // a refused connection's late bytes
        if error is HTTPParserError {
            refuse(context)
        } else {
            closing = true
            context.close(promise: nil)
        }
    }

    // MARK: Answering

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.uri.utf8.count <= settings.maxURIBytes else {
            return send(context, head, .uriTooLong,
                        json: #"{"error":"URI longer than \#(settings.maxURIBytes) bytes (admin.max_uri_bytes)"}"#)
        }
        let (path, query) = split(head.uri)
        if path.hasPrefix("/trading/") || path.hasPrefix("/admin/") || path.hasPrefix("/emergency/") {
            guard head.method == .POST else {
                return send(context, head, .methodNotAllowed, json: #"{"error":"method not allowed","allowed":["POST"]}"#)
            }
            return writeAction(path, query: query, head: head, context: context)
        }
        guard head.method == .GET || head.method == .HEAD else {
            return send(context, head, .methodNotAllowed, json: #"{"error":"method not allowed","allowed":["GET","HEAD"]}"#)
        }
        switch path {
        case "/metrics":
            send(context, head, .ok, body: state.metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/health":
            let report = state.healthReport()
            let checks = report.checks.map { #""\#($0.name)":{"status":"\#($0.check.status.rawValue)","detail":\#(quote($0.check.detail))}"# }
            send(context, head, report.status == .unhealthy ? .serviceUnavailable : .ok,
                 json: #"{"status":"\#(report.status.rawValue)","checks":{\#(checks.joined(separator: ","))}}"#)
        case "/ready":
            let readiness = state.readiness()
            let reason = readiness.reason.map { #","reason":\#(quote($0))"# } ?? ""
            send(context, head, readiness.ready ? .ok : .serviceUnavailable, json: #"{"ready":\#(readiness.ready)\#(reason)}"#)
        case "/live":
            send(context, head, .ok, json: #"{"alive":true}"#)
        case "/view" where webView != nil, "/view/" where webView != nil:
            send(context, head, .ok, body: WebViewPage.html, contentType: "text/html; charset=utf-8")
        case "/view/events" where webView != nil:
            startView(context, head)
        case _ where path.hasPrefix("/debug/orderbook/"):
            orderBook(String(path.dropFirst("/debug/orderbook/".count)), query: query, head: head, context: context)
        default:
            send(context, head, .notFound, json: #"{"error":"not found","path":\#(quote(path))}"#)
        }
    }

    /// The write actions (`AdminActions`), each a POST with its target and a required
    /// `reason` in the query: `/trading/halt` and `/trading/resume` (`symbol`; absent: the
    /// whole market), `/admin/kill` and `/admin/reinstate` (`account`, `firm` or
    /// `exchange=true`), `/admin/cancel-all` (`account` or `firm`), `/admin/snapshot`,
    /// `/admin/day/start` and `/admin/day/end`. Authenticated off the event loop (scrypt),
    /// then checked and queued; answered with what was queued, or why not.
    static let actionPaths = ["/trading/halt", "/trading/resume", "/admin/kill", "/admin/reinstate", "/admin/cancel-all",
                              "/admin/snapshot", "/admin/day/start", "/admin/day/end"]

    private func writeAction(_ path: String, query: [String: String], head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let actions = state.actions else {
            return send(context, head, .notFound, json: #"{"error":"this exchange takes no admin actions: the keys file lists no operators"}"#)
        }
        if path.hasPrefix("/emergency/") { return emergencyAction(path, query: query, actions: actions, head: head, context: context) }
        let request: AdminActions.Request
        switch parseAction(path, query: query) {
        case .success(let r): request = r
        case .failure(let refused):
            let counted = actions.refuse(refused.refusal, refused.message, what: "POST \(path)")
            return answer(counted, context: context, head: head)
        }
        guard actions.admits() else {
            return answer(AdminActions.Refused(refusal: .throttled, message: "too many failed authentications this second; try again"),
                          context: context, head: head)
        }
        let header = head.headers.first(name: "Authorization")
        let authenticated = pool.runIfActive(eventLoop: context.eventLoop) { actions.authenticate(header) }
        authenticated.assumeIsolated().whenComplete { result in
            let outcome: Result<String, AdminActions.Refused>
            switch result {
            case .success(.success(let person)): outcome = actions.take(request, by: person)
            case .success(.failure(let r)):
                outcome = .failure(AdminActions.Refused(refusal: r, message: r == .throttled ? "too many failed authentications this second; try again"
                                                            : "an operator's credentials are needed (HTTP Basic)"))
            case .failure:
                actions.count(.unavailable)
                outcome = .failure(AdminActions.Refused(refusal: .unavailable, message: "the admin plane is stopping"))
            }
            switch outcome {
            case .success(let json): self.send(context, head, .accepted, json: json)
            case .failure(let refused): self.answer(refused, context: context, head: head)
            }
        }
    }

    /// `POST /emergency/shutdown?reason=R` (role admin): the kill switch, a market-wide halt,
    /// then the clean drain (`EmergencyMonitor.manualShutdown`). Authenticated, throttled and
    /// counted as the other actions are.
    private func emergencyAction(_ path: String, query: [String: String], actions: AdminActions, head: HTTPRequestHead,
                                 context: ChannelHandlerContext) {
        guard path == "/emergency/shutdown" else {
            let refused = actions.refuse(.invalidRequest, "no such action; the emergency action is POST /emergency/shutdown?reason=R",
                                         what: "POST \(path)")
            return send(context, head, .notFound, json: #"{"error":\#(quote(refused.message)),"refusal":"invalid_request"}"#)
        }
        guard let emergency = state.emergency else {
            return answer(actions.refuse(.unavailable, "this exchange has no emergency shutdown path", what: "POST \(path)"),
                          context: context, head: head)
        }
        guard actions.admits() else {
            return answer(AdminActions.Refused(refusal: .throttled, message: "too many failed authentications this second; try again"),
                          context: context, head: head)
        }
        let reason = query["reason"].map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "\u{FFFD}" }
        let header = head.headers.first(name: "Authorization")
        let authenticated = pool.runIfActive(eventLoop: context.eventLoop) { actions.authenticate(header) }
        authenticated.assumeIsolated().whenComplete { result in
            func refuse(_ refusal: AdminActions.Refusal, _ message: String, who: String?) {
                actions.count(refusal)
                if let who { actions.audit("admin: refused \(who) emergency shutdown: \(message)") }
                self.answer(AdminActions.Refused(refusal: refusal, message: message), context: context, head: head)
            }
            switch result {
            case .success(.success(let person)):
                guard person.role == .admin else {
                    return refuse(.forbidden, "the \(person.role.rawValue) role may not take an emergency shutdown", who: person.description)
                }
                guard let reason, !reason.isEmpty else {
                    return refuse(.missingReason, "a reason is required (reason=…, 1 to \(OperatorNote.maximumReasonBytes - 20) printable ASCII characters)",
                                  who: person.description)
                }
                guard OperatorNote.isValidReason(reason), reason.utf8.count <= OperatorNote.maximumReasonBytes - 20 else {
                    return refuse(.invalidReason, "the reason must be 1 to \(OperatorNote.maximumReasonBytes - 20) printable ASCII characters",
                                  who: person.description)
                }
                actions.audit("admin: \(person) took an emergency shutdown: \(reason)")
                switch emergency.manualShutdown(by: person, reason: reason) {
                case .success(let commands):
                    let list = commands.map { quote($0) }.joined(separator: ",")
                    self.send(context, head, .accepted, json: #"{"action":"emergency_shutdown","operator":\#(quote(person.username)),"#
                        + #""reason":\#(quote(reason)),"commands":[\#(list)],"draining":true}"#)
                case .failure(let refused): self.answer(refused, context: context, head: head)
                }
            case .success(.failure(let r)):
                self.answer(AdminActions.Refused(refusal: r, message: r == .throttled ? "too many failed authentications this second; try again"
                                                    : "an operator's credentials are needed (HTTP Basic)"), context: context, head: head)
            case .failure:
                refuse(.unavailable, "the admin plane is stopping", who: nil)
            }
        }
    }

    /// The action a path and its query ask for (the reason checked later, once the operator is
    /// known to be one).
    private func parseAction(_ path: String, query: [String: String]) -> Result<AdminActions.Request, AdminActions.Refused> {
        func invalid(_ message: String) -> Result<AdminActions.Request, AdminActions.Refused> {
            .failure(AdminActions.Refused(refusal: .invalidRequest, message: message))
        }
        let reason = query["reason"].map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "\u{FFFD}" }
        func value(_ name: String) -> String? {
            query[name].map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
        }
        switch path {
        case "/trading/halt", "/trading/resume":
            var symbol = Symbol.everySymbol
            if let text = value("symbol") {
                guard state.symbols[text.uppercased()] != nil, let s = Symbol(text.uppercased()) else {
                    return .failure(AdminActions.Refused(refusal: .unknownTarget, message: "unknown symbol \(String(text.prefix(16)))"))
                }
                symbol = s
            }
            return .success(.init(path == "/trading/halt" ? .halt : .resume, .symbol(symbol), reason: reason))
        case "/admin/kill", "/admin/reinstate", "/admin/cancel-all":
            let account = value("account"), firm = value("firm")
            let exchange = value("exchange").map { $0 == "true" || $0 == "1" || $0.isEmpty } ?? false
            let targets = (account != nil ? 1 : 0) + (firm != nil ? 1 : 0) + (exchange ? 1 : 0)
            let allowed = path == "/admin/cancel-all" ? "account=NAME or firm=FIRM" : "account=NAME, firm=FIRM or exchange=true"
            guard targets == 1 else { return invalid("name exactly one target: \(allowed)") }
            let kind: (account: OperatorNote.Action, firm: OperatorNote.Action, exchange: OperatorNote.Action?) = switch path {
            case "/admin/kill": (.killAccount, .killFirm, .killExchange)
            case "/admin/reinstate": (.reinstateAccount, .reinstateFirm, .reinstateExchange)
            default: (.cancelAllAccount, .cancelAllFirm, nil)
            }
            if let account {
                guard (1...32).contains(account.utf8.count) else { return invalid("account: 1 to 32 characters") }
                return .success(.init(kind.account, .account(account), reason: reason))
            }
            if let firm {
                guard let f = Firm(firm), (1...4).contains(firm.utf8.count),
                      firm.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
                    return invalid("firm: 1 to 4 upper-case letters or digits")
                }
                return .success(.init(kind.firm, .firm(f), reason: reason))
            }
            guard let whole = kind.exchange else { return invalid("name exactly one target: \(allowed)") }
            return .success(.init(whole, .exchange, reason: reason))
        case "/admin/snapshot": return .success(.init(.snapshot, .exchange, reason: reason))
        case "/admin/day/start": return .success(.init(.startDay, .exchange, reason: reason))
        case "/admin/day/end": return .success(.init(.endDay, .exchange, reason: reason))
        default:
            return .failure(AdminActions.Refused(refusal: .invalidRequest, message: "no such action; the actions are "
                                                    + Self.actionPaths.map { "POST " + $0 }.joined(separator: ", ")))
        }
    }

    /// A refusal's answer: its status, and a JSON body naming the reason.
    private func answer(_ refused: AdminActions.Refused, context: ChannelHandlerContext, head: HTTPRequestHead) {
        let status: HTTPResponseStatus = switch refused.refusal {
        case .unauthenticated, .badCredentials: .unauthorized
        case .forbidden: .forbidden
        case .throttled: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .missingReason, .invalidReason: .badRequest
        case .invalidRequest: Self.actionPaths.contains(split(head.uri).0) ? .badRequest : .notFound
        case .unknownTarget: .notFound
        }
        let json = #"{"error":\#(quote(refused.message)),"refusal":"\#(refused.refusal.rawValue)"}"#
        if status == .unauthorized {
            send(context, head, status, json: json, extraHeaders: [("WWW-Authenticate", #"Basic realm="rtes-admin", charset="UTF-8""#)])
        } else {
            send(context, head, status, json: json)
        }
    }

    /// `/view/events`: a server-sent-event stream the web view's hub writes to until the
    /// viewer leaves, falls `admin.web_view_max_buffer_bytes` behind, or the plane stops.
    private func startView(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard let hub = webView else { return }
        guard head.method == .GET else {
            return send(context, head, .ok, body: "", contentType: "text/event-stream")
        }
        let admitted = hub.admit(ObjectIdentifier(self), channel: context.channel,
                                 write: { [self] text in
                                     guard !closing, context.channel.isActive else { return }
                                     var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
                                     buffer.writeString(text)
                                     context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                                 },
                                 close: { [self] in close(context, because: .slowViewer) })
        guard admitted else {
            return send(context, head, .serviceUnavailable,
                        json: #"{"error":"\#(hub.settings.maxViewers) web views are open already (admin.web_view_max_viewers)"}"#)
        }
        streaming = true
        idleCheck?.cancel()
        idleCheck = nil
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-store")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        // The first bytes at once, so that the browser reports the stream open before the first update.
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeString(": rtes web view\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func orderBook(_ symbol: String, query: [String: String], head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let instrument = state.symbols[symbol.uppercased()] else {
            return send(context, head, .notFound, json: #"{"error":"unknown symbol","symbol":\#(quote(symbol))}"#)
        }
        let levels = query["levels"].flatMap(Int.init) ?? 10
        guard levels >= 1 && levels <= 1_000 else {
            return send(context, head, .badRequest, json: #"{"error":"levels must be between 1 and 1000"}"#)
        }
        let state = self.state
        let tick = state.tickSizes[instrument] ?? 100
        let loop = context.eventLoop
        let answer = pool.runIfActive(eventLoop: loop) { state.snapshots.snapshot(instrument: instrument, levels: levels) }
        // The future completes on this channel's event loop: stay isolated to it.
        answer.assumeIsolated().whenComplete { result in
            switch result {
            case .success(.success(let book)):
                func side(_ levels: [DepthLevel]) -> String {
                    "[" + levels.map { #"{"price":"\#(formatPrice($0.price, tick: tick))","shares":\#($0.shares),"orders":\#($0.orders)}"# }
                        .joined(separator: ",") + "]"
                }
                let last = book.lastTrade.map { "\"\(formatPrice($0, tick: tick))\"" } ?? "null"
                self.send(context, head, .ok, json: #"{"symbol":"\#(symbol.uppercased())","bids":\#(side(book.bids)),"asks":\#(side(book.asks)),"last_trade":\#(last),"halted":\#(book.halted),"phase":"\#(book.phase)"}"#)
            case .success(.failure(.unknownInstrument)):
                self.send(context, head, .notFound, json: #"{"error":"unknown symbol","symbol":\#(quote(symbol))}"#)
            case .success(.failure(.timedOut)), .failure:
                self.send(context, head, .serviceUnavailable, json: #"{"error":"the engine did not answer"}"#)
            }
        }
    }

    private func send(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, json: String,
                      extraHeaders: [(String, String)] = []) {
        send(context, head, status, body: json + "\n", contentType: "application/json", extraHeaders: extraHeaders)
    }

    /// Writes one whole answer to the request `unanswered` counted. A 4xx closes the
    /// connection after it (the client sent something the plane does not take).
    private func send(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, body: String, contentType: String,
                      extraHeaders: [(String, String)] = []) {
        guard !closing, context.channel.isActive else { return }
        var headers = HTTPHeaders(extraHeaders)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        let refused = (400..<500).contains(status.code)
        let keepAlive = head.isKeepAlive && !refused
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        done.assumeIsolated().whenComplete { result in
            self.unanswered -= 1
            if case .success = result { self.lastProgress = .now() }
            if refused {
                self.refuse(context)
            } else if !keepAlive {
                self.closing = true
                context.close(promise: nil)
            } else if self.unanswered == 0 && self.readPending {
                self.readPending = false
                context.read()
            }
        }
    }

    private func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { query[kv[0]] = kv[1] }
            }
        }
        return (parts.first ?? "/", query)
    }
}

@available(*, unavailable)
extension AdminHandler: Sendable {}
