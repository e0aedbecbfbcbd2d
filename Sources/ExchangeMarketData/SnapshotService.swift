import ExchangeAccess
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

/// One snapshot connection's protocol state, kept per slot of the service's
/// `ConnectionTable` (which owns the descriptor, the generation, receives and sends, and
/// the close). Times are the agent clock's nanoseconds.
struct SnapshotSession {
    enum Phase: UInt8 {
        /// Connected, no Login Request yet.
        case awaitingLogin
        /// The Login Request is with the authenticator.
        case authenticating
        /// Logged in; waits for the next snapshot pass (one is under way, or the service's copy
        /// of the books is catching up).
        case waitingForBuffer
        /// The snapshot is going out: the connection is in the pass.
        case sending
        /// The snapshot went out; waits for the client's Logout.
        case sent
    }

    var phase = Phase.awaitingLogin
    var connectedAt: UInt64 = 0
    var receivedAt: UInt64 = 0
    var sentAt: UInt64 = 0
    var sendStartedAt: UInt64 = 0
    /// The send in flight is a control message (heartbeat, reject), not the snapshot.
    var controlInFlight = false
    /// Close once the control message in flight is out (a Login Rejected).
    var closeAfterSend = false
    /// The connection belongs to the pass under way (until its slot is released or the pass
    /// ends): the pass's chunk buffer may be in its send.
    var inPass = false
    /// Bytes of the pass's current chunk this connection has sent.
    var chunkSent = 0
    /// Bytes of the pass this connection has sent.
    var passSent = 0
    /// Its next send waits for the next duty cycle's send budget.
    var sendDeferred = false
    /// Bytes received behind the Login Request while the authenticator checks it, kept in
    /// the slot's held-input buffer and handled once the login is accepted.
    var heldLength = 0
    /// market_data.snapshot_tls on: close once the ciphertext waiting (a Login Rejected, an
    /// alert) has gone out.
    var closeWhenFlushed = false
}

/// The snapshot service's storage, allocated once: the connection table (on the runtime's
/// connection layer), a frame reader and a control buffer per slot, the pass (the service's
/// own copy of the books and the one chunk buffer every connection of a pass sends), the
/// ring pair to the authenticator and the counters. Logic lives in `MarketDataAgent+Snapshot.swift`.
struct SnapshotService: ~Copyable {
    typealias Table = ConnectionTable<SnapshotSession>

    static let receiveBufferSize = 256
    static let controlBytes = 64
    /// What a connection may send behind its Login Request before the login is decided:
    /// the protocol has only heartbeats and a Logout to send then (3 bytes each), so more
    /// than this is a protocol error and closes the connection.
    static let heldInputBytes = 64
    /// The longest packet a snapshot client may send (a Login Request is 47 bytes).
    static let maximumInboundPacket = 64
    /// Kinds of the table's tags: accept, receive, send (after the agent's feed, request and
    /// answer kinds).
    static let tagBase: UInt8 = 4

    var table: Table
    let capacity: Int
    let readers: UnsafeMutablePointer<SoupFrameReader>
    let controlBuffers: UnsafeMutableRawPointer
    /// Per slot, `heldInputBytes` of input held while its login is checked.
    let heldInputs: UnsafeMutableRawPointer
    let receiveBuffers: UnsafeMutableRawPointer
    /// Logins are checked by the authenticator, as the order gateway's are.
    var logins: LoginClient
    /// False: any Login Request is accepted (tests without accounts).
    let loginRequired: Bool
    /// market_data.snapshot_tls on: each connection's TLS session, between the connection
    /// layer and the SoupBinTCP framing (`MarketDataAgent+SnapshotTLS.swift`); no slots when off.
    let tlsOn: Bool
    var tls: TLSSessionTable
    let tlsSource: TLSContextSource?
    /// Mutual TLS: a Login Request's username must be the client certificate's CN.
    let tlsBindsAccounts: Bool
    var tlsContext: TLSContext?
    var tlsContextReloads = 0
    var tlsFailures: UInt64 = 0

    /// The books as of one sequence number and the chunk being sent (`SnapshotPass`).
    var pass: SnapshotPass
    /// When the pass's current chunk was encoded (the agent clock's nanoseconds).
    var chunkStartedAt: UInt64 = 0
    /// Connections the latest pass started with.
    var passMembers = 0
    /// Snapshot bytes the service may still hand to the kernel in this duty cycle: one
    /// chunk's worth (`chunkCapacity`) per duty cycle, whatever the number of connections, so
    /// that copying a snapshot into sockets never holds the thread longer than encoding does.
    var sendBudget = 0
    /// Bytes handed to the kernel since the last duty cycle began, and the most of any.
    var turnSentBytes = 0
    var maxTurnSentBytes = 0
    /// Bytes the rate cap (`snapshotMaxBytesPerSecond`) allows now, refilled with time up to
    /// one chunk's worth, and when they were last refilled (the agent clock's nanoseconds).
    var rateTokens = 0
    var rateRefilledAt: UInt64 = 0

    var connections: UInt64 = 0
    var served: UInt64 = 0
    var loginsRejected: UInt64 = 0
    var protocolErrors: UInt64 = 0
    var timeouts: UInt64 = 0
    var refused: UInt64 = 0
    var bytes: UInt64 = 0
    var worstBuildTicks: UInt64 = 0
    /// Connections closed because they held a pass the others waited for.
    var stalled: UInt64 = 0
    var open = 0

    /// - Parameters:
    ///   - capacity: connections at once; `preLoginLimit` of them may be not logged in yet,
    ///     `preLoginPerAddressLimit` of those from one source address (0: no limit of its own).
    ///   - instrumentCount, orderCapacity: the books (as the publisher's replica).
    ///   - workPerTurn: the pass's units of work per duty cycle (0: no bound).
    ///   - firstSequence: the feed's first sequence number (where the service's copy starts).
    init(capacity: Int, preLoginLimit: Int, preLoginPerAddressLimit: Int, instrumentCount: Int, orderCapacity: Int, workPerTurn: Int,
         firstSequence: UInt64 = 1,
         logins: consuming LoginClient, loginRequired: Bool, listener: consuming TCPListener,
         ring: borrowing IOUring, tls: TLSContextSource? = nil) throws(SystemError) {
        let configuration = Self.tableConfiguration(capacity: capacity, preLoginLimit: preLoginLimit,
                                                    preLoginPerAddressLimit: preLoginPerAddressLimit)
        receiveBuffers = .allocate(byteCount: configuration.receiveBufferBytes, alignment: 64)
        do {
            table = try Table(configuration: configuration, listener: listener, ring: ring, bufferMemory: receiveBuffers,
                              emptySession: SnapshotSession())
        } catch {
            receiveBuffers.deallocate()
            throw error
        }
        self.capacity = capacity
        readers = .allocate(capacity: capacity)
        for i in 0..<capacity { (readers + i).initialize(to: SoupFrameReader(maximumPacketLength: Self.maximumInboundPacket)) }
        controlBuffers = .allocate(byteCount: capacity * Self.controlBytes, alignment: 64)
        heldInputs = .allocate(byteCount: capacity * Self.heldInputBytes, alignment: 64)
        self.logins = logins
        self.loginRequired = loginRequired
        pass = SnapshotPass(instrumentCount: instrumentCount, orderCapacity: orderCapacity, budget: workPerTurn)
        pass.sequence = firstSequence
        tlsOn = tls != nil
        tlsSource = tls
        tlsBindsAccounts = tls?.settings.clientCAFile != nil
        self.tls = TLSSessionTable(capacity: tls != nil ? capacity : 0, plaintextBytes: Self.tlsPlaintextBytes(tls: tls != nil))
    }

    /// The decrypted-input buffer: a receive buffer's worth with TLS on (a record decrypts in
    /// as many reads as it needs), a token one off.
    static func tlsPlaintextBytes(tls: Bool) -> Int { tls ? receiveBufferSize : 1 }

    /// The connection table's settings: `capacity` slots, twice as many small receive buffers
    /// (at least 16, a power of two).
    static func tableConfiguration(capacity: Int, preLoginLimit: Int, preLoginPerAddressLimit: Int) -> Table.Configuration {
        var count = 16
        while count < 2 * capacity { count <<= 1 }
        return Table.Configuration(
            capacity: capacity, preLoginLimit: preLoginLimit,
            preLoginPerAddressLimit: preLoginPerAddressLimit > 0 ? preLoginPerAddressLimit : nil, receiveBufferCount: count,
            receiveBufferSize: Self.receiveBufferSize, bufferGroup: 1, tagBase: Self.tagBase, noDelay: true)
    }

    /// The heap bytes `init` allocates: receive buffers, the table, a frame reader, a control
    /// buffer and a held-input buffer per slot, and the pass (its copy of the books and its chunk).
    static func requiredBytes(capacity: Int, preLoginLimit: Int, preLoginPerAddressLimit: Int, instrumentCount: Int, orderCapacity: Int,
                              workPerTurn: Int, tls: Bool = false) -> Int {
        let table = tableConfiguration(capacity: capacity, preLoginLimit: preLoginLimit, preLoginPerAddressLimit: preLoginPerAddressLimit)
        return table.receiveBufferBytes + Table.heapBytes(configuration: table)
            + capacity * (MemoryLayout<SoupFrameReader>.stride + maximumInboundPacket + controlBytes + heldInputBytes)
            + SnapshotPass.requiredBytes(instrumentCount: instrumentCount, orderCapacity: orderCapacity, budget: workPerTurn)
            + tlsPlaintextBytes(tls: tls)
            // The TLS table's slots: a session pointer, the outbound staging buffer and its four
            // counters (OpenSSL's own sessions are made at accept, not here).
            + (tls ? capacity * (TLSChannel.defaultBufferCapacity + MemoryLayout<OpaquePointer?>.stride + 3 * 4 + 1) : 0)
    }

    /// Frees memory only: descriptors and operations in flight are the agent's `onClose`.
    deinit {
        readers.deinitialize(count: capacity)
        readers.deallocate()
        controlBuffers.deallocate()
        heldInputs.deallocate()
        // The table's provided buffers: the ring that could still write into them is closed
        // by then (onClose drained every receive).
        receiveBuffers.deallocate()
    }

    var sessions: UnsafeMutablePointer<SnapshotSession> { table.sessions }

    func controlBuffer(_ slot: Int) -> UnsafeMutableRawPointer { controlBuffers + slot * Self.controlBytes }

    func heldInput(_ slot: Int) -> UnsafeMutableRawPointer { heldInputs + slot * Self.heldInputBytes }

    /// Whether the slot holds a connection the service still serves (open, not closing).
    func isServing(_ slot: Int) -> Bool { table.state(slot) == .open }

    func publish(_ counters: CounterBlock) {
        typealias Cell = MarketDataCounters
        counters.store(Cell.snapshotConnections, connections)
        counters.store(Cell.snapshotsServed, served)
        counters.store(Cell.snapshotLoginsRejected, loginsRejected)
        counters.store(Cell.snapshotProtocolErrors, protocolErrors)
        counters.store(Cell.snapshotTimeouts, timeouts)
        counters.store(Cell.snapshotRefused, refused)
        counters.store(Cell.snapshotBytes, bytes)
        counters.store(Cell.worstSnapshotBuildTicks, worstBuildTicks)
        counters.store(Cell.snapshotConnectionsOpen, UInt64(open))
        counters.store(Cell.snapshotChunks, pass.chunks)
        counters.store(Cell.snapshotMaxTurnWork, pass.largestWork)
        counters.store(Cell.snapshotMaxChunkBytes, pass.largestChunkBytes)
        counters.store(Cell.snapshotCatchUpMessages, pass.caughtUpMessages)
        counters.store(Cell.snapshotReplicaRebuilds, pass.rebuilds)
        counters.store(Cell.snapshotReplicaMismatches, pass.mismatches)
        counters.store(Cell.snapshotStalled, stalled)
        counters.store(Cell.snapshotTLSFailures, tlsFailures)
    }
}
