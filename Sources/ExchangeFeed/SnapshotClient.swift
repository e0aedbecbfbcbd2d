import ExchangeWire
import Glibc

/// Fetches a snapshot from the snapshot service (blocking, with a timeout) and loads it
/// into a feed handler.
public enum SnapshotClient {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case connect(Int32)
        case rejected(UInt8)
        case closedEarly
        case timedOut
        case protocolError(String)

        /// In words, for a person (the caller adds which service it was).
        public var description: String {
            switch self {
            case .connect(ECONNREFUSED): "connection refused (is the exchange running, with market data on, and is this its snapshot port?)"
            case .connect(let code): "cannot connect: \(String(cString: strerror(code)))"
            case .rejected(SoupLoginRejectReason.notAuthorized): "login rejected: A (not authorized: unknown username or wrong password)"
            case .rejected(SoupLoginRejectReason.sessionNotAvailable): "login rejected: S (session not available)"
            case .rejected(let code): "login rejected with reason code \(code)"
            case .closedEarly: "the snapshot service closed the connection before the End of Snapshot"
            case .timedOut: "no End of Snapshot in time"
            case .protocolError(let what): "unexpected data from the snapshot service: \(what)"
            }
        }
    }

    public struct Snapshot {
        public var session: SoupSessionName
        public var nextSequence: UInt64
        /// The ITCH messages, in order (End of Snapshot not included).
        public var messages: [[UInt8]]
    }

    /// Logs in, reads until End of Snapshot, logs out.
    public static func fetch(host: UInt32, port: UInt16, username: SoupUsername, password: SoupPassword,
                             session: SoupSessionName = .blank, timeoutMilliseconds: Int = 10_000) -> Result<Snapshot, Failure> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.connect(errno)) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = FeedSockets.socketAddress(host, port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { return .failure(.connect(errno)) }
        var login = [UInt8](repeating: 0, count: 64)
        let n = login.withUnsafeMutableBytes {
            SoupBinTCP.loginRequest(username: username, password: password, session: session, sequence: 0, to: $0.baseAddress!)
        }
        guard write(fd, login, n) == n else { return .failure(.closedEarly) }
        var reader = SoupFrameReader(maximumPacketLength: 4_096)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var result = Snapshot(session: .blank, nextSequence: 0, messages: [])
        var loggedIn = false
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { return .failure(errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closedEarly) }
            if got == 0 { return .failure(.closedEarly) }
            var done: Result<Snapshot, Failure>?
            chunk.withUnsafeBytes { raw in
                var input = UnsafeRawBufferPointer(rebasing: raw[0..<got])
                loop: while done == nil {
                    switch reader.next(&input) {
                    case .needMoreData: break loop
                    case .malformed(let e): done = .failure(.protocolError("\(e)"))
                    case .frame(let frame):
                        switch frame.type {
                        case SoupPacketType.loginAccepted:
                            guard let accepted = SoupBinTCP.parseLoginAccepted(frame.payload) else {
                                done = .failure(.protocolError("login accepted"))
                                break
                            }
                            result.session = accepted.session
                            loggedIn = true
                        case SoupPacketType.loginRejected:
                            done = .failure(.rejected(SoupBinTCP.parseLoginRejected(frame.payload) ?? 0))
                        case SoupPacketType.sequencedData where loggedIn:
                            if let next = GlimpseSnapshot.readEndOfSnapshot(frame.payload) {
                                result.nextSequence = next
                                done = .success(result)
                            } else {
                                result.messages.append(Array(frame.payload))
                            }
                        case SoupPacketType.serverHeartbeat: break
                        default: done = .failure(.protocolError("packet type \(frame.type)"))
                        }
                    }
                }
            }
            if let done {
                var logout = [UInt8](repeating: 0, count: 3)
                _ = logout.withUnsafeMutableBytes { SoupBinTCP.logoutRequest(to: $0.baseAddress!) }
                _ = write(fd, logout, 3)
                return done
            }
        }
    }
}
