import Foundation

// The JSON bodies of etcd's v3 gateway (etcd's gRPC API mapped to HTTP/JSON by
// grpc-gateway): 64-bit integers travel as strings, keys and values as base64, fields at
// their default value (0, false, empty) are left out, and a watch streams one JSON object
// per line. Only the fields RTES reads or writes are declared.

/// A 64-bit integer as the gateway writes it: a JSON string of digits (a number is
/// accepted too).
struct EtcdInt64: Codable, Sendable, Equatable {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Int64(text) {
            self.value = value
        } else {
            value = try container.decode(Int64.self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(value))
    }
}

/// Bytes as the gateway writes them: base64 in a JSON string.
struct EtcdBytes: Codable, Sendable, Equatable {
    var text: String

    init(_ text: String) { self.text = text }

    init(from decoder: any Decoder) throws {
        let encoded = try decoder.singleValueContainer().decode(String.self)
        guard let data = Data(base64Encoded: encoded) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not base64: \(encoded.prefix(64))"))
        }
        text = String(decoding: data, as: UTF8.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(text.utf8).base64EncodedString())
    }
}

struct EtcdResponseHeader: Decodable, Sendable {
    var revision: EtcdInt64?
}

/// `mvccpb.KeyValue`.
struct EtcdKeyValue: Decodable, Sendable {
    var key: EtcdBytes?
    var createRevision: EtcdInt64?
    var modRevision: EtcdInt64?
    var version: EtcdInt64?
    var value: EtcdBytes?
    var lease: EtcdInt64?

    enum CodingKeys: String, CodingKey {
        case key, version, value, lease
        case createRevision = "create_revision"
        case modRevision = "mod_revision"
    }
}

struct LeaseGrantRequest: Encodable {
    var ttl: EtcdInt64
    enum CodingKeys: String, CodingKey { case ttl = "TTL" }
}

struct LeaseGrantResponse: Decodable {
    var header: EtcdResponseHeader?
    var id: EtcdInt64?
    var ttl: EtcdInt64?
    var error: String?
    enum CodingKeys: String, CodingKey { case header, error, id = "ID", ttl = "TTL" }
}

struct LeaseIDRequest: Encodable {
    var id: EtcdInt64
    enum CodingKeys: String, CodingKey { case id = "ID" }
}

/// `/v3/lease/keepalive` answers as a stream element: `{"result": {...}}`; a lease that is
/// gone answers without a TTL (0).
struct LeaseKeepAliveResponse: Decodable {
    struct Result: Decodable {
        var id: EtcdInt64?
        var ttl: EtcdInt64?
        enum CodingKeys: String, CodingKey { case id = "ID", ttl = "TTL" }
    }
    var result: Result?
}

struct RangeRequest: Encodable {
    var key: EtcdBytes
}

struct RangeResponse: Decodable {
    var header: EtcdResponseHeader?
    var kvs: [EtcdKeyValue]?
}

struct TxnRequest: Encodable {
    struct Compare: Encodable {
        var key: EtcdBytes
        var target: String
        var result: String
        var createRevision: EtcdInt64
        enum CodingKeys: String, CodingKey { case key, target, result, createRevision = "create_revision" }
    }
    struct Put: Encodable {
        var key: EtcdBytes
        var value: EtcdBytes
        var lease: EtcdInt64
    }
    struct RequestOp: Encodable {
        var requestPut: Put?
        var requestRange: RangeRequest?
        enum CodingKeys: String, CodingKey { case requestPut = "request_put", requestRange = "request_range" }
    }
    var compare: [Compare]
    var success: [RequestOp]
    var failure: [RequestOp]
}

struct TxnResponse: Decodable {
    struct ResponseOp: Decodable {
        var responseRange: RangeResponse?
        enum CodingKeys: String, CodingKey { case responseRange = "response_range" }
    }
    var header: EtcdResponseHeader?
    var succeeded: Bool?
    var responses: [ResponseOp]?
}

struct WatchCreateRequest: Encodable {
    struct Create: Encodable {
        var key: EtcdBytes
        var startRevision: EtcdInt64
        enum CodingKeys: String, CodingKey { case key, startRevision = "start_revision" }
    }
    var createRequest: Create
    enum CodingKeys: String, CodingKey { case createRequest = "create_request" }
}

/// One line of a `/v3/watch` stream.
struct WatchStreamMessage: Decodable {
    struct Event: Decodable {
        /// Absent for PUT (the enum's default); "DELETE" otherwise.
        var type: String?
        var kv: EtcdKeyValue?
    }
    struct Result: Decodable {
        var header: EtcdResponseHeader?
        var created: Bool?
        var canceled: Bool?
        var compactRevision: EtcdInt64?
        var cancelReason: String?
        var events: [Event]?
        enum CodingKeys: String, CodingKey {
            case header, created, canceled, events
            case compactRevision = "compact_revision"
            case cancelReason = "cancel_reason"
        }
    }
    struct StreamError: Decodable {
        var message: String?
    }
    var result: Result?
    var error: StreamError?
}

/// The gateway's error body: `{"error": "...", "message": "...", "code": N}`.
struct GatewayError: Decodable {
    var error: String?
    var message: String?
}

struct LeaseTimeToLiveResponse: Decodable {
    var ttl: EtcdInt64?
    var grantedTTL: EtcdInt64?
    enum CodingKeys: String, CodingKey { case ttl = "TTL", grantedTTL }
}
