import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc

/// A raw-socket SoupBinTCP client for the tests: blocking sends, reads with a deadline,
/// its own framing. Everything it sent and received can be kept (`transcript`) to be
/// replayed into a pcap. Closed on deinit.
final class SoupTestClient {
    enum Event: Equatable, CustomStringConvertible {
        case packet(ServerPacket)
        /// The server closed the connection (end of stream).
        case closed
        /// The connection was reset (ECONNRESET or another socket error).
        case reset(Int32)
        case timeout

        var packet: ServerPacket? { if case .packet(let p) = self { p } else { nil } }
        var description: String {
            switch self {
            case .packet(let p): p.description
            case .closed: "closed"
            case .reset(let e): "reset(\(e))"
            case .timeout: "timeout"
            }
        }
    }

    enum Direction { case sent, received }

    private(set) var fd: Int32
    private var pending: [UInt8] = []
    private var ended: Event?
    /// The next sequence number, counted from Login Accepted.
    private(set) var nextSequence: UInt64 = 0
    /// Sequenced Data received, each with its sequence number.
    private(set) var sequenced: [(sequence: UInt64, packet: ServerPacket)] = []
    /// Every packet in both directions, in order, when `recording`.
    private(set) var transcript: [(direction: Direction, bytes: [UInt8])] = []
    var recording = false

    /// Connects to 127.0.0.1:`port`, from `source` when given (a 127.x.y.z address, host
    /// byte order). `receiveBuffer` shrinks SO_RCVBUF before connecting (the kernel doubles
    /// it and keeps a minimum).
    init(port: Int, receiveBuffer: Int32? = nil, source: UInt32? = nil) throws {
        fd = connectLoopback(Int32(port), receiveBuffer: receiveBuffer, nonBlocking: false, source: source)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: -fd) ?? .EIO) }
    }

    deinit { close() }

    /// Closes gracefully (FIN).
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Closes abortively (RST): SO_LINGER with a zero timeout.
    func reset() {
        guard fd >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// Sends every byte (blocking). False when the connection is gone (EPIPE, ECONNRESET).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        if recording { transcript.append((.sent, bytes)) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Waits (at most `milliseconds`) until the socket can take more bytes; true when it can.
    @discardableResult
    func waitWritable(milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&poller, 1, milliseconds) > 0
    }

    /// Sends without blocking; returns the bytes the kernel took (-errno on error).
    func sendNonBlocking(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = Glibc.send(fd, bytes.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        return n >= 0 ? n : -Int(errno)
    }

    /// The next packet, or how the connection ended, or `.timeout` after `timeout` seconds
    /// (0: only what has arrived already).
    func next(timeout: Double = 3) -> Event {
        let deadline = Deadline(seconds: timeout)
        while true {
            if let packet = takePacket() { return .packet(packet) }
            if let ended { return ended }
            let expired = deadline.hasPassed
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, deadline.remainingMilliseconds())
            if ready < 0 && errno != EINTR { ended = .reset(errno); continue }
            if ready <= 0 {
                if expired { return .timeout }
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                pending += chunk[0..<n]
            } else if n == 0 {
                ended = .closed
            } else if errno != EINTR && errno != EAGAIN {
                ended = .reset(errno)
            }
        }
    }

    /// The next packet that is not a Server Heartbeat.
    func nextIgnoringHeartbeats(timeout: Double = 3) -> Event {
        let deadline = Deadline(seconds: timeout)
        while true {
            let event = next(timeout: deadline.remainingSeconds)
            if case .packet(let p) = event, p.isHeartbeat { continue }
            return event
        }
    }

    /// Every packet until the connection ends (or `timeout`), and how it ended; `meanwhile`
    /// runs every 20 ms while waiting (a well-behaved session's heartbeats).
    func readUntilClosed(timeout: Double = 3, meanwhile: (() -> Void)? = nil) -> (packets: [ServerPacket], end: Event) {
        var packets: [ServerPacket] = []
        let deadline = Deadline(seconds: timeout)
        while true {
            meanwhile?()
            let left = deadline.remainingSeconds
            let event = next(timeout: meanwhile == nil ? left : min(left, 0.02))
            if case .packet(let p) = event {
                packets.append(p)
            } else if event != .timeout || left == 0 {
                return (packets, event)
            }
        }
    }

    /// Sends Logout; true when the server then closes with nothing but heartbeats before.
    func logOut(timeout: Double = 3) -> Bool {
        send(Client.logout)
        let (packets, end) = readUntilClosed(timeout: timeout)
        return end == .closed && packets.allSatisfy { $0.isHeartbeat }
    }

    /// The next `count` OUCH messages, skipping heartbeats; nil (and whatever came instead
    /// in `unexpected`) when something else arrives or time runs out.
    func replies(_ count: Int, timeout: Double = 3) -> [OUCHReply]? {
        var result: [OUCHReply] = []
        while result.count < count {
            let event = nextIgnoringHeartbeats(timeout: timeout)
            guard let packet = event.packet, let reply = packet.ouch else {
                unexpected.append(event)
                return nil
            }
            result.append(reply)
        }
        return result
    }

    /// What `replies` met instead of an OUCH message.
    var unexpected: [Event] = []

    /// Sends a Login Request and returns the answer (Login Accepted sets the sequence count).
    func login(_ credentials: Credentials, session: String = "", sequence: UInt64 = 0, timeout: Double = 3) -> Event {
        send(Client.login(credentials, session: session, sequence: sequence))
        return next(timeout: timeout)
    }

    private func takePacket() -> ServerPacket? {
        guard pending.count >= 2 else { return nil }
        let length = Int(pending[0]) << 8 | Int(pending[1])
        guard length >= 1, pending.count >= 2 + length else { return nil }
        let packet = ServerPacket(type: pending[2], payload: Array(pending[3..<2 + length]))
        pending.removeFirst(2 + length)
        if recording { transcript.append((.received, packet.bytes)) }
        if let accepted = packet.loginAccepted {
            nextSequence = accepted.sequence
        } else if packet.isSequenced {
            sequenced.append((nextSequence, packet))
            nextSequence += 1
        }
        return packet
    }
}

extension SoupTestClient {
    /// Connects and logs in; the Login Accepted's sequence number is checked by the caller.
    static func loggedIn(port: Int, _ credentials: Credentials, sequence: UInt64 = 0) throws -> SoupTestClient {
        let client = try SoupTestClient(port: port)
        let answer = client.login(credentials, sequence: sequence)
        guard answer.packet?.loginAccepted != nil else { throw LoginFailed(answer: answer.description) }
        return client
    }
}

struct LoginFailed: Error, CustomStringConvertible {
    var answer: String
    var description: String { "login not accepted: \(answer)" }
}
