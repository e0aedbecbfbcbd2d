import ExchangeWire

/// What the re-request server does with each request, decided without I/O (time is passed
/// in, nanoseconds of a monotonic clock).
///
/// Checks, in order; the first that fails decides, and each outcome has its own counter:
///
/// | outcome | when |
/// |---|---|
/// | `malformed` | not exactly 20 bytes, sequence 0 or count 0 |
/// | `wrongSession` | the session is not this feed's |
/// | `rateLimited` | the requester's bucket or the server's is empty (below) |
/// | `beforeHistory` | the sequence is older than the oldest kept message: recover from a snapshot |
/// | `notYetPublished` | the sequence has not been published yet |
/// | `answer` | otherwise: from the sequence, at most the count, at most the newest message (and at most one packet: the requester asks again for the rest) |
///
/// Only `answer` sends anything: every other request is dropped, silently to the requester
/// and counted here. Rate limits are token buckets refilled continuously, each holding at
/// most one second's worth: the server's at `maxRequestsPerSecond`, and each requester's
/// (IPv4 address and port) at a quarter of that, so that one requester flooding the server
/// leaves the other three quarters to everyone else. Requesters (address and port) live in
/// a fixed table of `requesterSlots` entries, direct-mapped by a hash; a requester that
/// collides with another takes over the entry and its bucket as it is. A requester cycling
/// through source ports gets a fresh bucket per port but never more than the server's own.
public struct RetransmitPolicy: ~Copyable, @unchecked Sendable {
    public enum Outcome: Int, CaseIterable, Sendable {
        case answer = 0
        case malformed
        case wrongSession
        case rateLimited
        case beforeHistory
        case notYetPublished
    }

    public struct Decision: Equatable, Sendable {
        public var outcome: Outcome
        /// For `answer`: the first sequence number and how many messages at most.
        public var sequence: UInt64
        public var count: Int

        @inlinable
        public init(outcome: Outcome, sequence: UInt64, count: Int) {
            self.outcome = outcome
            self.sequence = sequence
            self.count = count
        }
    }

    public let session: SoupSessionName
    public let maxRequestsPerSecond: UInt64
    public static let requesterSlots = 1_024
    @usableFromInline static let unit: UInt64 = 1_000_000_000
    @usableFromInline var serverTokens: UInt64
    @usableFromInline var serverRefilled: UInt64 = 0
    @usableFromInline let requesterKeys: UnsafeMutablePointer<UInt64>
    @usableFromInline let requesterTokens: UnsafeMutablePointer<UInt64>
    @usableFromInline let requesterRefilled: UnsafeMutablePointer<UInt64>

    public init(session: SoupSessionName, maxRequestsPerSecond: Int) {
        precondition(maxRequestsPerSecond > 0, "the re-request rate must be positive")
        self.session = session
        self.maxRequestsPerSecond = UInt64(maxRequestsPerSecond)
        serverTokens = UInt64(maxRequestsPerSecond) * Self.unit
        requesterKeys = .filled(Self.requesterSlots, with: 0)
        requesterTokens = .filled(Self.requesterSlots, with: 0)
        requesterRefilled = .filled(Self.requesterSlots, with: 0)
    }

    /// The heap bytes `init` allocates: three words per requester slot.
    public static var requiredBytes: Int { requesterSlots * 3 * MemoryLayout<UInt64>.stride }

    deinit {
        requesterKeys.deallocate()
        requesterTokens.deallocate()
        requesterRefilled.deallocate()
    }

    /// Requests per second one requester may have answered.
    @inlinable public var perRequesterRate: UInt64 { max(1, maxRequestsPerSecond / 4) }

    /// Decides one request. `requester` identifies the source (IPv4 address << 16 | port);
    /// `oldest` and `next` are the history's oldest kept and next sequence numbers.
    @inlinable
    public mutating func decide(_ bytes: UnsafeRawBufferPointer, requester: UInt64, now: UInt64,
                                oldest: UInt64, next: UInt64) -> Decision {
        guard let request = MoldUDP64.readRequest(bytes), request.sequence > 0, request.count > 0 else {
            return Decision(outcome: .malformed, sequence: 0, count: 0)
        }
        guard request.session == session else { return Decision(outcome: .wrongSession, sequence: request.sequence, count: 0) }
        guard take(requester: requester, now: now) else { return Decision(outcome: .rateLimited, sequence: request.sequence, count: 0) }
        if request.sequence < oldest { return Decision(outcome: .beforeHistory, sequence: request.sequence, count: 0) }
        if request.sequence >= next { return Decision(outcome: .notYetPublished, sequence: request.sequence, count: 0) }
        let count = min(UInt64(request.count), next &- request.sequence)
        return Decision(outcome: .answer, sequence: request.sequence, count: Int(count))
    }

    /// Takes one token from the requester's bucket and one from the server's, or neither.
    @inlinable
    mutating func take(requester: UInt64, now: UInt64) -> Bool {
        let key = requester | 1 << 63
        let slot = Int(truncatingIfNeeded: (requester &* 0x9E37_79B9_7F4A_7C15) >> 40) & (Self.requesterSlots - 1)
        let rate = perRequesterRate
        if requesterKeys[slot] != key {
            if requesterKeys[slot] == 0 {
                requesterTokens[slot] = rate * Self.unit
                requesterRefilled[slot] = now
            }
            requesterKeys[slot] = key
        }
        let mine = Self.refill(requesterTokens[slot], since: requesterRefilled[slot], now: now, rate: rate)
        requesterRefilled[slot] = now
        serverTokens = Self.refill(serverTokens, since: serverRefilled, now: now, rate: maxRequestsPerSecond)
        serverRefilled = now
        guard mine >= Self.unit && serverTokens >= Self.unit else {
            requesterTokens[slot] = mine
            return false
        }
        requesterTokens[slot] = mine &- Self.unit
        serverTokens &-= Self.unit
        return true
    }

    @inlinable
    static func refill(_ tokens: UInt64, since: UInt64, now: UInt64, rate: UInt64) -> UInt64 {
        let elapsed = min(now &- min(now, since), unit)
        return min(rate * unit, tokens &+ elapsed &* rate)
    }
}
