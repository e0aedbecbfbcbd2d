import CExchangeShim
import ExchangeAccess
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire
import Glibc

/// The market-data agent's settings (`MarketDataAgent.Configuration`).
public struct MarketDataConfiguration: Sendable {
    /// The MoldUDP64 session: the trading day's (`TradingDay.marketDataSession`).
    public var session: SoupSessionName
    /// The sequence number of the first message this agent publishes: 1 when the session
    /// starts, the next one after what the day has published when the exchange restarts
    /// within the day (recovery computes it from the journal). Re-requests for anything
    /// before it are answered as any older than the history (`before_history`).
    public var firstSequence: UInt64 = 1
    public var instruments: [InstrumentSpec]
    /// Resting orders the replica can hold: the engine's order pool.
    public var orderCapacity: Int
    public var group: UInt32
    public var port: UInt16
    public var interface: UInt32
    public var ttl: Int
    public var loopback: Bool
    public var sendBufferBytes: Int
    public var maxPayloadBytes: Int
    public var heartbeatIntervalNanoseconds: UInt64
    /// Where the re-request server and the snapshot service listen (port 0: any free port).
    public var bindAddress: UInt32
    public var retransmitPort: UInt16
    public var retransmitHistoryMessages: Int
    public var retransmitMaxRequestsPerSecond: Int
    public var snapshotPort: UInt16
    /// Snapshot logins go to the authenticator (the accounts of the API keys file, checked
    /// as the order gateway's are); false lets any Login Request in.
    public var snapshotLoginRequired: Bool
    public var snapshotLoginTimeoutNanoseconds: UInt64 = 5_000_000_000
    /// The trading day's schedule runs (`trading_day.enabled`): the engine's phase commands
    /// publish start of system and market hours (`S`, `Q`), so the feed's opening does not
    /// (`FeedPublisher.opensMarket`).
    public var scheduledDay = false
    public var snapshotIdleTimeoutNanoseconds: UInt64 = 15_000_000_000
    /// A snapshot not read within this long closes its connection (a slow consumer).
    public var snapshotSendTimeoutNanoseconds: UInt64 = 30_000_000_000
    /// Snapshot connections at once; more are refused (closed at once, counted).
    public var maxSnapshotConnections = 16
    /// Of those, how many may be not logged in yet: sockets that never log in cannot hold
    /// more than this share (each is closed after the login timeout).
    public var maxSnapshotPreLoginConnections = 8
    /// Of those, how many one source IPv4 address may hold (0: no limit of its own), so that
    /// one host cannot take the whole pre-login share.
    public var maxSnapshotPreLoginPerAddress = 4
    /// Snapshot work per duty cycle at most (`market_data.snapshot_work_per_turn`): units of a
    /// chunk (a message or order encoded, a level listed, a heap step) or messages the snapshot
    /// copy of the books catches up; 0 lifts the bound (a whole snapshot in one duty cycle).
    public var snapshotWorkPerTurn = 1_024
    /// Snapshot bytes sent per second at most, all connections together
    /// (`market_data.snapshot_max_mb_per_second`, 64 MB/s by default there); 0: no cap.
    public var snapshotMaxBytesPerSecond = 0
    /// market_data.snapshot_tls on: where each new snapshot connection's TLS context comes
    /// from (nil: plain SoupBinTCP). Under mutual TLS (its settings name a client CA) a Login
    /// Request's username must be the client certificate's CN.
    public var snapshotTLS: TLSContextSource?
    /// The snapshot copy of the books catches up in idle duty cycles (`snapshotTurn`) instead
    /// of every duty cycle: on by default (issue 17; not in the configuration file).
    /// `SnapshotCatchUpTests` holds its duty cycles to zero allocations; false is the earlier
    /// rule, kept for side-by-side runs (marketdata-bench `--snapshot-catch-up eager`).
    public var snapshotCatchUpWhenIdle = true
    /// Packets ready or in flight at once (a power of two).
    public var packetSlots = 256
    public var answerSlots = 64
    public var retransmitReceives = 8
    public var eventBatch = 256
    public var ringEntries: UInt32 = 1_024

    public init(session: SoupSessionName, instruments: [InstrumentSpec], orderCapacity: Int, group: UInt32, port: UInt16,
                interface: UInt32, ttl: Int, loopback: Bool, sendBufferBytes: Int, maxPayloadBytes: Int,
                heartbeatIntervalNanoseconds: UInt64, bindAddress: UInt32, retransmitPort: UInt16,
                retransmitHistoryMessages: Int, retransmitMaxRequestsPerSecond: Int, snapshotPort: UInt16,
                snapshotLoginRequired: Bool) {
        self.session = session
        self.instruments = instruments
        self.orderCapacity = orderCapacity
        self.group = group
        self.port = port
        self.interface = interface
        self.ttl = ttl
        self.loopback = loopback
        self.sendBufferBytes = sendBufferBytes
        self.maxPayloadBytes = maxPayloadBytes
        self.heartbeatIntervalNanoseconds = heartbeatIntervalNanoseconds
        self.bindAddress = bindAddress
        self.retransmitPort = retransmitPort
        self.retransmitHistoryMessages = retransmitHistoryMessages
        self.retransmitMaxRequestsPerSecond = retransmitMaxRequestsPerSecond
        self.snapshotPort = snapshotPort
        self.snapshotLoginRequired = snapshotLoginRequired
    }
}

/// The market-data publisher: consumes the engine's book events, publishes them as ITCH 5.0
/// in MoldUDP64 packets on the multicast group, answers MoldUDP64 re-requests from its
/// history, and serves Glimpse-style snapshots to late joiners — all from one io_uring,
/// on the agent's own thread, without blocking, locking or allocating in `doWork()`.
///
/// One duty cycle, live feed first:
///
/// 1. Completions are taken from the ring; feed-send completions free their packet slots
///    at once, the others (re-requests, snapshot connections) wait for step 4.
/// 2. Up to `eventBatch` book events are encoded and packed; at the end of the batch the
///    open packet is closed (nothing waits for a full packet) and every ready packet is
///    submitted as a `send` on the connected feed socket — one `io_uring_enter` for the batch.
/// 3. With no events: a heartbeat after `heartbeatInterval` of silence, and timers.
/// 4. Re-requests (at most `retransmitReceives` per cycle, one packet each, from their own
///    slots and socket) and snapshot connections (one send in flight per connection) are
///    served, then submitted.
///
/// The live feed is never starved: re-requests are bounded per cycle and rate limited
/// (`RetransmitPolicy`), their answers never take live packet slots; snapshots come from the
/// service's own copy of the books (`SnapshotPass`), which catches up from the history and
/// stays frozen while a pass is encoded, at most `snapshotWorkPerTurn` units per duty cycle,
/// each chunk sent by every connection of the pass (one send in flight per connection) before
/// the next is encoded — so no duty cycle pays for a whole snapshot.
///
/// The snapshot service sits on the runtime's connection layer (`ConnectionTable`); every
/// operation on the ring is tagged with the one `CompletionTag` through `IOUring`'s typed
/// helpers. Time comes from the injected clock `C` (`TSCClock` in production, `ManualClock`
/// in tests): heartbeats, timers, snapshot timeouts and snapshot timestamps; the day's System
/// Events carry the engine's timestamps. `onStart` adopts the ring (its single issuer), arms
/// the re-request receives and the accept; the session opens with the day's first event
/// (`openDay`); `onClose` cancels what is in flight, waits (bounded) for it and closes every
/// descriptor; deinit frees memory.
///
/// In `durability.mode` sync an event is encoded only once the journal's durable position
/// has reached its command's sequence (one acquiring load per batch): nothing enters a
/// MoldUDP64 packet, the re-request history or the snapshot service's books before it is
/// durable, so re-requests and snapshots only ever serve what was published. The rest waits
/// in the ring, uncopied, for the next turn.
///
/// When every packet slot is in flight, events stay on the ring (counted as backpressure);
/// the engine then sees its ring fill and waits, as it does for any slow consumer.
public struct MarketDataAgent<C: Clock>: ~Copyable, Agent, @unchecked Sendable {
    public var roleName: String { "market-data" }

    public typealias Configuration = MarketDataConfiguration

    /// What start-up obtained, one line each, for the log.
    public let report: [String]
    /// The ports actually bound (useful when the configuration asked for 0).
    public let retransmitPort: UInt16
    public let snapshotPort: UInt16

    public var publisher: FeedPublisher
    var events: SPSCRing<SequencedEvent>.Consumer
    /// The journal's durable sequence, read only when `gatesOutput`.
    let durable: DurablePosition?
    /// Mode sync: events are published only up to `durable`.
    let gatesOutput: Bool
    var ring: IOUring
    var policy: RetransmitPolicy
    var answers: PacketSlots
    let cells: CounterCells
    let counters: CounterBlock
    let configuration: Configuration
    let upstreamFinished: @Sendable () -> Bool

    let clock: C
    /// Clock ticks in a millisecond: an idle turn reads `clock.ticks()` and converts to
    /// nanoseconds (timers, heartbeats) only when at least this many have passed.
    let millisecondTicks: UInt64

    let feedFD: Int32
    let retransmitFD: Int32
    /// The feed and re-request sockets are open (until `onClose`).
    var socketsOpen = true
    let completions: UnsafeMutableBufferPointer<Completion>
    /// Per re-request receive: its msghdr, iovec, source address and buffer.
    let requestHeaders: UnsafeMutablePointer<msghdr>
    let requestVectors: UnsafeMutablePointer<iovec>
    let requestSources: UnsafeMutablePointer<sockaddr_in>
    let requestBuffers: UnsafeMutableRawPointer
    static var requestBufferBytes: Int { 128 }
    /// Per answer slot: msghdr, iovec, destination.
    let answerHeaders: UnsafeMutablePointer<msghdr>
    let answerVectors: UnsafeMutablePointer<iovec>
    let answerDestinations: UnsafeMutablePointer<sockaddr_in>
    var snapshots: SnapshotService

    var draining = false
    var closing = false
    /// The day's opening (System Event `O`, Stock Directory, …) has begun: on the engine's
    /// start-of-day System Event, at its timestamp.
    var dayOpened = false
    var openingTimestamp: Timestamp = 0
    /// Feed sends, re-request receives and answer sends in flight (the snapshot service's
    /// operations are its table's).
    var operationsInFlight = 0
    var lastIdleTicks: UInt64 = 0
    var lastPacketAt: UInt64 = 0
    var packetsAtLastCheck: UInt64 = 0
    var eventsConsumed: UInt64 = 0
    var sendErrors: UInt64 = 0
    var backpressure: UInt64 = 0
    var retransmitCounts: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    var retransmitRequests: UInt64 = 0
    var retransmitMessages: UInt64 = 0
    var answerDropped: UInt64 = 0
    /// The journal archive: re-requests older than the history (`MarketDataAgent+Archive.swift`).
    var archive: FeedArchiveClient
    /// Per archive chunk: the requester it serves (0: free), and where its answer goes.
    let archiveRequesters: UnsafeMutablePointer<UInt64>
    let archiveDestinations: UnsafeMutablePointer<sockaddr_in>
    var archiveOutstanding = 0
    var archiveCounts = FeedArchiveCounts()

    /// Opens the sockets, the snapshot listener and the ring (disabled: the agent's thread
    /// adopts it in `onStart` and becomes its single issuer). `upstreamFinished` says, once
    /// draining, whether the engine can still publish events: the session closes (M, E, C,
    /// End of Session) only when it cannot and the ring is empty.
    /// - Parameter clock: the agent's time (the gateway's `TSCClock` in production, so System
    ///   Events and order events share it).
    /// - Parameter logins: the snapshot service's end of its channel to the authenticator.
    /// - Parameter durability: the mode; in `sync` nothing is published before `durable` (the
    ///   journal agent's position, required then) has reached its sequence.
    public init(configuration: Configuration, clock: C, events: consuming SPSCRing<SequencedEvent>.Consumer, logins: consuming LoginClient,
                cells: CounterCells, durability: DurabilityMode = .none, durable: DurablePosition? = nil,
                archive: consuming FeedArchiveClient = FeedArchiveChannel.unavailable().makeClient(),
                upstreamFinished: @escaping @Sendable () -> Bool) throws(SystemError) {
        precondition(!durability.gatesOutput || durable != nil, "durability.mode sync needs the journal's durable position")
        let counters = try cells.register(MarketDataCounters.block)
        var lines: [String] = []
        let (feed, feedReport) = try MarketDataSockets.openFeed(
            group: configuration.group, port: configuration.port, interface: configuration.interface, ttl: configuration.ttl,
            loopback: configuration.loopback, sendBuffer: configuration.sendBufferBytes)
        let retransmit: (Int32, UInt16)
        do {
            retransmit = try MarketDataSockets.openDatagramServer(address: configuration.bindAddress, port: configuration.retransmitPort,
                                                                  receiveBuffer: 262_144)
        } catch {
            close(feed)
            throw error
        }
        func closeSockets() {
            close(feed)
            close(retransmit.0)
        }
        let listener: TCPListener
        do {
            listener = try TCPListener(address: configuration.bindAddress, port: configuration.snapshotPort, backlog: 64)
        } catch {
            closeSockets()
            throw error
        }
        let boundSnapshotPort = listener.port
        let uring: IOUring
        do {
            uring = try IOUring(entries: configuration.ringEntries, startDisabled: true)
        } catch {
            closeSockets()
            throw error
        }
        let service: SnapshotService
        do {
            service = try SnapshotService(
                capacity: configuration.maxSnapshotConnections, preLoginLimit: configuration.maxSnapshotPreLoginConnections,
                preLoginPerAddressLimit: configuration.maxSnapshotPreLoginPerAddress,
                instrumentCount: configuration.instruments.count, orderCapacity: configuration.orderCapacity,
                workPerTurn: configuration.snapshotWorkPerTurn, firstSequence: configuration.firstSequence,
                logins: logins, loginRequired: configuration.snapshotLoginRequired, listener: listener, ring: uring,
                tls: configuration.snapshotTLS)
        } catch {
            closeSockets()
            throw error
        }
        feedFD = feed
        retransmitFD = retransmit.0
        retransmitPort = retransmit.1
        snapshotPort = boundSnapshotPort
        ring = uring
        snapshots = service
        self.clock = clock
        millisecondTicks = max(1, clock.ticks(forNanoseconds: 1_000_000))
        self.events = events
        self.durable = durable
        gatesOutput = durability.gatesOutput
        self.cells = cells
        self.counters = counters
        self.configuration = configuration
        self.upstreamFinished = upstreamFinished
        publisher = FeedPublisher(session: configuration.session, maxPayload: configuration.maxPayloadBytes,
                                  instruments: configuration.instruments, packetSlots: configuration.packetSlots,
                                  historyMessages: configuration.retransmitHistoryMessages, orderCapacity: configuration.orderCapacity,
                                  firstSequence: configuration.firstSequence)
        publisher.opensMarket = !configuration.scheduledDay
        policy = RetransmitPolicy(session: configuration.session, maxRequestsPerSecond: configuration.retransmitMaxRequestsPerSecond)
        answers = PacketSlots(count: configuration.answerSlots, slotBytes: configuration.maxPayloadBytes)
        completions = .allocate(capacity: Self.completionBatch)
        let receives = configuration.retransmitReceives
        requestHeaders = .filled(receives, with: msghdr())
        requestSources = .filled(receives, with: sockaddr_in())
        requestBuffers = .allocate(byteCount: receives * Self.requestBufferBytes, alignment: 64)
        requestVectors = .filled(receives, with: iovec())
        for i in 0..<receives {
            requestVectors[i] = iovec(iov_base: requestBuffers + i * Self.requestBufferBytes, iov_len: Self.requestBufferBytes)
        }
        answerHeaders = .filled(configuration.answerSlots, with: msghdr())
        answerVectors = .filled(configuration.answerSlots, with: iovec())
        answerDestinations = .filled(configuration.answerSlots, with: sockaddr_in())
        archiveRequesters = .filled(max(1, archive.chunks), with: 0)
        archiveDestinations = .filled(max(1, archive.chunks), with: sockaddr_in())
        self.archive = archive
        lines.append("market data: ITCH 5.0 / MoldUDP64 session \(configuration.session) from sequence \(configuration.firstSequence) to "
            + "\(MarketDataSockets.dotted(configuration.group)):\(configuration.port) via \(MarketDataSockets.dotted(configuration.interface)), "
            + "ttl \(configuration.ttl), loopback \(configuration.loopback ? "on" : "off"), \(feedReport), io_uring \(ring.setupDescription)")
        lines.append("market data: re-requests on udp \(MarketDataSockets.dotted(configuration.bindAddress)):\(retransmitPort) "
            + "(history \(configuration.retransmitHistoryMessages) messages, \(configuration.retransmitMaxRequestsPerSecond)/s); "
            + "snapshots on tcp \(MarketDataSockets.dotted(configuration.bindAddress)):\(snapshotPort) "
            + (configuration.snapshotLoginRequired ? "(logins checked by the authenticator)" : "(any login)")
            + ", at most \(configuration.maxSnapshotConnections) connections, \(configuration.maxSnapshotPreLoginConnections) before login"
            + (configuration.maxSnapshotPreLoginPerAddress > 0 ? " (\(configuration.maxSnapshotPreLoginPerAddress) per address)" : "")
            + (configuration.snapshotTLS.map { $0.settings.clientCAFile != nil ? ", TLS with client certificates (CN = username)" : ", TLS" } ?? ""))
        report = lines
    }

    /// Frees memory. Operations in flight and descriptors are `onClose`'s; an agent that
    /// never ran still owns its two datagram sockets, which go with it.
    deinit {
        if socketsOpen {
            close(feedFD)
            close(retransmitFD)
        }
        completions.deallocate()
        requestHeaders.deallocate()
        requestVectors.deallocate()
        requestSources.deallocate()
        requestBuffers.deallocate()
        answerHeaders.deallocate()
        answerVectors.deallocate()
        answerDestinations.deallocate()
        archiveRequesters.deallocate()
        archiveDestinations.deallocate()
    }

    // MARK: Agent

    /// On the agent's own thread, before the first turn: take the ring over (its single
    /// issuer), arm the re-request receives and the snapshot accept.
    public mutating func onStart() throws(AgentStartError) {
        do {
            try ring.adopt()
        } catch {
            throw AgentStartError(role: roleName, error)
        }
        for i in 0..<configuration.retransmitReceives { armRequestReceive(i) }
        snapshots.table.startAccepting(ring: ring)
        let ticks = clock.ticks()
        lastIdleTicks = ticks
        lastPacketAt = clock.nanoseconds(atTicks: ticks)
        ring.submitAndPoll()
        publishCounters()
    }

    public mutating func doWork() -> Int {
        var work = 0
        let n = ring.takeCompletions(into: completions)
        // Free live packet slots first.
        for i in 0..<n where completions[i].tag.kind == Self.feedKind {
            feedSent(completions[i])
            work &+= 1
        }
        let published = publishEvents()
        work &+= published
        // Then everything else the ring completed.
        if n > 0 {
            for i in 0..<n where completions[i].tag.kind != Self.feedKind {
                handle(completions[i])
                work &+= 1
            }
            snapshots.table.finishBatch()
        }
        work &+= completeSnapshotLogins()
        if work == 0 { work &+= idle() }
        work &+= snapshotTurn(publishedThisTurn: published)
        if archiveOutstanding > 0 { takeArchiveReplies() }
        submitAnswers()
        ring.submitAndPoll()
        return work
    }

    /// After the last turn, on the agent's own thread: stop accepting, cancel every feed
    /// send, re-request receive and answer in flight and wait (bounded, 500 ms) for their
    /// completions, then close every snapshot connection the same way (the table's
    /// `closeAll`) and the sockets.
    public mutating func onClose() {
        defer {
            if socketsOpen {
                close(feedFD)
                close(retransmitFD)
                socketsOpen = false
            }
            publishCounters()
        }
        guard ring.isEnabled else {
            snapshots.table.stopAccepting(ring: ring)  // nothing armed: closes the listener
            return
        }
        snapshots.table.stopAccepting(ring: ring)
        ring.prepareCancelAll(fd: feedFD)
        ring.prepareCancelAll(fd: retransmitFD)
        var waited = 0
        while operationsInFlight > 0 && waited < 500 {
            ring.submitAndPoll()
            let n = ring.takeCompletions(into: completions)
            for i in 0..<n {
                let completion = completions[i]
                if snapshots.table.owns(completion) {
                    if case .released = snapshots.table.handle(completion, ring: ring) { snapshots.open &-= 1 }
                    continue
                }
                switch completion.tag.kind {
                case .cancel: continue
                case Self.feedKind: publisher.packets.complete(completion.tag.index)
                case Self.answerKind: answers.complete(completion.tag.index)
                default: break
                }
                operationsInFlight &-= 1
            }
            snapshots.table.finishBatch()
            if n == 0 && !ring.waitForCompletion(milliseconds: 5) { waited += 5 }
        }
        var released = 0
        snapshots.table.closeAll(ring: &ring) { _ in released += 1 }
        snapshots.open -= released
        for slot in 0..<snapshots.capacity { snapshots.sessions[slot].inPass = false }
        snapshots.pass.end()
    }

    /// Failed submissions (counted by the ring, a failed `adopt()` among them) and failed
    /// sends and receives.
    public var errorCount: UInt64 { ring.submitFailures &+ sendErrors }

    public mutating func beginDrain() { draining = true }

    /// Drained once the End of Session packet is out and every live packet has completed.
    public var isDrained: Bool {
        publisher.phase == .ended && publisher.packets.taken == 0
    }

    // MARK: The live feed

    /// The next events to publish: up to a batch, in mode sync only those whose command is
    /// durable (one acquiring load; sequences only grow along the ring).
    @inline(__always)
    mutating func releasedEvents() -> UnsafeBufferPointer<SequencedEvent> {
        let batch = events.peek(upTo: configuration.eventBatch)
        guard gatesOutput && !batch.isEmpty else { return batch }
        let limit = durable.unsafelyUnwrapped.load()
        var durableCount = batch.count
        while durableCount > 0 && batch[durableCount &- 1].sequence > limit { durableCount &-= 1 }
        return UnsafeBufferPointer(rebasing: batch[0..<durableCount])
    }

    /// The day opens with the engine's start-of-day System Event, at its timestamp; a stream
    /// without one (tools and tests that feed book events) opens at its first event. Either
    /// way the opening is a function of the events, published over as many duty cycles as
    /// the packet slots need.
    mutating func openDay() -> Int {
        if !dayOpened {
            let batch = releasedEvents()
            guard let first = batch.first else { return 0 }
            openingTimestamp = first.event.timestamp % ITCHEncoder.nanosecondsPerDay
            if case .systemEvent(let e) = first.event, e.event == .startOfDay {
                events.release(1)
                eventsConsumed &+= 1
            }
            dayOpened = true
            _ = publisher.advanceOpening(timestamp: openingTimestamp)
            submitFeedPackets()
            return 1
        }
        _ = publisher.advanceOpening(timestamp: openingTimestamp)
        submitFeedPackets()
        return 0
    }

    /// Encodes a batch of events, closes the open packet, submits every ready packet.
    @inline(__always)
    mutating func publishEvents() -> Int {
        guard publisher.phase == .live else {
            if case .opening = publisher.phase { return openDay() }
            return 0
        }
        let batch = releasedEvents()
        guard !batch.isEmpty else { return 0 }
        var taken = 0
        let lookahead = Self.prefetchLookahead
        for i in 0..<min(lookahead, batch.count) { publisher.prefetch(batch[i].event) }
        while taken < batch.count {
            guard publisher.canPublish else {
                backpressure &+= 1
                break
            }
            if taken &+ lookahead < batch.count { publisher.prefetch(batch[taken &+ lookahead].event) }
            publisher.publish(batch[taken].event)
            taken &+= 1
        }
        events.release(taken)
        eventsConsumed &+= UInt64(taken)
        publisher.flush()
        submitFeedPackets()
        ring.submitAndPoll()
        if eventsConsumed & 4095 < UInt64(taken) { publishCounters() }
        return taken
    }

    @inline(__always)
    mutating func submitFeedPackets() {
        while let slot = publisher.packets.takeReady() {
            guard ring.prepareSend(fd: feedFD, bytes: publisher.packets.bytes(slot), count: publisher.packets.length(slot), flags: 0,
                                   tag: CompletionTag(kind: Self.feedKind, index: slot)) else {
                publisher.packets.untake()
                return
            }
            operationsInFlight &+= 1
        }
    }

    @inline(__always)
    mutating func feedSent(_ completion: Completion) {
        operationsInFlight &-= 1
        if completion.result < 0 { sendErrors &+= 1 }
        publisher.packets.complete(completion.tag.index)
    }

    /// No events this cycle: heartbeat, closing, timers, counters.
    mutating func idle() -> Int {
        // One counter read per idle turn; nanoseconds only once a millisecond has passed.
        let ticks = clock.ticks()
        guard ticks &- lastIdleTicks >= millisecondTicks else { return 0 }
        lastIdleTicks = ticks
        let now = clock.nanoseconds(atTicks: ticks)
        var work = 0
        if publisher.counters.packets != packetsAtLastCheck {
            packetsAtLastCheck = publisher.counters.packets
            lastPacketAt = now
        } else if publisher.phase == .live && now &- lastPacketAt >= configuration.heartbeatIntervalNanoseconds && publisher.canPublish {
            publisher.heartbeat()
            submitFeedPackets()
            work &+= 1
        }
        // Upstream first: once it has finished (acquire), the ring holds its last event, so an
        // empty ring then is empty for good. The other way round an event pushed between the
        // two reads would be lost.
        if draining && publisher.phase != .ended && (closing || upstreamFinished()) && events.depth == 0 {
            closing = true
            // A day that never opened (no event at all) still has its opening before it closes.
            if !dayOpened {
                dayOpened = true
                openingTimestamp = now % Clocks.nanosecondsPerDay
            }
            var opened = true
            if case .opening = publisher.phase { opened = publisher.advanceOpening(timestamp: openingTimestamp) }
            if opened { _ = publisher.advanceClosing(timestamp: now % Clocks.nanosecondsPerDay) }
            submitFeedPackets()
            if publisher.phase == .ended { endSnapshotService() }
            work &+= 1
        }
        work &+= snapshotTimers(now: now)
        publishCounters()
        return work
    }

    /// Copies the counters to the counters region (relaxed stores).
    mutating func publishCounters() {
        typealias Cell = MarketDataCounters
        let c = publisher.counters
        counters.store(Cell.messages, c.messages)
        counters.store(Cell.packets, c.packets)
        counters.store(Cell.bytes, c.bytes)
        counters.store(Cell.heartbeats, c.heartbeats)
        counters.store(Cell.nextSequence, publisher.nextSequence)
        counters.store(Cell.replicaMismatches, c.replicaMismatches)
        counters.store(Cell.restingOrders, UInt64(publisher.replica.orderCount))
        counters.store(Cell.events, eventsConsumed)
        counters.store(Cell.sendErrors, sendErrors)
        counters.store(Cell.backpressure, backpressure)
        counters.store(Cell.historyOldest, publisher.history.oldestSequence)
        counters.store(Cell.retransmitRequests, retransmitRequests)
        counters.store(Cell.retransmitRejected, retransmitRequests &- retransmitCounts.0)
        counters.store(Cell.retransmitAnswered, retransmitCounts.0)
        counters.store(Cell.retransmitMalformed, retransmitCounts.1)
        counters.store(Cell.retransmitWrongSession, retransmitCounts.2)
        counters.store(Cell.retransmitRateLimited, retransmitCounts.3)
        counters.store(Cell.retransmitBeforeHistory, retransmitCounts.4)
        counters.store(Cell.retransmitNotYetPublished, retransmitCounts.5)
        counters.store(Cell.retransmitMessages, retransmitMessages)
        counters.store(Cell.retransmitAnswerDropped, answerDropped)
        counters.store(Cell.archiveRequests, archiveCounts.requests)
        counters.store(Cell.archiveAnswered, archiveCounts.answered)
        counters.store(Cell.archiveRefused, archiveCounts.refused)
        counters.store(Cell.archiveFailures, archiveCounts.failures)
        counters.store(Cell.archiveMessages, archiveCounts.messages)
        snapshots.publish(counters)
        let ring = CountersLayout.RingSlot.bookEvents.offset
        cells.store(ring + CountersLayout.RingCell.consumed, events.released)
    }

    /// How many events ahead the replica's lines are prefetched (as the engine does for its
    /// commands; see benchmarks/RESULTS.md, market data).
    static var prefetchLookahead: Int { 8 }

    // MARK: Completion tags

    // Kinds 1–3 are the agent's own; the snapshot service's table takes 4–6
    // (`SnapshotService.tagBase`).
    static var feedKind: CompletionTag.Kind { CompletionTag.Kind(rawValue: 1) }
    static var requestKind: CompletionTag.Kind { CompletionTag.Kind(rawValue: 2) }
    static var answerKind: CompletionTag.Kind { CompletionTag.Kind(rawValue: 3) }

    mutating func handle(_ completion: Completion) {
        let tag = completion.tag
        if tag.kind == .cancel { return }
        if snapshots.table.owns(completion) { return snapshotCompletion(completion) }
        operationsInFlight &-= 1
        switch tag.kind {
        case Self.requestKind: requestReceived(tag.index, result: completion.result)
        case Self.answerKind:
            if completion.result < 0 { sendErrors &+= 1 }
            answers.complete(tag.index)
        default: break
        }
    }
}
