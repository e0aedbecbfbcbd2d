import ExchangeConfig
import ExchangeEngine
import ExchangeJournal
import ExchangeRuntime
import Foundation
import Logging
import Synchronization

/// The primary's end of replication (docs/FAILOVER.md, "Replication"): the replication port,
/// served by a thread of its own (normal priority, never pinned, waiting between turns as
/// `ReplicationIdle` says — not a hot path). A standby connects and says, in its hello, the last sequence it holds; the
/// primary answers with a welcome and streams the day's journal from the next sequence: from
/// the segment files for what is old, then each record as soon as the journal agent has made
/// it durable (`JournalFollower` up to `DurablePosition`), so a standby never holds a record
/// the primary could lose. The standby acknowledges what it received and what it made durable.
///
/// In `sync` this thread also publishes the position output is released up to (`released`,
/// read by the gateway and market data in place of the journal's durable position):
/// min(locally durable, the standby's acknowledgement as `replication.sync_ack` says). With
/// no standby it does not move: output is held (counter `holding`, `/health`, the log), and
/// the gateway's stall budget refuses new orders as for a stalled disk.
///
/// One standby at a time; a second is refused naming the first. Misbehaviour — no hello
/// within `helloTimeoutMilliseconds`, a garbled or unknown frame, another trading day, a
/// sequence beyond the primary's durable one, an acknowledgement of something never sent,
/// silence beyond `silenceTimeoutMilliseconds` — closes that connection with a `refuse`
/// frame naming the reason (also logged and counted); nothing else notices. Buffers are
/// bounded: a standby that does not read gets nothing more until it does.
public final class ReplicationPrimary: @unchecked Sendable {
    public struct Settings: Sendable {
        public var directory: String
        public var day: String
        public var mode: ReplicationMode
        public var acknowledgement: ReplicationAcknowledgement
        public var listenAddress: IPv4Address
        public var listenPort: UInt16
        public var pollMicroseconds: UInt32 = 50
        /// After a turn that moved something, how long the thread yields before it blocks
        /// (`replication.yield_us`; used in sync only: `ReplicationIdle`).
        public var yieldMicroseconds: UInt32 = 0
        public var helloTimeoutMilliseconds: UInt64 = 5_000
        public var silenceTimeoutMilliseconds: UInt64 = 10_000
        public var heartbeatMilliseconds: UInt64 = 1_000
        /// Sync, while the appliance drains: how long held output waits for a standby before
        /// it is released unacknowledged (logged), so that a drain always ends.
        public var drainGraceMilliseconds: UInt64 = 5_000
        /// The primary's epoch: its leadership term's fencing token (`leadership` configured),
        /// else the highest its journal held at start (0: none). A standby whose journal holds a
        /// higher one is refused: a newer leader wrote to it, so this primary is deposed.
        public var epoch: Int64 = 0
        /// The sequence of this primary's own leadership record (0: it does not campaign). A
        /// standby with a lower epoch that holds this sequence or beyond holds another term's
        /// records there (a deposed primary's journal): refused.
        public var termStart: UInt64 = 0

        public init(directory: String, day: String, mode: ReplicationMode, acknowledgement: ReplicationAcknowledgement,
                    listenAddress: IPv4Address, listenPort: UInt16) {
            self.directory = directory
            self.day = day
            self.mode = mode
            self.acknowledgement = acknowledgement
            self.listenAddress = listenAddress
            self.listenPort = listenPort
        }
    }

    /// Connections not yet past their hello, at most.
    static let maximumPending = 4
    /// Lag samples kept (a sample per advance of the durable position).
    static let lagSamples = 4_096

    let settings: Settings
    let durable: DurablePosition
    /// Sync: the position output is released up to (nil in async).
    let released: DurablePosition?
    let listener: TCPListener
    /// The port bound (the kernel's choice when asked for 0).
    public let port: Int
    let counters: CounterBlock
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    /// When the appliance began to drain (uptime nanoseconds; 0: running).
    let drainingSince = Atomic<UInt64>(0)
    let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// Bytes of connections already closed (the thread's own).
    var bytesClosed: UInt64 = 0
    var receivedClosed: UInt64 = 0

    /// Binds the replication port (a port in use is reported now) and registers the counters.
    public init(settings: Settings, durable: DurablePosition, released: DurablePosition?, cells: CounterCells,
                logger: Logger) throws {
        self.settings = settings
        self.durable = durable
        self.released = released
        do {
            listener = try TCPListener(address: settings.listenAddress.rawValue, port: settings.listenPort, backlog: 16)
        } catch {
            throw ApplianceError("the replication port cannot listen on \(settings.listenAddress):\(settings.listenPort): \(error.message)")
        }
        port = Int(listener.port)
        counters = try cells.register(ReplicationCounters.block)
        counters.store(ReplicationCounters.role, ReplicationCounters.primaryRole)
        counters.store(ReplicationCounters.mode, settings.mode == .sync ? 2 : 1)
        counters.store(ReplicationCounters.releasedSequence, released?.load() ?? 0)
        counters.store(ReplicationCounters.holding, settings.mode == .sync ? 1 : 0)
        self.logger = logger
    }

    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "rtes-replication"
        thread.qualityOfService = .userInitiated
        self.thread = thread
        thread.start()
    }

    /// The appliance drains: in sync, output still held after `drainGraceMilliseconds` is
    /// released without a standby's acknowledgement (the agents' last answers and the End of
    /// Session would otherwise wait for ever), and the log says which sequences.
    public func beginDrain() { drainingSince.store(max(1, Self.nowNanoseconds()), ordering: .releasing) }

    /// Stops the thread (the standby's connection is closed) and waits for it.
    public func stop() {
        guard thread != nil else { return }
        stopping.store(true, ordering: .releasing)
        finished.wait()
        thread = nil
    }

    /// A connection that has not said hello yet.
    struct Pending {
        let socket: ReplicationSocket
        let since: UInt64
    }

    /// The standby being streamed to.
    final class Standby {
        let socket: ReplicationSocket
        var follower: JournalFollower
        /// The last sequence sent.
        var sent: UInt64
        var received: UInt64
        var durable: UInt64
        var lastHeard: UInt64
        var lastSent: UInt64

        init(socket: ReplicationSocket, directory: String, has: UInt64, now: UInt64) {
            self.socket = socket
            follower = JournalFollower(directory: directory, from: has &+ 1)
            sent = has
            received = has
            durable = has
            lastHeard = now
            lastSent = now
        }
    }

    static func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func run() {
        ReplicationIdle.prepareThread()
        var idle = ReplicationIdle(pollMicroseconds: settings.pollMicroseconds,
                                   yieldMicroseconds: settings.mode == .sync ? settings.yieldMicroseconds : 0)
        var pending: [Pending] = []
        var standby: Standby?
        // The standby's acknowledgement output waits for (kept across reconnections: what a
        // standby acknowledged it holds).
        var acknowledged = durable.load()
        if let released { acknowledged = released.load() }
        var samples = LagSamples(capacity: Self.lagSamples)
        var lastSampled = durable.load()
        var holdingLogged = false
        defer {
            for connection in pending { connection.socket.close() }
            standby?.socket.close()
        }
        while !stopping.load(ordering: .acquiring) {
            var progressed = false
            let now = Self.nowNanoseconds()
            progressed = accept(into: &pending, now: now) || progressed
            let durableNow = durable.load()
            if durableNow > lastSampled {
                samples.append(sequence: durableNow, at: now)
                lastSampled = durableNow
            }
            progressed = greet(&pending, standby: &standby, durable: durableNow, now: now) || progressed
            if let current = standby {
                switch serve(current, durable: durableNow, now: now) {
                case .success(let moved): progressed = moved || progressed
                case .failure(let error):
                    drop(current.socket, error.description)
                    standby = nil
                    counters.store(ReplicationCounters.connected, 0)
                }
            }
            if let current = standby {
                // In sync what `sync_ack` names; in async (lag only) what the standby made durable.
                acknowledged = max(acknowledged, settings.mode == .sync && settings.acknowledgement == .received ? current.received : current.durable)
                counters.store(ReplicationCounters.sentSequence, current.sent)
                counters.store(ReplicationCounters.acknowledgedReceived, current.received)
                counters.store(ReplicationCounters.acknowledgedDurable, current.durable)
            }
            counters.store(ReplicationCounters.bytesSent, bytesClosed &+ (standby?.socket.bytesSent ?? 0))
            counters.store(ReplicationCounters.bytesReceived, receivedClosed &+ (standby?.socket.bytesReceived ?? 0))
            if let released {
                var release = min(durableNow, acknowledged)
                let draining = drainingSince.load(ordering: .acquiring)
                if draining > 0 && release < durableNow && now &- draining > settings.drainGraceMilliseconds * 1_000_000 {
                    logger.error("replication: draining: sequences \(release &+ 1)…\(durableNow) are released to clients without a standby's acknowledgement (none acknowledged them within \(settings.drainGraceMilliseconds) ms); they are durable here only")
                    release = durableNow
                    acknowledged = durableNow
                }
                if release > released.load() { released.publish(release) }
                counters.store(ReplicationCounters.releasedSequence, released.load())
                let holding = standby == nil
                counters.store(ReplicationCounters.holding, holding ? 1 : 0)
                if holding && !holdingLogged && durableNow > acknowledged {
                    logger.warning("replication: sync and no standby connected: output after sequence \(acknowledged) is held until a standby acknowledges it")
                    holdingLogged = true
                } else if !holding {
                    holdingLogged = false
                }
            }
            samples.dropThrough(acknowledged)
            counters.store(ReplicationCounters.lagRecords, durableNow > acknowledged ? durableNow &- acknowledged : 0)
            counters.store(ReplicationCounters.lagMicroseconds, samples.oldest.map { (now &- $0) / 1_000 } ?? 0)
            // Blocks on the standby's socket (its acknowledgements wake the thread at once);
            // a new durable record is seen within a yield while busy, else at the timeout.
            idle.idle(progressed: progressed, now: now, descriptor: standby?.socket.descriptor ?? pending.first?.socket.descriptor)
        }
    }

    /// Takes new connections; those beyond `maximumPending` are refused at once.
    func accept(into pending: inout [Pending], now: UInt64) -> Bool {
        var accepted = false
        while true {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener.descriptor, $0, &length) }
            }
            guard fd >= 0 else { return accepted }
            // The listener is non-blocking; the accepted socket is made so too, and close-on-exec.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            accepted = true
            let ip = UInt32(bigEndian: address.sin_addr.s_addr)
            let peer = "\(ip >> 24).\(ip >> 16 & 0xFF).\(ip >> 8 & 0xFF).\(ip & 0xFF):\(UInt16(bigEndian: address.sin_port))"
            let socket = ReplicationSocket(descriptor: fd, peer: peer)
            if pending.count >= Self.maximumPending {
                drop(socket, "\(Self.maximumPending) connections are already waiting to say hello")
            } else {
                pending.append(Pending(socket: socket, since: now))
            }
        }
    }

    /// Reads the hellos of pending connections: a good one from a standby when none is
    /// connected becomes the standby; anything else is refused with its reason.
    func greet(_ pending: inout [Pending], standby: inout Standby?, durable durableNow: UInt64, now: UInt64) -> Bool {
        var progressed = false
        var index = 0
        while index < pending.count {
            let connection = pending[index]
            let socket = connection.socket
            var outcome: Result<ReplicationFrame.Hello, ReplicationProtocolError>?
            switch socket.receive() {
            case .endOfStream: outcome = .failure(ReplicationProtocolError("closed before its hello"))
            case .failed(let error): outcome = .failure(error)
            case .progressed, .nothing: break
            }
            if outcome == nil {
                switch socket.nextFrame() {
                case .failure(let error): outcome = .failure(ReplicationProtocolError("a garbled hello: \(error)"))
                case .success(let frame?):
                    outcome = frame.kind == .hello ? ReplicationFrame.readHello(frame.payload)
                        : .failure(ReplicationProtocolError("a \(frame.kind) frame where the hello belongs"))
                case .success(nil):
                    if now &- connection.since > settings.helloTimeoutMilliseconds * 1_000_000 {
                        outcome = .failure(ReplicationProtocolError("no hello within \(settings.helloTimeoutMilliseconds) ms"))
                    }
                }
            }
            guard let outcome else {
                index += 1
                continue
            }
            pending.remove(at: index)
            progressed = true
            switch outcome.flatMap({ check($0, standby: standby, durable: durableNow) }) {
            case .failure(let error):
                drop(socket, error.description)
            case .success(let hello):
                let accepted = Standby(socket: socket, directory: settings.directory, has: hello.lastSequence, now: now)
                socket.queue {
                    ReplicationFrame.writeWelcome(.init(version: ReplicationFrame.version, durableSequence: durableNow, day: settings.day,
                                                        epoch: settings.epoch), to: $0)
                }
                standby = accepted
                counters.store(ReplicationCounters.connected, 1)
                counters.store(ReplicationCounters.connections, counters.load(ReplicationCounters.connections) &+ 1)
                logger.info("replication: standby \(socket.peer) connected holding sequence \(hello.lastSequence); streaming from \(hello.lastSequence &+ 1) (durable here: \(durableNow))")
            }
        }
        return progressed
    }

    /// Whether a hello may become the standby.
    func check(_ hello: ReplicationFrame.Hello, standby: Standby?, durable durableNow: UInt64) -> Result<ReplicationFrame.Hello, ReplicationProtocolError> {
        guard hello.version == ReplicationFrame.version else {
            return .failure(ReplicationProtocolError("replication protocol version \(hello.version) is not supported (this primary speaks \(ReplicationFrame.version))"))
        }
        guard hello.day == settings.day else {
            return .failure(ReplicationProtocolError("the standby's journal is of trading day \"\(hello.day)\", the primary's of \"\(settings.day)\""))
        }
        guard hello.lastSequence <= durableNow else {
            return .failure(ReplicationProtocolError(
                ReplicationFrame.divergedPrefix + "the standby holds sequence \(hello.lastSequence) (fencing token \(hello.epoch)), beyond the "
                    + "primary's durable \(durableNow) (fencing token \(settings.epoch)): its journal holds records this primary never had (an old "
                    + "primary's unreplicated tail, another primary's journal, or a day set aside); move the standby's journal directory aside "
                    + "(replication.on_divergence move_aside does it) and start it again"))
        }
        guard hello.epoch <= settings.epoch else {
            return .failure(ReplicationProtocolError(
                "the standby's journal holds fencing token \(hello.epoch), higher than this primary's \(settings.epoch): a newer leader "
                    + "has written to it, so this primary is deposed; it must not serve (restart it as a standby of the new primary)"))
        }
        if settings.termStart > 0, hello.epoch < settings.epoch, hello.lastSequence >= settings.termStart {
            return .failure(ReplicationProtocolError(
                ReplicationFrame.divergedPrefix + "the standby holds sequence \(hello.lastSequence) under fencing token \(hello.epoch), but this "
                    + "primary's term (token \(settings.epoch)) began at sequence \(settings.termStart): its journal has a deposed primary's "
                    + "records from there; move the standby's journal directory aside (replication.on_divergence move_aside does it) and start it again"))
        }
        if let standby {
            return .failure(ReplicationProtocolError("a standby is already connected (\(standby.socket.peer)); one at a time"))
        }
        return .success(hello)
    }

    /// One turn for the standby: its acknowledgements in, records out. True when anything moved.
    func serve(_ standby: Standby, durable durableNow: UInt64, now: UInt64) -> Result<Bool, ReplicationProtocolError> {
        let socket = standby.socket
        var progressed = false
        switch socket.receive() {
        case .endOfStream: return .failure(ReplicationProtocolError("the standby closed the connection"))
        case .failed(let error): return .failure(error)
        case .progressed: progressed = true
        case .nothing: break
        }
        while true {
            let frame: ReplicationFrame.Frame
            switch socket.nextFrame() {
            case .failure(let error): return .failure(error)
            case .success(nil): break
            case .success(let next?):
                frame = next
                standby.lastHeard = now
                switch frame.kind {
                case .acknowledge:
                    let (received, durable) = ReplicationFrame.readAcknowledge(frame.payload)
                    guard received <= standby.sent, durable <= received else {
                        return .failure(ReplicationProtocolError(
                            "acknowledged received \(received) and durable \(durable), but only \(standby.sent) was sent (durable can be at most received)"))
                    }
                    guard received >= standby.received, durable >= standby.durable else {
                        return .failure(ReplicationProtocolError(
                            "acknowledgements went back: received \(standby.received) → \(received), durable \(standby.durable) → \(durable)"))
                    }
                    standby.received = received
                    standby.durable = durable
                case .heartbeat:
                    break
                case .refuse:
                    return .failure(ReplicationProtocolError("the standby refused: \(ReplicationFrame.readRefuse(frame.payload))"))
                case .hello, .welcome, .records:
                    return .failure(ReplicationProtocolError("a \(frame.kind) frame from the standby"))
                }
                continue
            }
            break
        }
        if now &- standby.lastHeard > settings.silenceTimeoutMilliseconds * 1_000_000 {
            return .failure(ReplicationProtocolError("nothing from the standby for \(settings.silenceTimeoutMilliseconds) ms"))
        }
        // Records up to the durable position, a frame at a time, while the send buffer has room.
        do throws(JournalError) {
            while standby.sent < durableNow {
                var error: JournalError?
                var sentRecords = 0
                let queued = socket.queue { out in
                    var bytes = 0
                    let first = standby.sent &+ 1
                    var count = 0
                    let records = out + ReplicationFrame.recordsStart
                    while bytes + JournalRecord.maximumBytes <= ReplicationFrame.maximumRecordBytes {
                        let record: SequencedCommand?
                        do throws(JournalError) {
                            record = try standby.follower.next(upTo: durableNow)
                        } catch let thrown {
                            error = thrown
                            break
                        }
                        guard let record else { break }
                        bytes += JournalRecord.encode(record, to: records + bytes)
                        count += 1
                    }
                    standby.sent = first &+ UInt64(count) &- 1
                    sentRecords = count
                    return count == 0 ? 0 : ReplicationFrame.finishRecords(first: first, count: count, recordBytes: bytes, at: out)
                }
                if let error { throw error }
                guard queued, sentRecords > 0 else { break }
                progressed = true
                standby.lastSent = now
                counters.store(ReplicationCounters.records, counters.load(ReplicationCounters.records) &+ UInt64(sentRecords))
            }
        } catch {
            return .failure(ReplicationProtocolError("the primary's journal cannot be streamed from \(standby.sent &+ 1): \(error)"))
        }
        if now &- standby.lastSent > settings.heartbeatMilliseconds * 1_000_000, !socket.hasPendingSend {
            socket.queue { ReplicationFrame.writeHeartbeat(durable: durableNow, to: $0) }
            standby.lastSent = now
        }
        if socket.hasPendingSend {
            let before = socket.bytesSent
            if let error = socket.flush() { return .failure(error) }
            progressed = progressed || socket.bytesSent != before
        }
        return .success(progressed)
    }

    /// Closes a connection with a refusal naming `reason`; logs and counts it.
    func drop(_ socket: ReplicationSocket, _ reason: String) {
        logger.error("replication: \(socket.peer) disconnected: \(reason)")
        counters.store(ReplicationCounters.refused, counters.load(ReplicationCounters.refused) &+ 1)
        socket.refuse(reason)
        bytesClosed &+= socket.bytesSent
        receivedClosed &+= socket.bytesReceived
    }
}
