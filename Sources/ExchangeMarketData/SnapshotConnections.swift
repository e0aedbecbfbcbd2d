import ExchangeRuntime
import ExchangeWire
import Glibc

/// The snapshot service's connection table and its one snapshot buffer, allocated once.
/// Logic lives in `MarketDataAgent+Snapshot.swift`; this is storage and bookkeeping.
struct SnapshotConnections: ~Copyable {
    enum State: UInt8 {
        case free = 0
        /// Connected, no Login Request yet.
        case awaitingLogin
        /// Logged in; waits for the snapshot buffer (another connection's snapshot is going out).
        case waitingForBuffer
        /// The snapshot is going out.
        case sending
        /// The snapshot went out; waits for the client's Logout.
        case sent
        /// Shut down; closes once no operation is in flight.
        case closing
    }

    static let receiveBytes = 256
    static let controlBytes = 64

    let capacity: Int
    let fds: UnsafeMutablePointer<Int32>
    let states: UnsafeMutablePointer<State>
    /// Monotonic nanoseconds: connected, last received, last sent, snapshot started.
    let connectedAt: UnsafeMutablePointer<UInt64>
    let receivedAt: UnsafeMutablePointer<UInt64>
    let sentAt: UnsafeMutablePointer<UInt64>
    let sendStartedAt: UnsafeMutablePointer<UInt64>
    let receivesInFlight: UnsafeMutablePointer<Int32>
    let sendsInFlight: UnsafeMutablePointer<Int32>
    /// Close once the control message in flight is out (a Login Rejected).
    let closeAfterSend: UnsafeMutablePointer<Bool>
    /// The send in flight is a control message (heartbeat, reject), not the snapshot.
    let controlInFlight: UnsafeMutablePointer<Bool>
    let receiveBuffers: UnsafeMutableRawPointer
    let controlBuffers: UnsafeMutableRawPointer
    let readers: UnsafeMutablePointer<SoupFrameReader>
    let accounts: [MarketDataAgent.SnapshotAccount]?

    /// The snapshot buffer: Login Accepted, then the snapshot; owned by one connection at a time.
    let buffer: UnsafeMutableRawPointer
    var owner = -1
    var length = 0
    var offset = 0

    var connections: UInt64 = 0
    var served: UInt64 = 0
    var loginsRejected: UInt64 = 0
    var protocolErrors: UInt64 = 0
    var timeouts: UInt64 = 0
    var refused: UInt64 = 0
    var bytes: UInt64 = 0
    var worstBuildTicks: UInt64 = 0
    var open = 0

    init(capacity: Int, snapshotBytes: Int, accounts: [MarketDataAgent.SnapshotAccount]?) {
        self.capacity = capacity
        fds = .filled(capacity, with: -1)
        states = .filled(capacity, with: .free)
        connectedAt = .filled(capacity, with: 0)
        receivedAt = .filled(capacity, with: 0)
        sentAt = .filled(capacity, with: 0)
        sendStartedAt = .filled(capacity, with: 0)
        receivesInFlight = .filled(capacity, with: 0)
        sendsInFlight = .filled(capacity, with: 0)
        closeAfterSend = .filled(capacity, with: false)
        controlInFlight = .filled(capacity, with: false)
        receiveBuffers = .allocate(byteCount: capacity * Self.receiveBytes, alignment: 64)
        controlBuffers = .allocate(byteCount: capacity * Self.controlBytes, alignment: 64)
        readers = .allocate(capacity: capacity)
        for i in 0..<capacity { (readers + i).initialize(to: SoupFrameReader(maximumPacketLength: 64)) }
        self.accounts = accounts
        buffer = .allocate(byteCount: snapshotBytes, alignment: 64)
    }

    deinit {
        fds.deallocate()
        states.deallocate()
        connectedAt.deallocate()
        receivedAt.deallocate()
        sentAt.deallocate()
        sendStartedAt.deallocate()
        receivesInFlight.deallocate()
        sendsInFlight.deallocate()
        closeAfterSend.deallocate()
        controlInFlight.deallocate()
        receiveBuffers.deallocate()
        controlBuffers.deallocate()
        readers.deinitialize(count: capacity)
        readers.deallocate()
        buffer.deallocate()
    }

    func receiveBuffer(_ c: Int) -> UnsafeMutableRawPointer { receiveBuffers + c * Self.receiveBytes }
    func controlBuffer(_ c: Int) -> UnsafeMutableRawPointer { controlBuffers + c * Self.controlBytes }

    /// Whether the connection is open and not shutting down.
    func isOpen(_ c: Int) -> Bool { states[c] != .free && states[c] != .closing }

    /// A free table entry, or nil.
    func freeEntry() -> Int? {
        for c in 0..<capacity where states[c] == .free { return c }
        return nil
    }

    /// Whether the account may log in.
    func authorizes(_ username: SoupUsername, _ password: SoupPassword) -> Bool {
        guard let accounts else { return true }
        var ok = false
        for account in accounts where account.username == username && account.password.constantTimeEquals(password) { ok = true }
        return ok
    }

    func forEachOpen(_ body: (Int32) -> Void) {
        for c in 0..<capacity where states[c] != .free { body(fds[c]) }
    }

    /// Closes every descriptor still open (at teardown, after the ring's operations are gone).
    func closeAll() {
        for c in 0..<capacity where states[c] != .free {
            close(fds[c])
            states[c] = .free
        }
    }

    func publish(_ cells: CounterCells, base: Int) {
        typealias Cell = CountersLayout.MarketDataCell
        cells.store(base + Cell.snapshotConnections, connections)
        cells.store(base + Cell.snapshotsServed, served)
        cells.store(base + Cell.snapshotLoginsRejected, loginsRejected)
        cells.store(base + Cell.snapshotProtocolErrors, protocolErrors)
        cells.store(base + Cell.snapshotTimeouts, timeouts)
        cells.store(base + Cell.snapshotRefused, refused)
        cells.store(base + Cell.snapshotBytes, bytes)
        cells.store(base + Cell.worstSnapshotBuildTicks, worstBuildTicks)
        cells.store(base + Cell.snapshotConnectionsOpen, UInt64(open))
    }
}
