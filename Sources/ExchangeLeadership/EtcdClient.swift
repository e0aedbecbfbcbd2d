// Implementation-only: no client of this module loads async-http-client, nor through it
// swift-system (by swift-configuration and NIO's file system), whose CSystem module declares
// <linux/io_uring.h> while CExchangeShim declares liburing's own copy of it: a module that saw
// both (ExchangeOps, which campaigns) fails to build ("... is not present in definition of
// union io_uring_sqe"). `internal import` did not keep them out in a debug (testable) build.
// No type of these modules appears in this module's public or inlinable declarations; the
// one stored property of one (`http`, a class reference) is private.
@_implementationOnly import AsyncHTTPClient
import ExchangeConfig
import Foundation
@_implementationOnly import NIOCore
@_implementationOnly import NIOHTTP1
import Synchronization

/// The leader key as etcd holds it.
public struct LeaderRecord: Sendable, Equatable {
    /// The value: the leader's name or address.
    public var name: String
    /// The revision that created the key: the leadership's fencing token.
    public var createRevision: Int64
    public var modRevision: Int64
    /// The lease the key is attached to.
    public var lease: Int64
}

/// One change of a watched key.
public struct KeyEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case put, delete }
    public var kind: Kind
    /// The value (empty for a delete).
    public var value: String
    /// 0 for a delete.
    public var createRevision: Int64
    /// The revision of the change.
    public var modRevision: Int64
    /// The key's version after the change: 1 for a put that created it; 0 for a delete.
    public var version: Int64
}

/// What a create-if-absent transaction found.
public enum CreateOutcome: Sendable, Equatable {
    /// The key was absent and is now ours, created at `revision` (the fencing token).
    case created(revision: Int64)
    /// The key exists (held by `holder`; nil if it vanished between compare and range, which
    /// a transaction rules out), as of store revision `revision`.
    case held(by: LeaderRecord?, revision: Int64)
}

/// etcd's v3 API through its HTTP/JSON gateway, on async-http-client. Each call takes the
/// time it may use; endpoints are tried in order, starting with the last one that answered.
/// Nothing here retries an operation that etcd may have applied, except by trying the next
/// endpoint after a connection failure (before any byte was answered).
public final class EtcdClient: Sendable {
    public let endpoints: [LeadershipSettings.Endpoint]
    private let http: HTTPClient
    private let preferred = Mutex(0)
    /// The longest watch line or response body taken (a bound on what etcd can make us hold).
    static let maximumBodyBytes = 4 << 20

    /// The HTTP client every `EtcdClient` shares unless given another: it lives as long as the
    /// process (so it needs no shutdown), and a refused connection fails the request at once
    /// instead of being retried until the deadline, so that the next endpoint is tried.
    static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(2)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A client of `endpoints` (at least one), on the process's shared HTTP client.
    public convenience init(endpoints: [LeadershipSettings.Endpoint]) {
        self.init(endpoints: endpoints, http: EtcdClient.sharedHTTPClient)
    }

    /// A client of `endpoints` (at least one), on `http`.
    init(endpoints: [LeadershipSettings.Endpoint], http: HTTPClient) {
        precondition(!endpoints.isEmpty, "EtcdClient needs at least one endpoint")
        self.endpoints = endpoints
        self.http = http
    }

    /// The endpoint list as operators read it.
    public var endpointList: String { endpoints.map(\.description).joined(separator: ", ") }

    // MARK: Operations

    /// Whether an endpoint answers `/health` with `"health":"true"`.
    public func isHealthy(timeout: Duration) async -> Bool {
        struct Health: Decodable, Sendable { var health: String? }
        do {
            let body: Health = try await call("GET", "/health", body: Optional<RangeRequest>.none, operation: "health", timeout: timeout)
            return body.health == "true"
        } catch {
            return false
        }
    }

    /// Grants a lease of `ttlSeconds`; returns its id and the TTL etcd granted.
    public func grantLease(ttlSeconds: Int64, timeout: Duration) async throws -> (id: Int64, ttlSeconds: Int64) {
        let response: LeaseGrantResponse = try await call(
            "POST", "/v3/lease/grant", body: LeaseGrantRequest(ttl: EtcdInt64(ttlSeconds)), operation: "lease grant", timeout: timeout)
        if let error = response.error, !error.isEmpty {
            throw EtcdError.rejected(endpoint: currentEndpoint, operation: "lease grant", status: 200, message: error)
        }
        guard let id = response.id?.value, id != 0, let ttl = response.ttl?.value else {
            throw EtcdError.malformedResponse(endpoint: currentEndpoint, operation: "lease grant", detail: "no lease id or TTL")
        }
        return (id, ttl)
    }

    /// Renews `lease` once; returns the TTL etcd reset it to, 0 when the lease no longer exists
    /// (expired or revoked).
    public func keepAlive(lease: Int64, timeout: Duration) async throws -> Int64 {
        let response: LeaseKeepAliveResponse = try await call(
            "POST", "/v3/lease/keepalive", body: LeaseIDRequest(id: EtcdInt64(lease)), operation: "lease keepalive", timeout: timeout)
        return response.result?.ttl?.value ?? 0
    }

    /// Revokes `lease`, deleting the keys attached to it. A lease that is already gone is not
    /// an error.
    public func revoke(lease: Int64, timeout: Duration) async throws {
        do {
            let _: GatewayError = try await call(
                "POST", "/v3/lease/revoke", body: LeaseIDRequest(id: EtcdInt64(lease)), operation: "lease revoke", timeout: timeout)
        } catch EtcdError.rejected(_, _, _, let message) where message.contains("lease not found") {
            return
        }
    }

    /// Seconds left on `lease` and the TTL it was granted with; nil when it no longer exists.
    public func timeToLive(lease: Int64, timeout: Duration) async throws -> (remaining: Int64, granted: Int64)? {
        let response: LeaseTimeToLiveResponse = try await call(
            "POST", "/v3/lease/timetolive", body: LeaseIDRequest(id: EtcdInt64(lease)), operation: "lease time-to-live", timeout: timeout)
        guard let remaining = response.ttl?.value, remaining >= 0 else { return nil }
        return (remaining, response.grantedTTL?.value ?? 0)
    }

    /// The key's current holder (nil when absent) and the store revision read at.
    public func get(key: String, timeout: Duration) async throws -> (record: LeaderRecord?, revision: Int64) {
        let response: RangeResponse = try await call(
            "POST", "/v3/kv/range", body: RangeRequest(key: EtcdBytes(key)), operation: "range", timeout: timeout)
        return (response.kvs?.first.flatMap(Self.record), response.header?.revision?.value ?? 0)
    }

    /// Creates `key` = `value` under `lease` if and only if the key does not exist
    /// (its create_revision is 0), in one transaction; otherwise reads who holds it.
    public func createIfAbsent(key: String, value: String, lease: Int64, timeout: Duration) async throws -> CreateOutcome {
        let request = TxnRequest(
            compare: [.init(key: EtcdBytes(key), target: "CREATE", result: "EQUAL", createRevision: EtcdInt64(0))],
            success: [.init(requestPut: .init(key: EtcdBytes(key), value: EtcdBytes(value), lease: EtcdInt64(lease)))],
            failure: [.init(requestRange: RangeRequest(key: EtcdBytes(key)))])
        let response: TxnResponse = try await call("POST", "/v3/kv/txn", body: request, operation: "campaign transaction", timeout: timeout)
        guard let revision = response.header?.revision?.value else {
            throw EtcdError.malformedResponse(endpoint: currentEndpoint, operation: "campaign transaction", detail: "no revision in the header")
        }
        if response.succeeded == true { return .created(revision: revision) }
        let holder = response.responses?.first?.responseRange?.kvs?.first.flatMap(Self.record)
        return .held(by: holder, revision: revision)
    }

    /// Watches `key` from `fromRevision` (events at and after it, history included), calling
    /// `onEvent` for each until it returns true (then returns true) or `timeout` passes
    /// (returns false). Throws when etcd cannot be reached, cancels the watch or the stream
    /// ends.
    public func watch(
        key: String, fromRevision: Int64, timeout: Duration, onEvent: @escaping @Sendable (KeyEvent) -> Bool
    ) async throws -> Bool {
        let body = try JSONEncoder().encode(WatchCreateRequest(createRequest: .init(key: EtcdBytes(key), startRevision: EtcdInt64(fromRevision))))
        let outcome = try await race(timeout) { [self] () async throws -> Bool in
            let (response, endpoint) = try await self.send("POST", "/v3/watch", body: body, operation: "watch")
            guard response.status == .ok else {
                let text = try? await response.body.collect(upTo: 64 << 10)
                throw EtcdError.rejected(endpoint: endpoint, operation: "watch", status: Int(response.status.code),
                                         message: Self.message(text.map { Data($0.readableBytesView) } ?? Data()))
            }
            var line: [UInt8] = []
            for try await chunk in response.body {
                for byte in chunk.readableBytesView {
                    guard byte == 0x0A else {
                        line.append(byte)
                        if line.count > Self.maximumBodyBytes {
                            throw EtcdError.malformedResponse(endpoint: endpoint, operation: "watch", detail: "a line longer than \(Self.maximumBodyBytes) bytes")
                        }
                        continue
                    }
                    defer { line.removeAll(keepingCapacity: true) }
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
                    let message: WatchStreamMessage
                    do {
                        message = try JSONDecoder().decode(WatchStreamMessage.self, from: Data(line))
                    } catch {
                        throw EtcdError.malformedResponse(endpoint: endpoint, operation: "watch", detail: "\(error)")
                    }
                    if let error = message.error {
                        throw EtcdError.watchCanceled(endpoint: endpoint, reason: error.message ?? "a stream error")
                    }
                    guard let result = message.result else { continue }
                    if result.canceled == true {
                        let reason = result.compactRevision.map { "revision \(fromRevision) was compacted (to \($0.value))" }
                            ?? result.cancelReason ?? "no reason given"
                        throw EtcdError.watchCanceled(endpoint: endpoint, reason: reason)
                    }
                    for event in result.events ?? [] {
                        if onEvent(Self.event(event)) { return true }
                    }
                }
            }
            throw EtcdError.watchCanceled(endpoint: endpoint, reason: "the stream ended")
        }
        switch outcome {
        case .value(let stopped): return stopped
        case .timedOut: return false
        }
    }

    // MARK: Transport

    private var currentEndpoint: String {
        endpoints[preferred.withLock { $0 }].description
    }

    private static func record(_ kv: EtcdKeyValue) -> LeaderRecord? {
        guard let created = kv.createRevision?.value, created > 0 else { return nil }
        return LeaderRecord(name: kv.value?.text ?? "", createRevision: created, modRevision: kv.modRevision?.value ?? 0,
                            lease: kv.lease?.value ?? 0)
    }

    private static func event(_ event: WatchStreamMessage.Event) -> KeyEvent {
        KeyEvent(kind: event.type == "DELETE" ? .delete : .put, value: event.kv?.value?.text ?? "",
                 createRevision: event.kv?.createRevision?.value ?? 0, modRevision: event.kv?.modRevision?.value ?? 0,
                 version: event.kv?.version?.value ?? 0)
    }

    private static func message(_ body: Data) -> String {
        if let error = try? JSONDecoder().decode(GatewayError.self, from: body), let text = error.message ?? error.error {
            return text
        }
        return String(decoding: body.prefix(256), as: UTF8.self)
    }

    /// One unary call: the request as JSON, the answer decoded, within `timeout`.
    private func call<Request: Encodable, Response: Decodable & Sendable>(
        _ method: String, _ path: String, body: Request?, operation: String, timeout: Duration
    ) async throws -> Response {
        let encoded = try body.map { try JSONEncoder().encode($0) }
        let outcome = try await race(timeout) { [self] () async throws -> Response in
            let (response, endpoint) = try await self.send(method, path, body: encoded, operation: operation)
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: Self.maximumBodyBytes)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw EtcdError.malformedResponse(endpoint: endpoint, operation: operation, detail: "reading the answer failed: \(error)")
            }
            let data = Data(buffer.readableBytesView)
            guard response.status == .ok else {
                throw EtcdError.rejected(endpoint: endpoint, operation: operation, status: Int(response.status.code), message: Self.message(data))
            }
            do {
                return try JSONDecoder().decode(Response.self, from: data)
            } catch {
                throw EtcdError.malformedResponse(
                    endpoint: endpoint, operation: operation, detail: "\(error); body: \(String(decoding: data.prefix(256), as: UTF8.self))")
            }
        }
        switch outcome {
        case .value(let response): return response
        case .timedOut:
            throw EtcdError.timedOut(endpoint: currentEndpoint, operation: operation, milliseconds: timeout.milliseconds)
        }
    }

    /// Sends to the preferred endpoint, moving on to the next on a connection failure.
    private func send(_ method: String, _ path: String, body: Data?, operation: String) async throws -> (HTTPClientResponse, String) {
        let first = preferred.withLock { $0 }
        var reasons: [String] = []
        for offset in 0..<endpoints.count {
            let index = (first + offset) % endpoints.count
            let endpoint = endpoints[index].description
            var request = HTTPClientRequest(url: "http://\(endpoint)\(path)")
            request.method = HTTPMethod(rawValue: method)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                // The caller's race bounds the time; this deadline only keeps a forgotten
                // request from living forever.
                let response = try await http.execute(request, timeout: .hours(24))
                preferred.withLock { $0 = index }
                return (response, endpoint)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                reasons.append("\(endpoint): \(Self.describe(error))")
            }
        }
        throw EtcdError.unreachable(endpoints: endpoints.map(\.description), operation: operation, reason: reasons.joined(separator: "; "))
    }

    /// A transport error in one line.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("errno: 111") { return "connection refused" }
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.contains("remoteConnectionClosed") { return "the connection was closed" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

enum RaceOutcome<Value: Sendable>: Sendable {
    case value(Value)
    case timedOut
}

/// Runs `body`, cancelling it when `timeout` passes first.
func race<Value: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Value) async throws -> RaceOutcome<Value> {
    try await withThrowingTaskGroup(of: RaceOutcome<Value>.self) { group in
        group.addTask { .value(try await body()) }
        group.addTask {
            try await Task.sleep(for: timeout)
            return .timedOut
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { return .timedOut }
        return first
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
