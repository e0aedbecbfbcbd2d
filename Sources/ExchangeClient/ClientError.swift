import CClientShim
import ExchangeWire

/// Everything that can go wrong talking to the exchange, in words a user can act on.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A value the protocol cannot carry (a username longer than 6 characters, a price with
    /// more than 4 decimals, …).
    case invalidArgument(String)
    /// The host name did not resolve.
    case unresolvableHost(String, reason: String)
    /// Nothing listens on host:port.
    case connectionRefused(host: String, port: Int)
    /// `connect` failed for another reason (unreachable network, …).
    case connectFailed(host: String, port: Int, errno: Int32)
    /// Nothing (or not the awaited thing) arrived in time.
    case timedOut(waitingFor: String, seconds: Double)
    /// The exchange closed the connection; `debug` is the text of the last Debug packet it
    /// sent (it names the reason when the exchange gives one).
    case closedByPeer(debug: String?)
    /// The connection broke (reset by the peer, broken pipe); `debug` as for `closedByPeer`.
    case connectionLost(errno: Int32, debug: String?)
    /// Received bytes that do not frame as SoupBinTCP.
    case malformedFrame(SoupFramingError)
    /// A well-framed packet that SoupBinTCP 3.0 / OUCH 4.2 do not allow here.
    case malformedPacket(type: UInt8, length: Int, why: String)
    /// The exchange answered the Login Request with Login Rejected.
    case loginRejected(LoginRejection, debug: String?)
    /// The call needs a logged-in session.
    case notLoggedIn
    /// The connection was closed on this side already.
    case closed
    /// Any other failed system call.
    case system(call: String, errno: Int32)
    /// TLS failed: the handshake was refused (with the reason: certificate expired, unknown
    /// CA, protocol version too old, …) or a record did not decrypt.
    case tls(String)
    /// A failover found no address that would take the session back within its attempts:
    /// how many were made, and why the last one failed.
    case failoverExhausted(attempts: Int, last: String)
    /// After a failover the exchange at `address` offered to resume the session at
    /// `offered`, before `expected` (the next message the caller has not seen): it lacks
    /// messages this client received (acknowledgements lost). The session is not continued.
    case sessionDiverged(address: String, expected: UInt64, offered: UInt64)

    public var description: String {
        switch self {
        case .invalidArgument(let what):
            return "invalid argument: \(what)"
        case .unresolvableHost(let host, let reason):
            return "cannot resolve host \(host): \(reason)"
        case .connectionRefused(let host, let port):
            return "connection refused by \(host):\(port) (is the exchange running and listening on that port?)"
        case .connectFailed(let host, let port, let errno):
            return "cannot connect to \(host):\(port): \(errorText(errno))"
        case .timedOut(let what, let seconds):
            return "timed out after \(formatSeconds(seconds)) waiting for \(what)"
        case .closedByPeer(let debug):
            return "the exchange closed the connection" + (debug.map { ": \($0)" } ?? "")
        case .connectionLost(let errno, let debug):
            return "connection lost: \(errorText(errno))" + (debug.map { " (exchange said: \($0))" } ?? "")
        case .malformedFrame(let error):
            switch error {
            case .zeroLength: return "malformed SoupBinTCP data from the exchange: a packet length of 0"
            case .tooLong(let n): return "malformed SoupBinTCP data from the exchange: a packet length of \(n)"
            }
        case .malformedPacket(let type, let length, let why):
            return "malformed packet from the exchange (type \(MessageText.typeName(type)), \(length) bytes): \(why)"
        case .loginRejected(let reason, let debug):
            return "login rejected: \(reason)" + (debug.map { " (\($0))" } ?? "")
        case .notLoggedIn:
            return "not logged in"
        case .closed:
            return "the connection is closed"
        case .system(let call, let errno):
            return "\(call) failed: \(errorText(errno))"
        case .tls(let reason):
            return "TLS: \(reason)"
        case .failoverExhausted(let attempts, let last):
            return "failover gave up after \(attempts) attempt(s) on every address; the last: \(last)"
        case .sessionDiverged(let address, let expected, let offered):
            return "after the failover \(address) resumes the session at sequence \(offered), but this client already received up to "
                + "\(expected - 1): the exchange there lacks messages it sent (acknowledgements lost); the session is not continued"
        }
    }
}

/// Why the exchange refused a Login Request (SoupBinTCP Login Rejected reason).
public enum LoginRejection: Equatable, Sendable, CustomStringConvertible {
    /// `A`: the username/password pair is not valid.
    case notAuthorized
    /// `S`: the requested session is not available (unknown session, the account is logged
    /// in elsewhere, the requested sequence number is no longer kept, shutdown).
    case sessionNotAvailable
    /// Any other code.
    case other(UInt8)

    public init(code: UInt8) {
        switch code {
        case SoupLoginRejectReason.notAuthorized: self = .notAuthorized
        case SoupLoginRejectReason.sessionNotAvailable: self = .sessionNotAvailable
        default: self = .other(code)
        }
    }

    public var code: UInt8 {
        switch self {
        case .notAuthorized: SoupLoginRejectReason.notAuthorized
        case .sessionNotAvailable: SoupLoginRejectReason.sessionNotAvailable
        case .other(let code): code
        }
    }

    public var description: String {
        switch self {
        case .notAuthorized: "A (not authorized: unknown username or wrong password)"
        case .sessionNotAvailable: "S (session not available)"
        case .other(let code): "\(MessageText.character(code)) (unknown reason code)"
        }
    }
}

/// strerror for an errno value.
func errorText(_ errno: Int32) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer -> String in
        guard let start = buffer.baseAddress else { return "errno \(errno)" }
        let length = rtes_strerror(errno, start, 128)
        guard length > 0 else { return "errno \(errno)" }
        let text = String(decoding: UnsafeRawBufferPointer(start: start, count: Int(min(length, 127))), as: UTF8.self)
        return "\(text) (errno \(errno))"
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds >= 1 ? "\(Double(Int(seconds * 100)) / 100) s" : "\(Int(seconds * 1_000)) ms"
}
