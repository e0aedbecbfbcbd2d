/// What went wrong talking to etcd, worded for an operator: each names the endpoint(s) and
/// the operation, never a stack trace.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint answered: every one refused, reset or could not be reached.
    case unreachable(endpoints: [String], operation: String, reason: String)
    /// An endpoint took longer than the time allowed.
    case timedOut(endpoint: String, operation: String, milliseconds: Int64)
    /// etcd answered with an error status.
    case rejected(endpoint: String, operation: String, status: Int, message: String)
    /// etcd answered something that is not the expected JSON.
    case malformedResponse(endpoint: String, operation: String, detail: String)
    /// etcd cancelled a watch (the revision was compacted, or the server is shutting down).
    case watchCanceled(endpoint: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let operation, let reason):
            "etcd is unreachable at \(endpoints.joined(separator: ", ")) (\(operation)): \(reason)"
        case .timedOut(let endpoint, let operation, let milliseconds):
            "etcd at \(endpoint) did not answer \(operation) within \(milliseconds) ms"
        case .rejected(let endpoint, let operation, let status, let message):
            "etcd at \(endpoint) refused \(operation) (HTTP \(status)): \(message)"
        case .malformedResponse(let endpoint, let operation, let detail):
            "etcd at \(endpoint) answered \(operation) with something unexpected: \(detail)"
        case .watchCanceled(let endpoint, let reason):
            "etcd at \(endpoint) cancelled the watch: \(reason)"
        }
    }
}
