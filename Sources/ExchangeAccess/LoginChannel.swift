import ExchangeRuntime
import Synchronization

/// The rings between one service (the order gateway, the snapshot service) and the
/// authenticator: requests one way, answers the other, each of `capacity` entries; and
/// `RejectNotice`s from the service, `rejectCapacity` entries, for the debug log. The
/// channel owns the rings' memory, and each end holds the channel, so the memory lives as
/// long as either end. Each end is handed out once.
///
/// Rejects have a ring of their own rather than riding on the requests' ring: a flood of
/// rejected orders must never take the room a Login Request needs. When that ring is full a
/// notice is dropped and counted (`droppedRejects`), never waited for.
public final class LoginChannel: @unchecked Sendable {
    /// Which service the channel serves, for log lines ("gateway", "snapshot").
    public let service: String
    public let capacity: Int
    /// A session-end reason code of this service in words, for the debug log.
    public let describeEnd: @Sendable (UInt8) -> String
    /// Slots of the ring of reject notices.
    public let rejectCapacity: Int
    private var requests: SPSCRing<LoginRequest>
    private var answers: SPSCRing<LoginAnswer>
    private var rejects: SPSCRing<RejectNotice>
    /// Reject notices dropped because their ring was full: written by the service's end only
    /// (`.relaxed`: a tally, nothing is published through it), read by the authenticator's.
    /// On a cache line of its own, so that the service's writes share no line with the rings.
    let droppedRejects: UnsafeMutablePointer<Atomic<UInt64>>

    /// The default `rejectCapacity`: 4,096 notices (96 KiB) hold a 10 ms park of the
    /// authenticator at 400,000 rejects a second.
    public static let defaultRejectCapacity = 4_096

    /// Bytes one channel allocates for its rings and its drop count (for `MemoryPlan`).
    public static func requiredBytes(capacity: Int, rejectCapacity: Int) -> Int {
        SPSCRing<LoginRequest>.requiredBytes(capacity: capacity) + SPSCRing<LoginAnswer>.requiredBytes(capacity: capacity)
            + SPSCRing<RejectNotice>.requiredBytes(capacity: rejectCapacity) + SPSCRingLayout.blockBytes
    }

    /// - Parameter capacity: a power of two (`auth.max_pending_logins`).
    /// - Parameter rejectCapacity: a power of two; a service that sends no reject notices
    ///   (the snapshot service) can take 1.
    /// - Parameter describeEnd: the service's session-end reason codes in words.
    public init(service: String, capacity: Int, rejectCapacity: Int = LoginChannel.defaultRejectCapacity,
                describeEnd: @escaping @Sendable (UInt8) -> String = { "reason \($0)" }) {
        self.service = service
        self.capacity = capacity
        self.rejectCapacity = rejectCapacity
        self.describeEnd = describeEnd
        requests = SPSCRing(capacity: capacity)
        answers = SPSCRing(capacity: capacity)
        rejects = SPSCRing(capacity: rejectCapacity)
        droppedRejects = UnsafeMutableRawPointer.allocate(byteCount: SPSCRingLayout.blockBytes, alignment: SPSCRingLayout.alignment)
            .bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        droppedRejects.initialize(to: Atomic(0))
    }

    deinit {
        droppedRejects.deinitialize(count: 1)
        UnsafeMutableRawPointer(droppedRejects).deallocate()
    }

    /// The service's end.
    public func makeClient() -> LoginClient {
        LoginClient(channel: self, requests: requests.makeProducer(), answers: answers.makeConsumer(), rejects: rejects.makeProducer(),
                    droppedRejects: droppedRejects)
    }

    /// The authenticator's end.
    public func makePort() -> LoginPort {
        LoginPort(channel: self, requests: requests.makeConsumer(), answers: answers.makeProducer(), rejects: rejects.makeConsumer())
    }
}
