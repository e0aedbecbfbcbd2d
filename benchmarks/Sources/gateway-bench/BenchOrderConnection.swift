import ExchangeCore
import ExchangeWire

/// What the closed-loop and pipelining clients need of an order-entry connection, whatever
/// its protocol: OUCH 5.0 over SoupBinTCP (`OrderEntryConnection`, plain or TLS) or FIX 4.4
/// (`FIXConnection`). Every order is the benchmark's one order (`BenchMarket`), named by its
/// token; a cancel cancels it whole.
protocol BenchOrderConnection: ~Copyable {
    var port: UInt16 { get }
    /// The TSC right after the last receive that returned bytes.
    var lastReceiveTSC: UInt64 { get }
    /// Room left in the send queue.
    var sendRoom: Int { get }
    /// Send-queue bytes an Enter or a Cancel needs at most.
    static var largestRequest: Int { get }
    mutating func queueEnter(_ token: OrderToken)
    mutating func queueCancel(_ token: OrderToken)
    /// Sends what the socket takes now; true when the queue is empty afterwards.
    @discardableResult mutating func flush() throws(BenchFailure) -> Bool
    /// Sends the whole queue, spinning; gives up at the TSC `deadline`.
    mutating func flushAll(deadline: UInt64) throws(BenchFailure)
    /// The next answer to an Enter or a Cancel that has arrived, else nil (session-level
    /// messages are dealt with inside).
    mutating func nextAnswer() throws(BenchFailure) -> BenchAnswer?
    /// Between two `nextAnswer` calls that found nothing (throws past the TSC `deadline`).
    func waitBetweenPolls(_ spins: inout UInt32, deadline: UInt64) throws(BenchFailure)
    /// Logs out without waiting (the connection closes when the value dies).
    mutating func logout()
}

/// An answer to an Enter or a Cancel, in either protocol's terms.
struct BenchAnswer {
    enum Kind {
        /// OUCH Accepted; FIX ExecutionReport ExecType New.
        case accepted
        /// OUCH Canceled; FIX ExecutionReport ExecType Canceled.
        case canceled
        /// OUCH Rejected; FIX ExecutionReport ExecType Rejected.
        case rejected
        /// OUCH Cancel Reject; FIX OrderCancelReject.
        case cancelRejected
        /// Anything else the server sent that is not session-level.
        case other
    }

    var kind: Kind
    /// The order the answer is about (`.other`: none).
    var token: OrderToken
    /// Why (rejects): the protocol's reason code or text.
    var reason: String = ""

    static let noToken = OrderToken(high: 0, low: 0)
}

extension OrderEntryConnection: BenchOrderConnection {
    static var largestRequest: Int { BenchMarket.enterPacketBytes }

    @inline(__always)
    mutating func queueEnter(_ token: OrderToken) { queue { BenchMarket.writeEnter(token: token, to: $0) } }

    @inline(__always)
    mutating func queueCancel(_ token: OrderToken) { queue { BenchMarket.writeCancel(token: token, to: $0) } }

    @inline(__always)
    mutating func nextAnswer() throws(BenchFailure) -> BenchAnswer? {
        while let frame = try poll() {
            guard frame.type == SoupPacketType.sequencedData else {
                if frame.type == SoupPacketType.serverHeartbeat || frame.type == SoupPacketType.debug { continue }
                return BenchAnswer(kind: .other, token: BenchAnswer.noToken, reason: "SoupBinTCP packet type \(frame.type)")
            }
            guard let message = frame.payload.baseAddress, frame.payload.count >= OUCHLayout.Rejected.length else {
                return BenchAnswer(kind: .other, token: BenchAnswer.noToken)
            }
            let token = AlphaField.readToken(message, at: OUCHLayout.Accepted.token)
            switch message.load(as: UInt8.self) {
            case OUCH.OutboundType.accepted: return BenchAnswer(kind: .accepted, token: token)
            case OUCH.OutboundType.canceled: return BenchAnswer(kind: .canceled, token: token)
            case OUCH.OutboundType.cancelReject: return BenchAnswer(kind: .cancelRejected, token: token)
            case OUCH.OutboundType.rejected:
                let reason = message.load(fromByteOffset: OUCHLayout.Rejected.reason, as: UInt8.self)
                return BenchAnswer(kind: .rejected, token: AlphaField.readToken(message, at: OUCHLayout.Rejected.token),
                                   reason: "reason \(String(UnicodeScalar(reason)))")
            default: return BenchAnswer(kind: .other, token: token)
            }
        }
        return nil
    }
}
