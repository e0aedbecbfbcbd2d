import ExchangeCore
import ExchangeWire
import Glibc

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

/// Logging in again on a new connection, for up to two seconds: the server may not yet have
/// seen the account's previous connection close (OUCH: Login Rejected "session not
/// available"; FIX: a Logout instead of a Logon), or may close a new connection at once while
/// it still counts earlier ones of 127.0.0.1 as not logged in (`max_pre_login_per_address`).
/// Each retry is printed with its reason, so that a run shows how often it happened.
enum LoginRetry {
    /// `attempt` makes a new connection and logs in: the connection, or nil with `refusal`
    /// set when the server refused; a thrown error that says the server closed the
    /// connection is retried too, any other ends the run.
    static func connect<Connection: ~Copyable>(
        port: UInt16, account: BenchAccount, _ attempt: (inout String) throws(BenchFailure) -> Connection?
    ) throws(BenchFailure) -> Connection {
        var attempts = 0
        while true {
            var refusal = ""
            do {
                if let connection = try attempt(&refusal) { return connection }
            } catch where error.description.contains("closed the connection") {
                refusal = error.description
            }
            attempts += 1
            print("port \(port): login of \(account.username), attempt \(attempts): \(refusal); trying again")
            if attempts == 40 { throw BenchFailure("port \(port): login of \(account.username) failed 40 times; the last: \(refusal)") }
            usleep(50_000)
        }
    }
}
