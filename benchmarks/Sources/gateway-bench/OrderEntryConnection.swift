import BenchSupport
import CExchangeShim
import ExchangeTLS
import ExchangeWire
import Glibc

/// A client's order-entry connection to 127.0.0.1: a non-blocking TCP socket (TCP_NODELAY)
/// that the caller spins on, SoupBinTCP framing of what arrives, and a send queue; with a
/// `TLSContext`, TLS between them (`BenchTLS`). `FIXConnection` uses the same socket, send
/// queue and TLS through `receive(into:capacity:)`, with FIX framing instead.
///
/// Nothing here allocates after `init`: the receive and send buffers are fixed, frames point
/// into the receive buffer (or the frame reader's own buffer for a packet split across two
/// receives) and are valid until the next `poll`.
struct OrderEntryConnection: ~Copyable {
    let port: UInt16
    private let fd: Int32
    /// `--client-blocks`: wait for an answer in poll(2) rather than spinning on recv (set once,
    /// before any connection).
    nonisolated(unsafe) static var waitsInPoll = false
    private var reader: SoupFrameReader
    private let receiveBuffer: UnsafeMutableRawPointer
    private let receiveCapacity: Int
    private var unread: UnsafeRawBufferPointer
    /// The TSC (rdtscp) read right after the last receive that returned bytes: the arrival
    /// time of every frame in those bytes.
    private(set) var lastReceiveTSC: UInt64 = 0
    private let sendBuffer: UnsafeMutableRawPointer
    private let sendCapacity: Int
    private var sendEnd = 0
    private var sendStart = 0
    /// TLS (rtes-tls): the send queue then holds ciphertext, encrypted as each packet is
    /// queued, so that a round trip's clock starts with the bytes ready for the wire.
    private let tls: BenchTLS?

    init(port: UInt16, tls context: TLSContext? = nil, receiveCapacity: Int = 1 << 16, sendCapacity: Int = 1 << 16) throws(BenchFailure) {
        self.port = port
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw BenchFailure("socket: \(String(cString: strerror(errno)))") }
        var address = FreePorts.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(socket)
            throw BenchFailure("connect to 127.0.0.1:\(port): \(String(cString: strerror(error)))")
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        do {
            tls = try context.map { (context) throws(BenchFailure) in
                let session = try BenchTLS(context: context, port: port)
                try session.handshake(fd: socket, seconds: 5)
                return session
            }
        } catch {
            close(socket)
            throw error
        }
        fd = socket
        reader = SoupFrameReader(maximumPacketLength: 1 + OUCH.maximumOutboundLength)
        self.receiveCapacity = receiveCapacity
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 64)
        unread = UnsafeRawBufferPointer(start: receiveBuffer, count: 0)
        self.sendCapacity = sendCapacity
        sendBuffer = .allocate(byteCount: sendCapacity, alignment: 64)
    }

    deinit {
        close(fd)
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
    }

    // MARK: Receiving

    /// The next whole packet if one has arrived, else nil (after one `recv` that found
    /// nothing). Throws when the server closed the connection or sent something unframeable.
    @inline(__always)
    mutating func poll() throws(BenchFailure) -> SoupFrame? {
        while true {
            if unread.count > 0 {
                switch reader.next(&unread) {
                case .frame(let frame): return frame
                case .needMoreData: break
                case .malformed(let error): throw BenchFailure("port \(port): unframeable bytes from the server: \(error)")
                }
            }
            let received = try receive(into: receiveBuffer, capacity: receiveCapacity)
            if received == 0 { return nil }
            unread = UnsafeRawBufferPointer(start: receiveBuffer, count: received)
        }
    }

    /// Bytes from the server (plaintext, decrypted under TLS) into `buffer`: their count, or 0
    /// when nothing has arrived (after one `recv` that found nothing). `lastReceiveTSC` is
    /// read right after the `recv` that brought them, before any decryption.
    @inline(__always)
    mutating func receive(into buffer: UnsafeMutableRawPointer, capacity: Int) throws(BenchFailure) -> Int {
        if let tls {
            var arrivedAt: UInt64 = 0
            let count = try tls.receive(fd: fd, into: buffer, capacity: capacity, arrivedAt: &arrivedAt)
            if arrivedAt != 0 { lastReceiveTSC = arrivedAt }
            return count
        }
        while true {
            let received = recv(fd, buffer, capacity, Int32(MSG_DONTWAIT))
            if received > 0 {
                lastReceiveTSC = rtes_rdtscp()
                return received
            }
            if received == 0 { throw BenchFailure("port \(port): the server closed the connection") }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK { return 0 }
            if error != EINTR { throw BenchFailure("port \(port): recv: \(String(cString: strerror(error)))") }
        }
    }

    /// Spins on `poll` until a packet arrives; gives up at the TSC `deadline`.
    @inline(__always)
    mutating func nextFrame(deadline: UInt64) throws(BenchFailure) -> SoupFrame {
        var spins: UInt32 = 0
        while true {
            if let frame = try poll() { return frame }
            try waitBetweenPolls(&spins, deadline: deadline)
        }
    }

    /// Between two polls that found nothing: waits in poll(2) with `--client-blocks`, and
    /// throws once the TSC `deadline` has passed (looked at every 1,024 spins).
    @inline(__always)
    func waitBetweenPolls(_ spins: inout UInt32, deadline: UInt64) throws(BenchFailure) {
        if Self.waitsInPoll {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&ready, 1, 100)
        }
        spins &+= 1
        if spins & 1_023 == 0 && rtes_rdtsc() > deadline {
            throw BenchFailure("port \(port): no answer within the time allowed")
        }
    }

    // MARK: Sending

    /// Room left in the send queue (for plaintext: a TLS record adds at most `BenchTLS.recordOverhead`).
    var sendRoom: Int { sendCapacity - sendEnd - (tls == nil ? 0 : BenchTLS.recordOverhead) }

    /// Bytes queued and not yet sent.
    var unsent: Int { sendEnd - sendStart }

    /// Appends one packet written by `write` (which returns its length) to the send queue.
    /// The caller checks `sendRoom` first.
    /// Under TLS the packet is encrypted at once and its ciphertext queued.
    @inline(__always)
    mutating func queue(_ write: (UnsafeMutableRawPointer) -> Int) {
        if let tls {
            sendEnd += tls.encrypt(write, to: sendBuffer + sendEnd, room: sendCapacity - sendEnd)
        } else {
            sendEnd += write(sendBuffer + sendEnd)
        }
    }

    /// Sends what the socket takes now; true when the queue is empty afterwards.
    @inline(__always)
    @discardableResult
    mutating func flush() throws(BenchFailure) -> Bool {
        while sendStart < sendEnd {
            let sent = send(fd, sendBuffer + sendStart, sendEnd - sendStart, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if sent > 0 {
                sendStart += sent
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK { break }
            if error != EINTR { throw BenchFailure("port \(port): send: \(String(cString: strerror(error)))") }
        }
        if sendStart == sendEnd {
            sendStart = 0
            sendEnd = 0
            return true
        }
        if sendStart > sendCapacity / 2 {  // keep room at the end: move the unsent bytes to the front
            sendBuffer.copyMemory(from: sendBuffer + sendStart, byteCount: sendEnd - sendStart)
            sendEnd -= sendStart
            sendStart = 0
        }
        return false
    }

    /// Sends the whole queue, spinning; gives up at the TSC `deadline`.
    @inline(__always)
    mutating func flushAll(deadline: UInt64) throws(BenchFailure) {
        while try !flush() {
            if rtes_rdtsc() > deadline { throw BenchFailure("port \(port): the server stopped reading") }
        }
    }

    // MARK: Session

    /// Connects and logs in `account`, trying again as `LoginRetry` says.
    static func loggedIn(port: UInt16, account: BenchAccount, clock: TSCClock, tls: TLSContext? = nil) throws(BenchFailure) -> OrderEntryConnection {
        try LoginRetry.connect(port: port, account: account) { (refusal) throws(BenchFailure) -> OrderEntryConnection? in
            var connection = try OrderEntryConnection(port: port, tls: tls)
            if try connection.login(account, deadline: rtes_rdtsc() &+ clock.ticksPerSecond &* 5) != nil { return connection }
            refusal = "Login Rejected, session not available"
            return nil
        }
    }

    /// Logs in (Login Request, blank session, sequence 0: start with the newest message)
    /// and waits for Login Accepted. Returns the next sequence number the server stated, or
    /// nil for Login Rejected "session not available" (the server then closes).
    mutating func login(_ account: BenchAccount, deadline: UInt64) throws(BenchFailure) -> UInt64? {
        queue { SoupBinTCP.loginRequest(username: account.username, password: account.password, to: $0) }
        try flushAll(deadline: deadline)
        while true {
            let frame = try nextFrame(deadline: deadline)
            switch frame.type {
            case SoupPacketType.loginAccepted:
                guard let accepted = SoupBinTCP.parseLoginAccepted(frame.payload) else {
                    throw BenchFailure("port \(port): a Login Accepted of \(frame.payload.count) bytes")
                }
                return accepted.sequence
            case SoupPacketType.loginRejected:
                let reason = SoupBinTCP.parseLoginRejected(frame.payload)
                if reason == SoupLoginRejectReason.sessionNotAvailable { return nil }
                throw BenchFailure("port \(port): login of \(account.username) rejected (\(reason.map { String(UnicodeScalar($0)) } ?? "?"))")
            case SoupPacketType.serverHeartbeat, SoupPacketType.debug:
                continue
            default:
                throw BenchFailure("port \(port): packet type \(frame.type) before Login Accepted")
            }
        }
    }

    /// Logout Request, sent without waiting (the connection closes when this value dies).
    mutating func logout() {
        guard sendRoom >= SoupBinTCP.headerLength else { return }
        queue { SoupBinTCP.logoutRequest(to: $0) }
        _ = try? flush()
    }
}
