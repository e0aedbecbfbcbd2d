import ExchangeCore
import ExchangeTLS
import ExchangeWire
import Glibc

/// An OUCH 4.2 order-entry session over SoupBinTCP 3.0: log in, send orders, cancels,
/// replaces and modifies, and read what the exchange sends back, decoded.
///
/// ```
/// let client = try OrderEntryClient.connect(port: 8888, username: "DEMO1", password: "demo1pass")
/// try client.enter(token: OrderToken("B1")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
/// let reply = try client.nextMessage(timeout: .seconds(1))   // #2 Accepted token=B1 … state=L
/// try client.logout()
/// ```
///
/// Every call is synchronous on the caller's thread; nothing runs in the background. While
/// logged in, the calls that send or wait also send a Client Heartbeat whenever
/// `Options.heartbeatInterval` has passed since the last bytes went out, so a session that
/// is waiting for replies stays up; a session left alone (no calls) for the exchange's idle
/// timeout (15 s) is dropped. `sendHeartbeat()` sends one on request.
///
/// Every failure is a `ClientError`: connection refused, the exchange closing the
/// connection (with its Debug reason), timeouts, malformed data.
public final class OrderEntryClient {
    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        /// Send a Client Heartbeat after this long without sending; nil: only on request.
        public var heartbeatInterval: Duration? = .seconds(1)
        public var tcpNoDelay = true
        /// Speak TLS with this client context (nil: plain TCP): `TLSClientSettings` makes
        /// one from RTES_CA_CERT and, for mutual TLS, RTES_TLS_CLIENT_CERT/RTES_TLS_CLIENT_KEY.
        public var tls: TLSContext?

        public init(connectTimeout: Duration = .seconds(5), heartbeatInterval: Duration? = .seconds(1), tcpNoDelay: Bool = true,
                    tls: TLSContext? = nil) {
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.heartbeatInterval = heartbeatInterval
            self.tcpNoDelay = tcpNoDelay
        }
    }

    /// The connection underneath: raw bytes in and out (tests send malformed data with it).
    /// A failover replaces it (OrderEntryClient+Failover.swift).
    public internal(set) var connection: SoupConnection
    public let options: Options
    /// The session name from Login Accepted (nil before).
    public private(set) var session: String?
    /// The sequence number the next Sequenced Data packet will have.
    public internal(set) var nextSequence: UInt64 = 0
    public internal(set) var isLoggedIn = false
    let heartbeatNanoseconds: UInt64?
    /// Every address this client may use, in order, and the one it is connected to.
    public let addresses: [ExchangeAddress]
    public internal(set) var addressIndex = 0
    /// How to fail over when the connection is lost or refused; nil: never (a loss is thrown).
    public let failover: FailoverPolicy?
    /// The login to repeat on a failover (kept only with a failover policy).
    var credentials: (username: String, password: String)?
    /// Failovers done, and the latest.
    public internal(set) var failoverCount = 0
    public internal(set) var lastFailover: FailoverEvent?
    /// Called after each failover, once the session is resumed and before the next message.
    public var onFailover: ((FailoverEvent) -> Void)?
    /// When bytes last arrived (CLOCK_MONOTONIC nanoseconds), for `FailoverPolicy.silenceTimeout`.
    var lastReceiveNanoseconds: UInt64 = 0

    /// Connects (no login yet).
    public convenience init(host: String = "127.0.0.1", port: Int, options: Options = Options()) throws(ClientError) {
        try self.init(addresses: [ExchangeAddress(host: host, port: port)], options: options)
    }

    /// Connects to the first of `addresses` that accepts, in order (no login yet): one pass
    /// over the list without a failover policy, else the policy's attempts and back-off.
    public convenience init(addresses: [ExchangeAddress], options: Options = Options(), failover: FailoverPolicy? = nil) throws(ClientError) {
        guard !addresses.isEmpty else { throw ClientError.invalidArgument("no exchange address") }
        let attempts = failover?.maximumAttempts ?? addresses.count
        var lastError: ClientError?
        var opened: (SoupConnection, Int)?
        for attempt in 1...max(1, attempts) {
            if let failover { FailoverWait.sleep(failover.backoff(beforeAttempt: attempt)) }
            let index = (attempt - 1) % addresses.count
            do throws(ClientError) {
                opened = (try Self.open(addresses[index], options), index)
                break
            } catch {
                lastError = error
                guard Self.mayTryAnother(error) else { throw error }
            }
        }
        guard let (connection, index) = opened else {
            if addresses.count == 1 && failover == nil, let lastError { throw lastError }
            throw ClientError.failoverExhausted(attempts: attempts, last: lastError.map { "\($0)" } ?? "none")
        }
        self.init(connection: connection, addresses: addresses, index: index, options: options, failover: failover)
    }

    /// A client on `connection`, which is to `addresses[index]`.
    init(connection: SoupConnection, addresses: [ExchangeAddress], index: Int, options: Options, failover: FailoverPolicy?) {
        self.connection = connection
        self.addresses = addresses
        self.failover = failover
        addressIndex = index
        self.options = options
        heartbeatNanoseconds = options.heartbeatInterval.map(Monotonic.nanoseconds)
    }

    static func open(_ address: ExchangeAddress, _ options: Options) throws(ClientError) -> SoupConnection {
        try SoupConnection(host: address.host, port: address.port, connectTimeout: options.connectTimeout, noDelay: options.tcpNoDelay,
                           tls: options.tls)
    }

    /// Connects and logs in; a Login Rejected is thrown as `ClientError.loginRejected`.
    public static func connect(
        host: String = "127.0.0.1", port: Int, username: String, password: String, session: String = "",
        sequence: UInt64 = 0, options: Options = Options(), timeout: Duration = .seconds(5)
    ) throws(ClientError) -> OrderEntryClient {
        let client = try OrderEntryClient(host: host, port: port, options: options)
        switch try client.login(username: username, password: password, session: session, sequence: sequence, timeout: timeout) {
        case .accepted:
            return client
        case .rejected(let reason, let debug):
            client.close()
            throw ClientError.loginRejected(reason, debug: debug)
        }
    }

    // MARK: Session

    /// Sends a Login Request and waits for Login Accepted or Rejected.
    ///
    /// - Parameters:
    ///   - session: blank for the current session.
    ///   - sequence: the first sequenced message wanted: 0 for only new ones, 1 for the whole
    ///     day's, N to pick up after message N-1.
    public func login(
        username: String, password: String, session: String = "", sequence: UInt64 = 0, timeout: Duration = .seconds(5)
    ) throws(ClientError) -> LoginOutcome {
        guard let user = SoupUsername(username), !username.isEmpty else {
            throw ClientError.invalidArgument("username \"\(username)\": 1 to 6 printable ASCII characters")
        }
        guard let secret = SoupPassword(password) else {
            throw ClientError.invalidArgument("password: at most 10 printable ASCII characters")
        }
        guard let sessionName = SoupSessionName(session) else {
            throw ClientError.invalidArgument("session \"\(session)\": at most 10 printable ASCII characters")
        }
        let deadline = Monotonic.deadline(after: timeout)
        try connection.sendMessage(maximumLength: 64, timeout: timeout) {
            SoupBinTCP.loginRequest(username: user, password: secret, session: sessionName, sequence: sequence, to: $0)
        }
        var debug: String?
        while true {
            guard let frame = try connection.nextFrame(until: deadline) else {
                throw ClientError.timedOut(waitingFor: "Login Accepted or Login Rejected", seconds: Monotonic.seconds(timeout))
            }
            // Only the login answers, Debug and Heartbeat may come first.
            guard frame.type == SoupPacketType.loginAccepted || frame.type == SoupPacketType.loginRejected
                || frame.type == SoupPacketType.debug || frame.type == SoupPacketType.serverHeartbeat else {
                throw connection.fail(.malformedPacket(type: frame.type, length: frame.payload.count,
                                                       why: "expected Login Accepted or Login Rejected"))
            }
            switch try decode(frame) {
            case .loginAccepted(let session, let sequence):
                self.session = session
                nextSequence = sequence
                isLoggedIn = true
                lastReceiveNanoseconds = Monotonic.now()
                if failover != nil { credentials = (username, password) }
                return .accepted(session: session, nextSequence: sequence)
            case .loginRejected(let rejection):
                return .rejected(rejection, debug: debug)
            case .debug(let text):
                debug = text
            default:
                break  // a heartbeat
            }
        }
    }

    /// Sends Logout Request and waits up to `timeout` for the exchange to close the
    /// connection; packets that arrive meanwhile are returned (e.g. messages still in flight).
    @discardableResult
    public func logout(timeout: Duration = .seconds(2)) throws(ClientError) -> [ServerPacket] {
        try sendControl { SoupBinTCP.logoutRequest(to: $0) }
        isLoggedIn = false
        var packets: [ServerPacket] = []
        let deadline = Monotonic.deadline(after: timeout)
        while true {
            do throws(ClientError) {
                guard let packet = try poll(until: deadline) else {
                    throw ClientError.timedOut(waitingFor: "the exchange to close the session after Logout Request",
                                               seconds: Monotonic.seconds(timeout))
                }
                packets.append(packet)
            } catch {
                if case .closedByPeer = error { return packets }
                throw error
            }
        }
    }

    /// Sends a Client Heartbeat now.
    public func sendHeartbeat() throws(ClientError) {
        try sendControl { SoupBinTCP.clientHeartbeat(to: $0) }
    }

    /// Closes the connection at once, without Logout Request. Idempotent.
    public func close() {
        isLoggedIn = false
        connection.close()
    }

    // MARK: Receiving

    /// The next packet, waiting up to `timeout`; throws `.timedOut` when none comes.
    public func receive(timeout: Duration) throws(ClientError) -> ServerPacket {
        guard let packet = try poll(until: Monotonic.deadline(after: timeout)) else {
            throw ClientError.timedOut(waitingFor: "a packet from the exchange", seconds: Monotonic.seconds(timeout))
        }
        return packet
    }

    /// The next packet, or nil when none arrives within `timeout`.
    public func poll(timeout: Duration) throws(ClientError) -> ServerPacket? {
        try poll(until: Monotonic.deadline(after: timeout))
    }

    /// The next OUCH message, skipping heartbeats and Debug packets; throws `.timedOut`
    /// when none arrives within `timeout`, `.closedByPeer` if the exchange closes first.
    public func nextMessage(timeout: Duration) throws(ClientError) -> SequencedMessage {
        let deadline = Monotonic.deadline(after: timeout)
        while let packet = try poll(until: deadline) {
            switch packet {
            case .sequenced(let message): return message
            case .heartbeat, .debug: continue
            case .endOfSession: throw connection.fail(.closedByPeer(debug: "End of Session"))
            case .loginAccepted, .loginRejected:
                throw connection.fail(.malformedPacket(type: SoupPacketType.loginAccepted, length: 0, why: "a login answer while logged in"))
            }
        }
        throw ClientError.timedOut(waitingFor: "an OUCH message", seconds: Monotonic.seconds(timeout))
    }

    /// The next `count` OUCH messages (heartbeats and Debug skipped), all within `timeout`.
    public func nextMessages(_ count: Int, timeout: Duration) throws(ClientError) -> [SequencedMessage] {
        let deadline = Monotonic.deadline(after: timeout)
        var messages: [SequencedMessage] = []
        while messages.count < count {
            let now = Monotonic.now()
            guard now < deadline else {
                throw ClientError.timedOut(waitingFor: "\(count) OUCH messages (got \(messages.count))", seconds: Monotonic.seconds(timeout))
            }
            messages.append(try nextMessage(timeout: .nanoseconds(Int64(deadline - now))))
        }
        return messages
    }

    /// Every packet that arrives within `duration` (the exchange closing the connection
    /// ends it early, without an error).
    public func packets(for duration: Duration) throws(ClientError) -> [ServerPacket] {
        let deadline = Monotonic.deadline(after: duration)
        var packets: [ServerPacket] = []
        do throws(ClientError) {
            while let packet = try poll(until: deadline) { packets.append(packet) }
        } catch {
            guard case .closedByPeer = error else { throw error }
        }
        return packets
    }

    func poll(until deadline: UInt64) throws(ClientError) -> ServerPacket? {
        while true {
            do throws(ClientError) {
                return try pollConnection(until: deadline)
            } catch {
                try failOver(after: error)
            }
        }
    }

    func pollConnection(until deadline: UInt64) throws(ClientError) -> ServerPacket? {
        while true {
            if let frame = try connection.nextBufferedFrame() { return try decode(frame) }
            if try connection.receiveAvailable() > 0 {
                if failover?.silenceTimeout != nil { lastReceiveNanoseconds = Monotonic.now() }
                continue
            }
            let now = Monotonic.now()
            var wake = deadline
            if isLoggedIn, let silence = failover?.silenceTimeout {
                let limit = lastReceiveNanoseconds &+ Monotonic.nanoseconds(silence)
                if now >= limit { throw connection.fail(.connectionLost(errno: ETIMEDOUT, debug: "nothing received for \(silence)")) }
                wake = min(wake, limit)
            }
            if isLoggedIn, let interval = heartbeatNanoseconds {
                let due = connection.lastSendNanoseconds &+ interval
                if due <= now {
                    try sendHeartbeat()
                    continue
                }
                wake = min(wake, due)
            }
            if now >= deadline { return nil }
            _ = try connection.socket.wait(for: Int16(POLLIN), until: wake)
        }
    }

    func decode(_ frame: SoupFrame) throws(ClientError) -> ServerPacket {
        let payload = frame.payload
        switch frame.type {
        case SoupPacketType.sequencedData:
            let sequence = nextSequence
            nextSequence &+= 1
            guard let message = OUCHMessage.decode(payload) else {
                let type = payload.first.map { "OUCH type \(MessageText.character($0))" } ?? "empty"
                throw connection.fail(.malformedPacket(type: frame.type, length: payload.count,
                                                       why: "sequenced message #\(sequence) (\(type)) is not a valid OUCH 4.2 message"))
            }
            return .sequenced(SequencedMessage(sequence: sequence, message: message))
        case SoupPacketType.serverHeartbeat:
            return .heartbeat
        case SoupPacketType.debug:
            return .debug(connection.lastDebug ?? "")
        case SoupPacketType.endOfSession:
            isLoggedIn = false
            return .endOfSession
        case SoupPacketType.loginAccepted:
            guard let accepted = SoupBinTCP.parseLoginAccepted(payload) else {
                throw connection.fail(.malformedPacket(type: frame.type, length: payload.count, why: "not a Login Accepted payload"))
            }
            return .loginAccepted(session: accepted.session.description, sequence: accepted.sequence)
        case SoupPacketType.loginRejected:
            guard let code = SoupBinTCP.parseLoginRejected(payload) else {
                throw connection.fail(.malformedPacket(type: frame.type, length: payload.count, why: "not a Login Rejected payload"))
            }
            return .loginRejected(LoginRejection(code: code))
        default:
            throw connection.fail(.malformedPacket(type: frame.type, length: payload.count, why: "not a SoupBinTCP server packet type"))
        }
    }

    // MARK: Sending

    /// Sends an unsequenced packet (Heartbeat, Logout) the writer produces.
    func sendControl(_ write: (UnsafeMutableRawPointer) -> Int) throws(ClientError) {
        try connection.sendMessage(maximumLength: 16, timeout: .seconds(5), write)
    }

    /// Sends one OUCH message in Unsequenced Data; `write` puts the message at the pointer.
    func sendOUCH(_ write: (UnsafeMutableRawPointer) -> Int) throws(ClientError) {
        do throws(ClientError) {
            try sendOUCHOnce(write)
        } catch {
            // The kernel did not take the whole message: the exchange cannot have acted on it,
            // so it goes again on the connection the failover opened (once).
            try failOver(after: error)
            try sendOUCHOnce(write)
        }
    }

    func sendOUCHOnce(_ write: (UnsafeMutableRawPointer) -> Int) throws(ClientError) {
        guard isLoggedIn else { throw connection.failure ?? ClientError.notLoggedIn }
        try connection.sendMessage(maximumLength: SoupBinTCP.headerLength + OUCH.maximumInboundLength, timeout: .seconds(5)) { out in
            let length = write(out + SoupBinTCP.headerLength)
            return SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length
        }
    }
}
