import ExchangeBookReplica
import ExchangeCore
import ExchangeWire

/// A receiver's view of the feed, without I/O: it takes MoldUDP64 packets as they arrive
/// (from the multicast group or from the re-request server), applies their messages to a
/// `BookReplica` strictly in sequence order, and says which sequence numbers to ask for
/// again. Any ITCH 5.0 handler follows the feed the same way:
///
/// - a packet that starts at the next expected sequence number is applied;
/// - one that starts later means a gap: it is kept (bounded) and a re-request for the gap
///   goes out; when the gap is filled the kept packets are applied in order;
/// - a packet entirely below the expected number is a duplicate and is ignored; one that
///   overlaps is applied from the expected number on;
/// - a heartbeat carries the next sequence number, so a gap at the end of a burst shows too;
/// - End of Session ends the feed.
///
/// Late joining: `beginSnapshot()` clears the books; the snapshot's messages go through
/// `applySnapshot(_:)`; `endSnapshot(nextSequence:)` sets where the feed continues — packets
/// kept meanwhile (the handler should join the group *before* asking for the snapshot) are
/// then applied from there.
///
/// Gap older than the re-request history: the server answers nothing for messages it no
/// longer keeps (`before_history`), so asking again cannot help. When the handler knows the
/// history's size (`historyMessages`, the exchange's
/// `market_data.retransmit_history_messages`) and a gap starts more than that many messages
/// before the newest sequence number seen, or when `maximumUnansweredRequests` requests for
/// the same gap went unanswered, it stops asking and sets `snapshotNeeded` (saying why): the
/// owner rejoins through the snapshot service (`beginSnapshot` … `endSnapshot`, which clears it).
///
/// Exchange restarts: a live packet (`Source.live`) whose session differs from the one
/// followed (a new trading day, or a restart that started a new session), or whose first
/// sequence number is below the end of the previous live packet within the session (the
/// exchange came back with less than it had published), means the books no longer describe
/// what follows.
/// The handler counts it (`counters.restarts`), keeps it for its owner (`takeRestart()`,
/// `lastRestart`), discards the books and kept packets, and starts a fresh book at the new
/// packet. A fresh book that does not start at sequence 1 of a new session lacks what the
/// day published before: `incompleteSince` says so until a snapshot (`endSnapshot`) or the
/// next session's start repairs it. A publisher numbers its live packets in increasing order
/// and one socket does not reorder them, so a live packet going backwards is a restart, never
/// a late duplicate; re-request answers (`Source.retransmission`) may repeat and never count.
///
/// It allocates (kept packets are arrays): it is a client tool, not the exchange's hot path.
public struct FeedHandler: ~Copyable {
    public var replica: BookReplica
    public private(set) var session: SoupSessionName?
    /// The next sequence number to apply.
    public private(set) var expected: UInt64 = 1
    public private(set) var ended = false
    /// Between `beginSnapshot()` and `endSnapshot`: packets are kept, nothing is asked for.
    public private(set) var joining = false
    public private(set) var counters = Counters()
    /// Packets ahead of `expected`, by first sequence number.
    var kept: [UInt64: [UInt8]] = [:]
    public let maximumKeptPackets: Int
    /// The gap asked for last and when (caller's clock), to re-ask after `retryNanoseconds`.
    var requested: (sequence: UInt64, at: UInt64)?
    public var retryNanoseconds: UInt64 = 50_000_000
    /// How many messages the re-request server keeps, when known: a gap older than that is
    /// recovered through a snapshot instead.
    public var historyMessages: UInt64?
    /// Requests for one gap, unanswered, after which the gap counts as lost to the history.
    public var maximumUnansweredRequests = 40
    /// The highest sequence number a packet (or heartbeat) has shown to exist, plus one.
    public private(set) var newestSeen: UInt64 = 1
    /// Why the books can only be repaired by a snapshot now (no more re-requests until
    /// `endSnapshot`); nil while re-requests can still recover the feed.
    public private(set) var snapshotNeeded: SnapshotNeed?
    /// Requests sent for the gap at `requested.sequence` without it moving.
    var unanswered = 0
    /// Where the previous live packet of the session followed ended (its first sequence
    /// number plus its message count): the next live packet starts there, or later after a loss.
    var lastLiveEnd: UInt64?
    /// The latest restart noticed, and the one the owner has not taken yet.
    public private(set) var lastRestart: Restart?
    var pendingRestart: Restart?
    /// Set when a restart left the books without what the day published before it (a fresh
    /// book from the packet after the restart); nil once a snapshot or the start of the next
    /// session has made them whole.
    public private(set) var incompleteSince: Restart?
    /// Called with each message in sequence order, exactly once, *before* it is applied to the
    /// books — so an `E` execution's resting order (its side and price) is still there to read:
    /// its sequence number, its bytes and the books. For a tape of executions (the web view).
    public var onMessage: ((_ sequence: UInt64, _ message: UnsafeRawBufferPointer, _ books: borrowing BookReplica) -> Void)?
    /// Messages seen, in order, when `recording` (for tests and captures).
    public var recording = false
    public private(set) var recorded: [[UInt8]] = []

    /// The messages recorded since the last call, in order (and forgets them, so a long
    /// recording stays bounded by how often its owner takes them).
    public mutating func takeRecorded() -> [[UInt8]] {
        defer { recorded.removeAll(keepingCapacity: true) }
        return recorded
    }

    public struct Counters: Equatable, Sendable {
        public var packets: UInt64 = 0
        public var messages: UInt64 = 0
        public var heartbeats: UInt64 = 0
        public var duplicates: UInt64 = 0
        public var gaps: UInt64 = 0
        public var requests: UInt64 = 0
        public var malformed: UInt64 = 0
        public var otherSession: UInt64 = 0
        /// Restarts of the exchange noticed on the live feed (`Restart`).
        public var restarts: UInt64 = 0
        /// Messages that did not decode, or that the books disagreed with.
        public var messageErrors: UInt64 = 0
        public var keptPackets: UInt64 = 0
        public var lastError: String?
        public init() {}
    }

    /// Why a gap cannot be recovered by re-requests, in words (`description`).
    public enum SnapshotNeed: Equatable, Sendable, CustomStringConvertible {
        /// The gap starts at `missing`, more than `history` messages before `newest`.
        case olderThanHistory(missing: UInt64, newest: UInt64, history: UInt64)
        /// `requests` re-requests for the gap at `missing` went unanswered.
        case unanswered(missing: UInt64, requests: Int)

        public var description: String {
            switch self {
            case .olderThanHistory(let missing, let newest, let history):
                "the gap from sequence \(missing) is older than the re-request history (the server keeps the last \(history) "
                    + "messages and the feed is at \(newest)): only a snapshot can repair the books"
            case .unanswered(let missing, let requests):
                "\(requests) re-requests for the gap from sequence \(missing) went unanswered (older than the server's history, "
                    + "or refused): only a snapshot can repair the books"
            }
        }
    }

    /// Where a packet came from.
    public enum Source: Sendable {
        /// The live feed (the multicast group): in the publisher's order.
        case live
        /// An answer of the re-request server: may repeat what was seen.
        case retransmission
    }

    /// An exchange restart seen on the live feed: where the handler was and where the feed is now.
    public struct Restart: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: Equatable, Sendable {
            /// The packet's session is not the one followed.
            case newSession
            /// Within the session, the packet starts before the previous live packet's end.
            case sequenceBackwards
        }

        public var kind: Kind
        public var previousSession: SoupSessionName
        /// The next sequence number the handler expected.
        public var previousSequence: UInt64
        public var session: SoupSessionName
        /// The first sequence number of the packet that showed the restart.
        public var sequence: UInt64

        public init(kind: Kind, previousSession: SoupSessionName, previousSequence: UInt64, session: SoupSessionName, sequence: UInt64) {
            self.kind = kind
            self.previousSession = previousSession
            self.previousSequence = previousSequence
            self.session = session
            self.sequence = sequence
        }

        public var description: String {
            switch kind {
            case .newSession:
                "the exchange restarted: the feed's session changed from \(previousSession) (next sequence \(previousSequence)) "
                    + "to \(session) (at sequence \(sequence))"
            case .sequenceBackwards:
                "the exchange restarted: session \(session) went back from sequence \(previousSequence) to \(sequence)"
            }
        }
    }

    /// A re-request to send: the session, the first missing sequence number and how many.
    public typealias Request = MoldUDP64.Request

    public init(instrumentCount: Int, orderCapacity: Int, session: SoupSessionName? = nil, maximumKeptPackets: Int = 1 << 20) {
        replica = BookReplica(instrumentCount: instrumentCount, orderCapacity: orderCapacity)
        self.session = session
        self.maximumKeptPackets = maximumKeptPackets
    }

    /// Whether a gap is open (messages missing before kept packets).
    public var isRecovering: Bool { !kept.isEmpty }

    /// The first sequence number of the earliest packet kept ahead of a gap, nil when none is
    /// kept (where to go on from when the gap is given up: `endSnapshot(nextSequence:session:)`).
    public var firstKeptSequence: UInt64? { kept.keys.min() }

    /// Handles one packet; returns a re-request to send, if one is due. `now` is any
    /// monotonic clock in nanoseconds (it paces repeated requests); `source` says whether
    /// the packet came from the live feed (which shows restarts) or a re-request answer.
    public mutating func handle(_ bytes: UnsafeRawBufferPointer, now: UInt64, source: Source = .live) -> Request? {
        guard case .success(let packet) = MoldUDP64.readPacket(bytes) else {
            counters.malformed += 1
            return nil
        }
        counters.packets += 1
        if session == nil { session = packet.session }
        if source == .live, let followed = session {
            if packet.session != followed {
                restarted(.newSession, at: packet)
            } else if let last = lastLiveEnd, packet.sequence < last {
                restarted(.sequenceBackwards, at: packet)
            }
        }
        guard packet.session == session else {
            counters.otherSession += 1
            return nil
        }
        if source == .live { lastLiveEnd = packet.sequence &+ UInt64(packet.messageCount) }
        if packet.isHeartbeat { counters.heartbeats += 1 }
        let end = packet.sequence &+ UInt64(packet.isEndOfSession ? 0 : packet.messageCount)
        newestSeen = max(newestSeen, end)
        if packet.isEndOfSession || packet.isHeartbeat {
            if packet.sequence > expected {
                counters.gaps += 1
                return request(now: now, upTo: packet.sequence)
            }
            if packet.isEndOfSession && kept.isEmpty { ended = true }
            return nil
        }
        if end <= expected {
            counters.duplicates += 1
            return nil
        }
        if joining || packet.sequence > expected {
            if kept[packet.sequence] == nil && kept.count < maximumKeptPackets {
                kept[packet.sequence] = Array(bytes)
                counters.keptPackets += 1
                if kept.count == 1 { counters.gaps += 1 }
            }
            return joining ? nil : request(now: now, upTo: packet.sequence)
        }
        apply(packet)
        drainKept()
        return kept.isEmpty ? nil : request(now: now, upTo: kept.keys.min()!)
    }

    /// The feed restarted at `packet`: say so, drop the books and what was kept, and follow
    /// the packet's session from the packet on with a fresh book (incomplete unless it is
    /// the start of a new session).
    mutating func restarted(_ kind: Restart.Kind, at packet: MoldUDP64.Packet) {
        let restart = Restart(kind: kind, previousSession: session ?? packet.session, previousSequence: expected,
                              session: packet.session, sequence: packet.sequence)
        counters.restarts += 1
        lastRestart = restart
        pendingRestart = restart
        replica.removeAll()
        kept.removeAll()
        session = packet.session
        expected = packet.sequence
        newestSeen = packet.sequence
        lastLiveEnd = nil
        requested = nil
        unanswered = 0
        snapshotNeeded = nil
        ended = false
        incompleteSince = kind == .newSession && packet.sequence == 1 ? nil : restart
    }

    /// The restart noticed since the last call, if any (the owner resynchronises or says
    /// that the books are incomplete).
    public mutating func takeRestart() -> Restart? {
        defer { pendingRestart = nil }
        return pendingRestart
    }

    /// A request for [expected, upTo) unless the same was asked less than the retry time ago.
    mutating func request(now: UInt64, upTo: UInt64) -> Request? {
        guard let session, upTo > expected, snapshotNeeded == nil else { return nil }
        if let history = historyMessages, newestSeen > expected &+ history {
            snapshotNeeded = .olderThanHistory(missing: expected, newest: newestSeen, history: history)
            return nil
        }
        if let r = requested, r.sequence == expected {
            if now &- r.at < retryNanoseconds { return nil }
            unanswered += 1
            if unanswered >= maximumUnansweredRequests {
                snapshotNeeded = .unanswered(missing: expected, requests: unanswered)
                return nil
            }
        } else {
            unanswered = 0
        }
        requested = (expected, now)
        counters.requests += 1
        return Request(session: session, sequence: expected, count: UInt16(min(upTo &- expected, 0xFFFE)))
    }

    /// A request to repeat if the last one has gone unanswered for the retry time (call it
    /// when nothing arrives).
    public mutating func pendingRequest(now: UInt64) -> Request? {
        guard let first = kept.keys.min() else { return nil }
        return request(now: now, upTo: first)
    }

    mutating func apply(_ packet: MoldUDP64.Packet) {
        packet.forEachMessage { sequence, message in
            guard sequence == expected else { return }
            onMessage?(sequence, message, replica)
            applyMessage(message)
            expected &+= 1
        }
    }

    mutating func applyMessage(_ message: UnsafeRawBufferPointer) {
        counters.messages += 1
        if recording { recorded.append(Array(message)) }
        applyToBooks(message, source: "feed")
    }

    /// Decodes a message and applies it to the books; a message that does not decode, or
    /// that the books disagree with, is counted with what went wrong.
    mutating func applyToBooks(_ message: UnsafeRawBufferPointer, source: String) {
        switch ITCHDecoder.decode(message) {
        case .success(let decoded):
            let outcome = replica.apply(decoded)
            if outcome != .applied && outcome != .ignored {
                counters.messageErrors += 1
                counters.lastError = "\(source): \(outcome) for \(decoded)"
            }
        case .failure(let error):
            counters.messageErrors += 1
            counters.lastError = "\(source): \(error)"
        }
    }

    mutating func drainKept() {
        while let first = kept.keys.min(), first <= expected {
            let bytes = kept.removeValue(forKey: first)!
            bytes.withUnsafeBytes { raw in
                if case .success(let packet) = MoldUDP64.readPacket(raw) { apply(packet) }
            }
        }
        if kept.isEmpty {
            requested = nil
            unanswered = 0
        }
    }

    // MARK: Late join

    public mutating func beginSnapshot() {
        joining = true
        replica.removeAll()
    }

    /// One ITCH message of the snapshot (not counted as a feed message).
    public mutating func applySnapshot(_ message: UnsafeRawBufferPointer) {
        applyToBooks(message, source: "snapshot")
    }

    /// The snapshot could not be had: the feed goes on from where the handler was, kept
    /// packets included, on the books as they are (emptied by `beginSnapshot`; after a restart
    /// `incompleteSince` stays set).
    public mutating func abandonSnapshot() {
        joining = false
        drainKept()
    }

    /// The feed continues at `nextSequence`: kept packets from there on are applied.
    public mutating func endSnapshot(nextSequence: UInt64, session snapshotSession: SoupSessionName) {
        session = snapshotSession
        expected = nextSequence
        newestSeen = max(newestSeen, nextSequence)
        joining = false
        snapshotNeeded = nil
        incompleteSince = nil
        requested = nil
        unanswered = 0
        for key in kept.keys where key < nextSequence {
            // Keep packets that straddle the snapshot point: they are applied from `expected` on.
            if let bytes = kept[key], bytes.withUnsafeBytes({ raw in
                (try? MoldUDP64.readPacket(raw).get()).map { $0.sequence &+ UInt64($0.messageCount) <= nextSequence } ?? true
            }) {
                kept.removeValue(forKey: key)
            }
        }
        drainKept()
    }
}
