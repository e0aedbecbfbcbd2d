import ExchangeRuntime
import Synchronization

/// A service's end of its `LoginChannel`, used from its hot loop: posting a request, taking
/// answers and noting a reject are a ring push or a ring pop — no allocation, lock, syscall
/// or wait.
public struct LoginClient: ~Copyable, @unchecked Sendable {
    @usableFromInline var requests: SPSCRing<LoginRequest>.Producer
    @usableFromInline var answers: SPSCRing<LoginAnswer>.Consumer
    @usableFromInline var rejects: SPSCRing<RejectNotice>.Producer
    /// The channel's count of dropped notices; this end is its only writer.
    @usableFromInline let droppedRejects: UnsafeMutablePointer<Atomic<UInt64>>
    /// Keeps the rings' memory alive.
    let channel: LoginChannel

    init(channel: LoginChannel, requests: consuming SPSCRing<LoginRequest>.Producer, answers: consuming SPSCRing<LoginAnswer>.Consumer,
         rejects: consuming SPSCRing<RejectNotice>.Producer, droppedRejects: UnsafeMutablePointer<Atomic<UInt64>>) {
        self.requests = requests
        self.answers = answers
        self.rejects = rejects
        self.droppedRejects = droppedRejects
        self.channel = channel
    }

    /// Hands a login to the authenticator; false when its ring is full (the caller rejects
    /// the login at once and counts it).
    @inlinable
    public mutating func post(_ request: LoginRequest) -> Bool { requests.tryPush(request) }

    /// The next answer, if one is in.
    @inlinable
    public mutating func nextAnswer() -> LoginAnswer? { answers.tryPop() }

    /// Tells the authenticator of a refused order message, for the debug log. Never waits:
    /// when the ring is full the notice is dropped and counted (the authenticator logs how
    /// many, and exports `auth.reject_notices_dropped`); returns whether it went.
    @inlinable
    @discardableResult
    public mutating func noteReject(_ notice: RejectNotice) -> Bool {
        if rejects.tryPush(notice) { return true }
        // Relaxed: a tally with one writer; the reader wants a recent value, not an ordering.
        droppedRejects.pointee.store(rejects.fullCount, ordering: .relaxed)
        return false
    }

    /// Reject notices dropped so far because their ring was full.
    public var droppedRejectCount: UInt64 { rejects.fullCount }
}

#if !DEBUG
// The compiler proves what the services' loops do with their end: posting a request and
// taking an answer, and noting a reject, take no lock, allocate nothing and call nothing it cannot see (checked on
// optimized builds, as `SPSCRingProof` is).
enum LoginClientProof {
    @_noLocks @_noAllocation
    static func post(_ client: inout LoginClient, _ request: LoginRequest) -> Bool {
        client.post(request)
    }

    @_noLocks @_noAllocation
    static func nextAnswer(_ client: inout LoginClient) -> LoginAnswer? {
        client.nextAnswer()
    }

    @_noLocks @_noAllocation
    static func noteReject(_ client: inout LoginClient, _ notice: RejectNotice) -> Bool {
        client.noteReject(notice)
    }
}
#endif
