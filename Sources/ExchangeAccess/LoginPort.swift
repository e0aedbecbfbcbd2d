import ExchangeRuntime
import Synchronization

/// The authenticator's end of a `LoginChannel`.
public struct LoginPort: ~Copyable, @unchecked Sendable {
    /// Keeps the rings' memory alive.
    let channel: LoginChannel
    var requests: SPSCRing<LoginRequest>.Consumer
    var answers: SPSCRing<LoginAnswer>.Producer
    var rejects: SPSCRing<RejectNotice>.Consumer

    public var service: String { channel.service }

    init(channel: LoginChannel, requests: consuming SPSCRing<LoginRequest>.Consumer, answers: consuming SPSCRing<LoginAnswer>.Producer,
         rejects: consuming SPSCRing<RejectNotice>.Consumer) {
        self.channel = channel
        self.requests = requests
        self.answers = answers
        self.rejects = rejects
    }

    /// Reject notices the service dropped so far because their ring was full (`.relaxed`:
    /// a tally; a late value only moves a count into the next line).
    var droppedRejects: UInt64 { channel.droppedRejects.pointee.load(ordering: .relaxed) }
}
