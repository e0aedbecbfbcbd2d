import ExchangeTLS
import ExchangeWire
import Glibc

/// Fetches a snapshot from the snapshot service (blocking, with a timeout) and loads it
/// into a feed handler. With a TLS context (market_data.snapshot_tls on) the same exchange
/// runs inside TLS: the handshake first (the server's certificate checked against the
/// context's CA and the host's IP address), then the SoupBinTCP bytes as records.
public enum SnapshotClient {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case connect(Int32)
        case rejected(UInt8)
        case closedEarly
        case timedOut
        case protocolError(String)
        /// The TLS handshake or a record failed: the reason (`TLSFailure`), OpenSSL's text beside it.
        case tls(String)

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
            case .tls(let what): "TLS: \(what)"
            }
        }
    }

    public struct Snapshot {
        public var session: SoupSessionName
        public var nextSequence: UInt64
        /// The ITCH messages, in order (End of Snapshot not included).
        public var messages: [[UInt8]]
    }

    /// Tries each address in order (the primary's snapshot service, then a standby's) until
    /// one serves a snapshot; a connection refused, closed or timed out, or a login rejected for
    /// a session not available moves on. The last failure when none serves.
    public static func fetch(from addresses: [FeedServiceAddress], username: SoupUsername, password: SoupPassword,
                             session: SoupSessionName = .blank, timeoutMilliseconds: Int = 10_000,
                             tls: TLSContext? = nil) -> Result<Snapshot, Failure> {
        var outcome: Result<Snapshot, Failure> = .failure(.connect(ECONNREFUSED))
        for address in addresses {
            outcome = fetch(host: address.host, port: address.port, username: username, password: password, session: session,
                            timeoutMilliseconds: timeoutMilliseconds, tls: tls)
            switch outcome {
            case .success: return outcome
            case .failure(.connect), .failure(.closedEarly), .failure(.timedOut),
                 .failure(.rejected(SoupLoginRejectReason.sessionNotAvailable)): continue
            case .failure: return outcome
            }
        }
        return outcome
    }

    /// Logs in, reads until End of Snapshot, logs out.
    public static func fetch(host: UInt32, port: UInt16, username: SoupUsername, password: SoupPassword,
                             session: SoupSessionName = .blank, timeoutMilliseconds: Int = 10_000,
                             tls: TLSContext? = nil) -> Result<Snapshot, Failure> {
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
        var transport = SnapshotTransport(fd: fd)
        if let tls {
            guard let channel = TLSChannel(context: tls, expectedHost: FeedSockets.dotted(host)) else {
                return .failure(.tls("out of memory for a TLS session"))
            }
            transport.box = SnapshotTLSSession(channel)
            if let failure = transport.handshake() { return .failure(failure) }
        }
        var login = [UInt8](repeating: 0, count: 64)
        let n = login.withUnsafeMutableBytes {
            SoupBinTCP.loginRequest(username: username, password: password, session: session, sequence: 0, to: $0.baseAddress!)
        }
        if let failure = transport.sendAll(login, count: n) { return .failure(failure) }
        var reader = SoupFrameReader(maximumPacketLength: 4_096)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var result = Snapshot(session: .blank, nextSequence: 0, messages: [])
        var loggedIn = false
        while true {
            let got: Int
            switch transport.receive(into: &chunk) {
            case .success(let n): got = n
            case .failure(let failure): return .failure(failure)
            }
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
                _ = transport.sendAll(logout, count: 3)
                return done
            }
        }
    }
}

/// The snapshot client's socket, plain or under a client `TLSChannel`: blocking reads bounded
/// by the socket's receive timeout.
struct SnapshotTransport {
    let fd: Int32
    var box: SnapshotTLSSession?
    /// Ciphertext read from the socket (TLS) before it is fed to the channel.
    var ciphertext = [UInt8](repeating: 0, count: TLSChannel.defaultBufferCapacity)

    init(fd: Int32) { self.fd = fd }

    /// Why the TLS channel failed, or a generic reason.
    func tlsFailure(_ fallback: String) -> SnapshotClient.Failure {
        .tls(box?.channel.failure?.description ?? fallback)
    }

    /// Writes all the ciphertext the channel holds.
    func flush() -> SnapshotClient.Failure? {
        guard let box else { return nil }
        var buffer = [UInt8](repeating: 0, count: 16_896)
        while box.channel.pendingCiphertext > 0 {
            let n = buffer.withUnsafeMutableBytes { box.channel.takeCiphertext(into: $0) }
            var offset = 0
            while offset < n {
                let wrote = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, n - offset) }
                if wrote <= 0 { return .closedEarly }
                offset += wrote
            }
        }
        return nil
    }

    /// Runs the TLS handshake to its end. Nil when it completed.
    mutating func handshake() -> SnapshotClient.Failure? {
        guard let box else { return nil }
        while true {
            let progress = box.channel.advanceHandshake()
            if let failure = flush() { return progress == .failed ? tlsFailure("handshake failed") : failure }
            switch progress {
            case .complete: return nil
            case .failed: return tlsFailure("handshake failed")
            case .needsInput, .needsOutputRoom: break
            }
            let got = ciphertext.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closedEarly }
            if got == 0 {
                _ = box.channel.advanceHandshake()
                return tlsFailure("the snapshot service closed the connection during the TLS handshake (is market_data.snapshot_tls on, and does it accept this certificate?)")
            }
            _ = ciphertext.withUnsafeBytes { box.channel.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        }
    }

    /// Sends `count` bytes of `bytes` (encrypted when under TLS).
    func sendAll(_ bytes: [UInt8], count: Int) -> SnapshotClient.Failure? {
        guard let box else {
            return bytes.withUnsafeBytes { write(fd, $0.baseAddress, count) } == count ? nil : .closedEarly
        }
        var offset = 0
        while offset < count {
            let transfer = bytes.withUnsafeBytes { box.channel.writePlaintext(UnsafeRawBufferPointer(rebasing: $0[offset..<count])) }
            switch transfer {
            case .bytes(let n): offset += n
            case .needsOutputRoom, .needsInput: break
            case .closed: return .closedEarly
            case .failed: return tlsFailure("a record could not be written")
            }
            if let failure = flush() { return failure }
        }
        return nil
    }

    /// Reads what arrives next (plaintext) into `buffer`: the count, or why nothing will.
    mutating func receive(into buffer: inout [UInt8]) -> Result<Int, SnapshotClient.Failure> {
        guard let box else {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { return .failure(errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closedEarly) }
            if got == 0 { return .failure(.closedEarly) }
            return .success(got)
        }
        while true {
            switch buffer.withUnsafeMutableBytes({ box.channel.readPlaintext(into: $0) }) {
            case .bytes(let n) where n > 0: return .success(n)
            case .bytes, .needsInput: break
            case .needsOutputRoom:
                if let failure = flush() { return .failure(failure) }
                continue
            case .closed: return .failure(.closedEarly)
            case .failed: return .failure(tlsFailure("a record did not decrypt"))
            }
            let got = ciphertext.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { return .failure(errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closedEarly) }
            if got == 0 { return .failure(.closedEarly) }
            _ = ciphertext.withUnsafeBytes { box.channel.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        }
    }
}

/// A client TLS channel behind a reference, so that the transport can hold it or not.
final class SnapshotTLSSession {
    let channel: TLSChannel
    init(_ channel: consuming TLSChannel) { self.channel = channel }
}

/// An IPv4 address and port of one of the exchange's feed services (snapshot, re-request).
public struct FeedServiceAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host byte order (0x7F000001 is 127.0.0.1).
    public var host: UInt32
    public var port: UInt16

    public init(host: UInt32, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(FeedSockets.dotted(host)):\(port)" }
}
