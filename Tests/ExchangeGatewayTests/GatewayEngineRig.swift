import CExchangeShim
import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Logging
import Synchronization

// A gateway and an engine agent driven by the test's own thread, with raw clients that
// count what they receive without allocating: for the allocation test and for cases that
// need the engine stalled (a full command ring, orders during shutdown).

/// A blocking connect to 127.0.0.1:`port` (the kernel completes it from the listen backlog),
/// with TCP_NODELAY, then non-blocking unless asked otherwise. `receiveBuffer` sets SO_RCVBUF
/// first (the kernel doubles it and keeps a minimum). `source` binds the client to that
/// loopback address first (127.x.y.z, host byte order), so that a test can connect from
/// many source addresses. Returns the descriptor, or -errno. Plain system calls: nothing
/// allocates.
func connectLoopback(_ port: Int32, receiveBuffer: Int32? = nil, nonBlocking: Bool = true, source: UInt32? = nil) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return -errno }
    if let source {
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = source.bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            Glibc.close(fd)
            return -error
        }
    }
    if var size = receiveBuffer {
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
        let error = errno
        Glibc.close(fd)
        return -error
    }
    if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    return fd
}

/// SoupBinTCP packets counted by type as bytes stream in, one byte at a time, without
/// buffering anything.
struct PacketTally {
    var headerBytes = 0
    var lengthHigh: UInt8 = 0
    var remaining = 0
    var atType = false
    var sequenced = 0
    var heartbeats = 0
    var loginAccepted = 0
    var other = 0
    var closed = false

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            switch headerBytes {
            case 0:
                lengthHigh = byte
                headerBytes = 1
            case 1:
                remaining = Int(lengthHigh) << 8 | Int(byte)
                headerBytes = 2
                atType = true
            default:
                if atType {
                    switch byte {
                    case 0x53: sequenced += 1
                    case 0x48: heartbeats += 1
                    case 0x41: loginAccepted += 1
                    default: other += 1
                    }
                    atType = false
                }
                remaining -= 1
                if remaining == 0 { headerBytes = 0 }
            }
        }
    }
}

/// The rig's clients: descriptors, tallies and one receive buffer, all allocated up front.
struct RawClients {
    let fds: UnsafeMutablePointer<Int32>
    let tallies: UnsafeMutablePointer<PacketTally>
    let count: Int
    let buffer: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        count = capacity
        fds = .allocate(capacity: capacity)
        fds.initialize(repeating: -1, count: capacity)
        tallies = .allocate(capacity: capacity)
        tallies.initialize(repeating: PacketTally(), count: capacity)
        buffer = .allocate(byteCount: 65_536, alignment: 64)
    }

    func closeAll() {
        for i in 0..<count where fds[i] >= 0 { Glibc.close(fds[i]) }
        fds.deallocate()
        tallies.deallocate()
        buffer.deallocate()
    }

    /// One turn of the gateway and the engine, then whatever each client can read.
    func turn(_ rig: inout GatewayEngineRig<ManualClock>) {
        rig.turn()
        for i in 0..<count where fds[i] >= 0 && !tallies[i].closed {
            while true {
                let n = recv(fds[i], buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 {
                    tallies[i].feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                } else {
                    if n == 0 || (errno != EAGAIN && errno != EINTR) { tallies[i].closed = true }
                    break
                }
            }
        }
    }

    /// Turns until `done` or `seconds` pass.
    func pump(_ rig: inout GatewayEngineRig<ManualClock>, seconds: Double, until done: (RawClients) -> Bool) -> Bool {
        let deadline = Deadline(seconds: seconds)
        while !deadline.hasPassed {
            turn(&rig)
            if done(self) { return true }
        }
        return done(self)
    }

    /// Sends every byte, turning the rig while the socket is full.
    func send(_ client: Int, _ bytes: UnsafeRawBufferPointer, rig: inout GatewayEngineRig<ManualClock>) {
        var offset = 0
        let deadline = Deadline(after: .seconds(5))
        while offset < bytes.count && !deadline.hasPassed {
            let n = Glibc.send(fds[client], bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n > 0 { offset += n } else if n < 0 && errno != EAGAIN && errno != EINTR { return } else { turn(&rig) }
        }
    }
}

/// A gateway and an engine agent joined by their rings, both driven by the caller's thread,
/// as the shared threading mode runs them.
struct GatewayEngineRig<C: Clock>: ~Copyable {
    var gateway: GatewayAgent<C>
    /// Checks the gateway's logins: turned on the caller's thread like the others, or (for
    /// the allocation test, which counts the caller's thread) on a thread of its own, as in
    /// the appliance.
    let authenticator: AuthenticatorTurns<C>
    var engine: EngineAgent
    var bookEvents: SPSCRing<SequencedEvent>.Consumer
    /// The journal's end when `durability` journals: the test plays the journal agent (pops
    /// the records, publishes `durable`).
    var journal: SPSCRing<SequencedCommand>.Consumer?
    let durable: DurablePosition?
    let port: Int
    /// The FIX port (`fix` given), else 0.
    let fixPort: Int
    /// The FIX drop-copy port (`fix.dropCopyPort` not 0: a listener on a port the kernel chose), else 0.
    let dropCopyPort: Int
    let memory: RigMemory

    /// - Parameter clock: the gateway's time (a `ManualClock` lets a test move it).
    /// - Parameter durability: with async or sync the engine journals into a ring of
    ///   `journalCapacity` and, in sync, the gateway routes only up to `durable` (starting at 0).
    /// - Parameter startsDay, startGateway: for recovery tests, a gateway that continues the
    ///   day, and one not yet started (the test replays into it, then calls `onStart`).
    init(configuration: ExchangeConfiguration, clock: C, authenticatorThread: Bool = false,
         durability: DurabilityMode = .none, journalCapacity: Int = 1_024, startsDay: Bool = true,
         startGateway: Bool = true, stallBudgetMilliseconds: Int = 0, archive: SessionArchiveChannel = .unavailable(),
         fix: FIXSettings? = nil, epochMidnight: UInt64? = nil, operatorActions: OperatorActionQueue? = nil) throws {
        let memory = RigMemory()
        let capacity = configuration.performance.queueCapacity
        var commandRing = SPSCRing<CommandEnvelope>(
            capacity: capacity, memory: memory.take(SPSCRing<CommandEnvelope>.requiredBytes(capacity: capacity), alignment: 128))
        var controlRing = SPSCRing<CommandEnvelope>(
            capacity: 64, memory: memory.take(SPSCRing<CommandEnvelope>.requiredBytes(capacity: 64), alignment: 128))
        var orderRing = SPSCRing<SequencedEvent>(
            capacity: capacity, memory: memory.take(SPSCRing<SequencedEvent>.requiredBytes(capacity: capacity), alignment: 128))
        var bookRing = SPSCRing<SequencedEvent>(
            capacity: capacity, memory: memory.take(SPSCRing<SequencedEvent>.requiredBytes(capacity: capacity), alignment: 128))
        let snapshots = memory.take(OrderBookSnapshots.requiredBytes(maxLevels: 16), alignment: 128)
        var journalRing = durability.journals ? SPSCRing<SequencedCommand>(
            capacity: journalCapacity,
            memory: memory.take(SPSCRing<SequencedCommand>.requiredBytes(capacity: journalCapacity), alignment: 128)) : nil
        let journalProducer = journalRing?.makeProducer()
        let durable = durability.journals
            ? DurablePosition(memory: memory.take(DurablePosition.requiredBytes, alignment: 64).baseAddress!, initial: 0) : nil
        let engine = EngineAgent(
            engine: RiskCheckedEngine(configuration: configuration.engineConfiguration(), limits: configuration.riskLimits),
            commands: commandRing.makeConsumer(), control: controlRing.makeConsumer(), orderEvents: orderRing.makeProducer(),
            bookEvents: bookRing.makeProducer(), snapshots: OrderBookSnapshotServer(base: snapshots.baseAddress!, maxLevels: 16),
            cells: memory.counters.cells, journal: journalProducer)
        let bookEvents = bookRing.makeConsumer()
        let listener = try TCPListener(address: 0x7F00_0001, port: 0, backlog: 128)
        let port = Int(listener.port)
        let settings = configuration.gateway
        let region = memory.take(GatewayLayout.requiredBytes(settings: settings, accounts: devKeys.accounts.count), alignment: 4_096)
        let logins = LoginChannel(service: "gateway", capacity: 1_024)
        let authenticator = try Authenticator(
            keys: devKeys, policy: LoginThrottle.Policy(maxFailures: 1_000, backoff: 0, maxBackoff: 0, lockout: 1_000_000_000, trackedAddresses: 16),
            channels: [logins], clock: clock, cells: memory.counters.cells, logger: Logger(label: "rig"))
        var options = GatewayOptions(settings: settings, tcpNoDelay: true, session: SoupSessionName(testSessionName)!,
                                     symbols: configuration.symbols.map(\.symbol), keys: devKeys, startsDay: startsDay)
        options.stallBudgetMilliseconds = stallBudgetMilliseconds
        options.fix = fix
        options.epochMidnight = epochMidnight
        options.tradingDay = configuration.tradingDay.enabled ? configuration.tradingDay : nil
        options.operatorActions = operatorActions
        var fixListener: TCPListener? = nil
        if fix != nil { fixListener = try TCPListener(address: 0x7F00_0001, port: 0, backlog: 128) }
        let fixPort = Int(fixListener?.port ?? 0)
        var dropCopyListener: TCPListener? = nil
        if let fix, fix.dropCopyPort != 0 {
            dropCopyListener = try TCPListener(address: 0x7F00_0001, port: 0, backlog: 128)
            options.fix?.dropCopyPort = dropCopyListener?.port ?? 0
        }
        let dropCopyPort = Int(dropCopyListener?.port ?? 0)
        var gateway = try GatewayAgent(
            options: options,
            clock: clock,
            listener: listener, memory: region.baseAddress!, commands: commandRing.makeProducer(),
            orderEvents: orderRing.makeConsumer(), logins: logins.makeClient(), cells: memory.counters.cells,
            durability: durability, durable: durable, archive: archive.makeClient(), fixListener: fixListener,
            dropCopyListener: dropCopyListener)
        if startGateway { try gateway.onStart() }
        self.authenticator = AuthenticatorTurns(authenticator, ownThread: authenticatorThread)
        self.gateway = gateway
        self.engine = engine
        self.bookEvents = bookEvents
        self.journal = journalRing?.makeConsumer()
        self.durable = durable
        self.port = port
        self.fixPort = fixPort
        self.dropCopyPort = dropCopyPort
        self.memory = memory
    }

    /// Book events with a firm attributed (what the feed would publish as Add Order with
    /// MPID): how many, and the last firm. Plain fields, so turning allocates nothing.
    var attributedAdds = 0
    var lastAttribution: Firm?

    mutating func turn() {
        authenticator.turn()
        _ = gateway.doWork()
        _ = engine.doWork()
        while let event = bookEvents.tryPop() {
            if case .bookAdd(let add) = event.event, let firm = add.attribution {
                attributedAdds += 1
                lastAttribution = firm
            }
        }
    }

    /// Plays the journal agent's reading half: takes every record the engine journaled so far.
    mutating func takeJournal() -> [SequencedCommand] {
        var records: [SequencedCommand] = []
        while let record = journal?.tryPop() { records.append(record) }
        return records
    }

    /// Drains both agents, then ends them (the gateway closes its sockets and ring) before
    /// their memory goes.
    consuming func shutDown() {
        gateway.beginDrain()
        engine.beginDrain()
        // Whatever is still to be journaled becomes durable: the drain is not about the journal.
        durable?.publish(.max)
        for _ in 0..<200_000 where !(gateway.isDrained && engine.isDrained) {
            turn()
            while journal?.tryPop() != nil {}
        }
        gateway.onClose()
        authenticator.stop()
    }
}

extension GatewayEngineRig where C == TSCClock {
    /// A rig on the production clock.
    init(configuration: ExchangeConfiguration) throws {
        try self.init(configuration: configuration, clock: TSCClock(ticksPerSecond: max(1, rtes_tsc_ticks_per_second(20_000_000))))
    }
}

extension GatewayEngineRig where C == ManualClock {
    /// Moves the gateway's clock and lets both agents turn on it (timers run on the first turn).
    mutating func advance(_ clock: ManualClock, milliseconds: UInt64) {
        clock.advance(milliseconds: milliseconds)
        for _ in 0..<4 { turn() }
    }
}

/// The rig's authenticator, turned by the rig's `turn()` or by a thread of its own until `stop()`.
final class AuthenticatorTurns<C: Clock>: @unchecked Sendable {
    private var agent: Authenticator<C>
    private let ownThread: Bool
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(_ authenticator: consuming Authenticator<C>, ownThread: Bool) {
        agent = authenticator
        self.ownThread = ownThread
        guard ownThread else { return }
        running.store(true, ordering: .releasing)
        Thread { [self] in
            while running.load(ordering: .acquiring) {
                if self.agent.doWork() == 0 { usleep(50) }
            }
            finished.signal()
        }.start()
    }

    /// One turn, on the caller's thread (nothing when the authenticator has its own).
    func turn() {
        if !ownThread { _ = agent.doWork() }
    }

    /// Ends the authenticator's thread, if it has one, and waits for it.
    func stop() {
        guard ownThread, running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }
}

/// The rig's memory: zeroed, aligned blocks freed together once the agents are gone, and the
/// counters region.
final class RigMemory {
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    let counters = CountersRegion.anonymous(name: "GATEWAY-RIG", ticksPerSecond: 1_000_000_000)

    func take(_ bytes: Int, alignment: Int) -> UnsafeMutableRawBufferPointer {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: alignment)
        block.initializeMemory(as: UInt8.self, repeating: 0)
        blocks.append(block)
        return block
    }

    func release() {
        for block in blocks { block.deallocate() }
        blocks.removeAll()
    }
}

extension GatewayEngineRig {
    /// One turn of the gateway alone: the engine stalls.
    mutating func turnGatewayOnly() {
        authenticator.turn()
        _ = gateway.doWork()
    }

    /// Turns (the engine too, unless `engine` is false) until `client` has a packet or its
    /// connection ends, for at most `seconds`.
    mutating func next(_ client: SoupTestClient, engine: Bool = true, seconds: Double = 2) -> SoupTestClient.Event {
        let deadline = Deadline(seconds: seconds)
        while !deadline.hasPassed {
            let event = client.next(timeout: 0)
            if event != .timeout { return event }
            if engine { turn() } else { turnGatewayOnly() }
        }
        return .timeout
    }

    /// Turns for `seconds`, and at least 16 times (a descheduled test thread still turns).
    mutating func run(seconds: Double, engine: Bool = true) {
        let deadline = Deadline(seconds: seconds)
        var turns = 0
        while turns < 16 || !deadline.hasPassed {
            if engine { turn() } else { turnGatewayOnly() }
            turns += 1
        }
    }
}
