import ExchangeRuntime

/// A service's end of its `LoginChannel`, used from its hot loop: posting a request and
/// taking answers are a ring push and a ring pop — no allocation, lock, syscall or wait.
public struct LoginClient: ~Copyable, @unchecked Sendable {
    @usableFromInline var requests: SPSCRing<LoginRequest>.Producer
    @usableFromInline var answers: SPSCRing<LoginAnswer>.Consumer
    /// Keeps the rings' memory alive.
    let channel: LoginChannel

    init(channel: LoginChannel, requests: consuming SPSCRing<LoginRequest>.Producer, answers: consuming SPSCRing<LoginAnswer>.Consumer) {
        self.requests = requests
        self.answers = answers
        self.channel = channel
    }

    /// Hands a login to the authenticator; false when its ring is full (the caller rejects
    /// the login at once and counts it).
    @inlinable
    public mutating func post(_ request: LoginRequest) -> Bool { requests.tryPush(request) }

    /// The next answer, if one is in.
    @inlinable
    public mutating func nextAnswer() -> LoginAnswer? { answers.tryPop() }
}

#if !DEBUG
// The compiler proves what the services' loops do with their end: posting a request and
// taking an answer take no lock, allocate nothing and call nothing it cannot see (checked on
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
}
#endif
