import ExchangeRuntime

/// The two rings between one service (the order gateway, the snapshot service) and the
/// authenticator: requests one way, answers the other, each of `capacity` entries. The
/// channel owns the rings' memory, and each end holds the channel, so the memory lives as
/// long as either end. Each end is handed out once.
public final class LoginChannel: @unchecked Sendable {
    /// Which service the channel serves, for log lines ("gateway", "snapshot").
    public let service: String
    public let capacity: Int
    /// A session-end reason code of this service in words, for the debug log.
    public let describeEnd: @Sendable (UInt8) -> String
    private var requests: SPSCRing<LoginRequest>
    private var answers: SPSCRing<LoginAnswer>

    /// - Parameter capacity: a power of two (`auth.max_pending_logins`).
    /// - Parameter describeEnd: the service's session-end reason codes in words.
    public init(service: String, capacity: Int, describeEnd: @escaping @Sendable (UInt8) -> String = { "reason \($0)" }) {
        self.service = service
        self.capacity = capacity
        self.describeEnd = describeEnd
        requests = SPSCRing(capacity: capacity)
        answers = SPSCRing(capacity: capacity)
    }

    /// The service's end.
    public func makeClient() -> LoginClient {
        LoginClient(channel: self, requests: requests.makeProducer(), answers: answers.makeConsumer())
    }

    /// The authenticator's end.
    public func makePort() -> LoginPort {
        LoginPort(channel: self, requests: requests.makeConsumer(), answers: answers.makeProducer())
    }
}
