import ExchangeRuntime

/// The authenticator's end of a `LoginChannel`.
public struct LoginPort: ~Copyable, @unchecked Sendable {
    /// Keeps the rings' memory alive.
    let channel: LoginChannel
    var requests: SPSCRing<LoginRequest>.Consumer
    var answers: SPSCRing<LoginAnswer>.Producer

    public var service: String { channel.service }

    init(channel: LoginChannel, requests: consuming SPSCRing<LoginRequest>.Consumer, answers: consuming SPSCRing<LoginAnswer>.Producer) {
        self.channel = channel
        self.requests = requests
        self.answers = answers
    }
}
