import CExchangeShim
import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire
import Foundation
import Logging

/// The exchange process's insides, assembled from configuration: memory regions placed
/// and locked, rings between agents, the agents on their threads, the counters region and
/// the admin plane. `trading_exchange` runs one; tests run one in-process.
///
/// ```
///  clients --TCP--> [gateway] --commands--> [engine agent] --order events--> [gateway] --TCP--> clients
///                  [demo flow] --control--/        \--------book events----> [market data / drain]
///  admin plane --snapshot requests--> engine agent (between batches)
///                    engine agent --sequenced commands--> [journal agent] --durable position--> gateway, market data
/// ```
///
/// With `Options.durability` async or sync the engine journals every command into the
/// journal ring and, in sync, the gateway and market data release output only up to the
/// durable position; with none (the default) there is no journal ring and nothing changes.
public final class Appliance: @unchecked Sendable {
    /// Pipeline stages in dedicated mode: gateway and demo flow, then the engine, then
    /// market data (a thread leaves only after every earlier stage has).
    static let marketDataStage = 2
    /// The authenticator's thread leaves after every service that posts logins to it.
    static let authenticatorStage = 3
    public private(set) var counters: CountersRegion
    /// Held while the appliance lives: one exchange per counters file (`InstanceLock`).
    /// Nil once a promotion has stopped this appliance (`promote`).
    var instanceLock: InstanceLock?
    public let runner: AgentRunner
    public internal(set) var admin: AdminServer?
    /// The admin plane's actions (halts, kill switches, mass cancels, …, and the notes of who
    /// took them and why), on their way to the gateway. Room for a firm of
    /// `operatorQueueCapacity − OperatorNote.maximumParts` accounts at once.
    public let operatorActions = OperatorActionQueue(capacity: Appliance.operatorQueueCapacity)
    public static let operatorQueueCapacity = 4_096
    /// The emergency triggers (`emergency`) and the manual emergency shutdown; a turn is
    /// `emergency?.turn(snapshot, now:)` on the supervisor thread (`ServiceMonitor`).
    public internal(set) var emergency: EmergencyMonitor?
    /// The port the order gateway listens on (the configured one, or the one the kernel
    /// chose when the options asked for port 0).
    public private(set) var gatewayPort = 0
    /// The FIX port actually bound (0 when `fix.port` is off).
    public private(set) var fixPort = 0
    /// The FIX drop-copy port actually bound (0 when `fix.drop_copy_port` is off).
    public private(set) var dropCopyPort = 0
    /// The market-data ports actually bound (0 when market data is disabled).
    public private(set) var retransmitPort = 0
    public private(set) var snapshotPort = 0
    /// gateway.tls on: the context new order-entry connections use; `reloadTLS()` (on
    /// SIGHUP) replaces it from the same files. Nil when TLS is off.
    public private(set) var gatewayTLS: TLSContextSource?
    /// fix.tls on: the FIX port's TLS contexts (`gatewayTLS` itself when gateway.tls is on too).
    public private(set) var fixTLS: TLSContextSource?
    /// market_data.snapshot_tls on: the snapshot service's contexts (the gateway's or the FIX
    /// port's when one of them has TLS on: one reload for all).
    public private(set) var snapshotTLS: TLSContextSource?
    /// admin.tls on: the admin plane's HTTPS contexts (its own: no client certificates).
    public private(set) var adminTLS: TLSContextSource?
    /// The trading day this run serves (the UTC day of the start), which names its sessions.
    public internal(set) var tradingDay = TradingDay(utcSecondsSinceEpoch: 0)
    /// The SoupBinTCP session name of this run: `gateway.session_name`, else the day's
    /// (`TradingDay.orderEntrySession`).
    public private(set) var sessionName = ""
    /// The MoldUDP64 session name of the feed: `gateway.session_name`, else the day's
    /// (`TradingDay.marketDataSession`).
    public internal(set) var feedSessionName = ""
    /// What the process obtained, one line each (regions, threads, memory locking).
    public private(set) var report: [String] = []
    private var regions: [RegionHolder] = []
    /// Modes async and sync: the engine's ring to the journal agent (kept here: its memory
    /// lives as long as the appliance) and the journal's durable position.
    var journalRing: SPSCRing<SequencedCommand>?
    var durable: DurablePosition?
    /// Modes async and sync: takes day snapshots from a replica that follows the journal.
    private var snapshotAgent: SnapshotAgent?
    /// `durability.replication` async or sync, role primary: the replication port's thread.
    public private(set) var replicationPrimary: ReplicationPrimary?
    /// Role standby: the thread that follows the primary (Appliance+Standby.swift).
    public internal(set) var replicationStandby: ReplicationStandby?
    /// Replication sync: the position output is released up to (min(durable, standby's)).
    private var released: DurablePosition?
    /// `leadership` configured: this exchange's seat in the election (ApplianceLeadership.swift).
    public internal(set) var leadership: ApplianceLeadership?
    /// The fencing token this primary journaled as its term's first record (0: none).
    public internal(set) var fencingToken: Int64 = 0
    /// The replication port bound (0: none).
    public var replicationPort: Int { replicationPrimary?.port ?? 0 }
    /// The regions mapped so far: name, bytes asked for (the `MemoryPlan`'s), bytes mapped.
    public private(set) var regionSizes: [(name: String, requested: Int, mapped: Int)] = []
    let logger: Logger

    public struct Options: Sendable {
        /// Where the counters file goes (a path under /dev/shm or a runtime directory).
        public var countersPath: String
        /// Feed a recorded demo order stream at this many commands per second (0: none).
        public var demoFlowRate: Int = 0
        public var demoFlowSeed: UInt64 = 1
        /// Commands in the demo stream (default: five minutes' worth, at most 2,000,000).
        public var demoFlowCommands: Int?
        /// The accounts that may log in (from `RTES_API_KEYS_FILE`).
        public var apiKeys: APIKeys?
        /// Asked between the steps of start-up: the name of a stop request that came in (such
        /// as `"SIGINT"`), which stops start-up where it is, or nil to go on.
        public var stopRequested: (@Sendable () -> String?)?
        /// What an acknowledgement promises, overriding `durability.mode` (nil: the
        /// configuration's): none, no journal; async and sync journal every command; sync also
        /// holds output until it is durable.
        public var durability: DurabilityMode?
        /// Start a new trading day even though today's journal exists (it is kept aside).
        public var newDay = false
        /// Where gateway.tls on finds RTES_TLS_CERT, RTES_TLS_KEY and RTES_CA_CERT (tests
        /// pass their own).
        public var environment: [String: String] = ProcessInfo.processInfo.environment
        /// Serve FIX on this port whatever `fix.port` says (0: one the kernel chooses; tests).
        public var fixPort: UInt16?
        /// Serve the FIX drop copy on this port whatever `fix.drop_copy_port` says (0: one the
        /// kernel chooses; tests). Needs the FIX port.
        public var dropCopyPort: UInt16?
        /// A seat that already leads (a standby's, handed over by `promote`): the primary
        /// journals its term and opens without campaigning again.
        public var leadership: ApplianceLeadership?
        /// The clean drain an emergency shutdown asks for, given the reason (trading_exchange:
        /// SIGTERM to itself); nil: an emergency shutdown stops and halts trading but cannot
        /// stop the process (tests pass their own).
        public var emergencyShutdown: (@Sendable (String) -> Void)?

        public init(countersPath: String, demoFlowRate: Int = 0, demoFlowSeed: UInt64 = 1, demoFlowCommands: Int? = nil,
                    apiKeys: APIKeys? = nil, stopRequested: (@Sendable () -> String?)? = nil, durability: DurabilityMode? = nil,
                    newDay: Bool = false) {
            self.durability = durability
            self.newDay = newDay
            self.countersPath = countersPath
            self.demoFlowRate = demoFlowRate
            self.demoFlowSeed = demoFlowSeed
            self.demoFlowCommands = demoFlowCommands
            self.apiKeys = apiKeys
            self.stopRequested = stopRequested
        }
    }

    /// Start-up stopped because a stop was requested (`Options.stopRequested`); whatever had
    /// started was stopped again.
    public struct StartStopped: Error, CustomStringConvertible {
        /// What asked for the stop, e.g. `"SIGINT"`.
        public let request: String
        public var description: String { "\(request) during start-up: start-up stopped, everything it had started stopped again" }
    }

    /// Builds and starts everything. Throws with a message naming what could not be obtained,
    /// or `StartStopped` when a stop was requested during start-up.
    ///
    /// Order matters: the instance lock first (a second exchange with the same counters file
    /// refuses before it touches anything, naming the PID that runs), then the counters file,
    /// created beside its place and renamed into it only once every port is bound.
    public static func start(_ configuration: ExchangeConfiguration, options: Options, logger: Logger) throws -> Appliance {
        let group = try countersGroup(configuration.exchange.countersGroup)
        let lock: InstanceLock
        do {
            lock = try InstanceLock.acquire(path: InstanceLock.path(forCounters: options.countersPath), group: group)
        } catch {
            throw ApplianceError(error.description)
        }
        if let request = options.stopRequested?() { throw StartStopped(request: request) }
        let ticksPerSecond = max(1, rtes_tsc_ticks_per_second(100_000_000))
        let counters: CountersRegion
        do {
            counters = try CountersRegion.create(path: options.countersPath, name: configuration.exchange.name, ticksPerSecond: ticksPerSecond,
                                                 group: group)
        } catch {
            throw ApplianceError("cannot create the counters file for \(options.countersPath): \(error)")
        }
        let appliance = Appliance(counters: counters, instanceLock: lock, logger: logger)
        do {
            try appliance.assemble(configuration, options: options, ticksPerSecond: ticksPerSecond)
        } catch {
            // Whatever started before the failure stops again: no thread outlives a failed start.
            _ = appliance.drain()
            throw error
        }
        return appliance
    }

    /// The start-up log line of a thread the runner started, or the agent's start error as an
    /// `ApplianceError` when its `onStart()` failed (the thread has closed the agent and left).
    static func started(_ report: AgentRunner.ThreadReport) throws(ApplianceError) -> String {
        if let error = report.startError {
            throw ApplianceError("thread \(report.name) did not start: \(error)")
        }
        return report.description
    }

    private init(counters: consuming CountersRegion, instanceLock: InstanceLock, logger: Logger) {
        self.counters = counters
        self.instanceLock = instanceLock
        runner = AgentRunner(counters: self.counters.cells)
        self.logger = logger
    }

    /// The group `exchange.counters_group` names (nil when empty: the files stay 0600).
    static func countersGroup(_ name: String) throws -> gid_t? {
        guard !name.isEmpty else { return nil }
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let code = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard code == 0, let found = result else {
            throw ApplianceError("exchange.counters_group is \"\(name)\", but this host has no such group"
                + (code == 0 ? "" : " (getgrnam_r: \(String(cString: strerror(code))))")
                + ": create it (groupadd \(name)), or set exchange.counters_group to \"\" for files only this user reads")
        }
        return found.pointee.gr_gid
    }

    func note(_ line: String) {
        report.append(line)
        logger.info("\(line)")
    }

    private func assemble(_ configuration: ExchangeConfiguration, options: Options, ticksPerSecond: UInt64) throws {
        func stopIfRequested() throws {
            if let request = options.stopRequested?() { throw StartStopped(request: request) }
        }
        let performance = configuration.performance
        let pinning = performance.enableCPUPinning
        guard let keys = options.apiKeys else {
            throw ApplianceError("the order gateway needs the accounts that may log in: set RTES_API_KEYS_FILE to an API keys file (configs/api_keys.dev.json is an example)")
        }
        guard keys.accounts.count <= performance.maxClients else {
            throw ApplianceError("the API keys file lists \(keys.accounts.count) accounts but performance.max_clients is \(performance.maxClients); raise max_clients")
        }
        // Each account's tokens must fit the shared history, so that no account (nor all of
        // them together) can fill it and have every other account's orders refused.
        let tokensPerAccount = configuration.gateway.maxTokensPerAccount
        if tokensPerAccount > 0 && tokensPerAccount * keys.accounts.count > configuration.gateway.tokenHistory {
            throw ApplianceError(
                "gateway.max_tokens_per_account \(tokensPerAccount) × \(keys.accounts.count) accounts is more than gateway.token_history "
                    + "(\(configuration.gateway.tokenHistory)), so the accounts together could fill it and have every order refused; "
                    + "raise token_history to \(tokensPerAccount * keys.accounts.count), lower max_tokens_per_account to "
                    + "\(configuration.gateway.tokenHistory / keys.accounts.count), or set it to 0 for an even share")
        }
        // Logged-in sessions are never starved: the table keeps a slot for every account's
        // session beside the slots connections not yet logged in may hold.
        let maxConnections = configuration.gateway.maxConnections
        if configuration.gateway.maxPreLoginConnections > 0 && keys.accounts.count >= maxConnections {
            throw ApplianceError("gateway.max_connections is \(maxConnections) but the API keys file lists \(keys.accounts.count) accounts: raise max_connections above \(keys.accounts.count) (to \(keys.accounts.count + configuration.gateway.maxPreLoginConnections) for the whole pre-login share), so that every account keeps a slot for its session and others can still connect to log in")
        }
        let demoClients = min(32, performance.maxClients - keys.accounts.count)
        if options.demoFlowRate > 0 && demoClients < 1 {
            throw ApplianceError("--demo-flow needs client IDs beyond the \(keys.accounts.count) accounts: raise performance.max_clients above \(keys.accounts.count)")
        }
        for line in HostFeatures.probe().report { note(line) }
        if performance.lockMemory {
            do {
                try ProcessMemory.lockAll()
                note("memory: mlockall(current|future) ok")
            } catch {
                note("memory: mlockall failed (\(error)); regions are still locked one by one where allowed")
            }
        }
        let policy = performance.hugePages
        func node(of agent: CoreAssignment.Agent) -> Int? { pinning ? try? NUMATopology.node(ofCPU: performance.cores[agent]) : nil }
        // Every region's size and owner come from the plan `--check` prints.
        let plan = MemoryPlan(configuration, accounts: keys.accounts.count, dropCopyAccounts: keys.accounts.filter(\.dropCopy).count)
        note(plan.summary)
        func region(_ name: String) throws -> UnsafeMutableRawPointer {
            try stopIfRequested()
            guard let part = plan.parts.first(where: { $0.name == name && $0.isRegion }) else {
                throw ApplianceError("internal: the memory plan has no region \(name)")
            }
            let r = try MemoryRegion.allocate(name: name, bytes: part.bytes, policy: policy, node: part.owner.flatMap(node(of:)),
                                              lock: performance.lockMemory)
            note("region \(r.report)")
            let base = r.base
            regionSizes.append((name: name, requested: r.requestedBytes, mapped: r.bytes))
            regions.append(RegionHolder(r))
            return base
        }

        let durability = options.durability ?? configuration.durability.mode
        let replication = configuration.durability.replication
        if replication != .none && !durability.journals {
            throw ApplianceError("durability.replication is \(replication), but durability.mode is none: replication streams the journal")
        }
        if replication == .sync && !durability.gatesOutput {
            throw ApplianceError("durability.replication is sync, but durability.mode is \(durability): sync replication needs mode sync")
        }
        if configuration.leadership.configured && !durability.journals {
            throw ApplianceError("the leadership section is present, but durability.mode is none: a primary journals its fencing token; "
                + "set durability.mode to async or sync, or remove the leadership section")
        }
        if replication != .none && configuration.replication.role == .standby {
            try assembleStandby(configuration, keys: keys, options: options, ticksPerSecond: ticksPerSecond, region: region, stopIfRequested: stopIfRequested)
            return
        }
        // Leadership: won before any client port opens (Appliance+Leadership.swift).
        let term = try campaignAsPrimary(configuration, options: options, ticksPerSecond: ticksPerSecond)

        // The engine and its rings.
        let engineConfiguration = configuration.engineConfiguration()
        let engineMemory = try region("engine")
        let capacity = performance.queueCapacity
        var commandRing = SPSCRing<CommandEnvelope>(capacity: capacity, memory: try ringMemory("commands"))
        let controlCapacity = MemoryPlan.controlCapacity(queueCapacity: capacity)
        var controlRing = SPSCRing<CommandEnvelope>(capacity: controlCapacity, memory: try ringMemory("control"))
        var orderRing = SPSCRing<SequencedEvent>(capacity: capacity, memory: try ringMemory("order_events"))
        var bookRing = SPSCRing<SequencedEvent>(capacity: capacity, memory: try ringMemory("book_events"))
        func ringMemory(_ name: String) throws -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: try region("ring_\(name)"), count: plan.bytes(of: "ring_\(name)"))
        }
        counters.registerRing(.commands, capacity: capacity)
        counters.registerRing(.orderEvents, capacity: capacity)
        counters.registerRing(.bookEvents, capacity: capacity)
        counters.registerRing(.control, capacity: controlCapacity)

        // The trading day, and its journal: a new day, or the day so far to replay.
        tradingDay = TradingDay(utcSecondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        let dayJournal = durability.journals
            ? try DayJournal.open(settings: configuration.durability, day: tradingDay, newDay: options.newDay) : nil
        for line in dayJournal?.notes ?? [] { note(line) }
        // Durability: the journal ring (the engine pushes every command onto it, sequenced)
        // and the position the journal agent publishes once records are on disk (everything
        // replayed is).
        let nextSequence = dayJournal?.nextSequence ?? 1
        if durability.journals {
            let memory = UnsafeMutableRawBufferPointer(start: try region("ring_journal"), count: plan.bytes(of: "ring_journal"))
            journalRing = SPSCRing<SequencedCommand>(capacity: configuration.durability.ringCapacity, memory: memory)
            durable = DurablePosition(initial: nextSequence &- 1)
        }
        // Replication sync: the gateway and market data release output up to what the standby
        // acknowledged too (the replication thread publishes min(durable, acknowledged)).
        if replication == .sync { released = DurablePosition(initial: nextSequence &- 1) }
        let outputPosition = released ?? durable
        // The journal archive's channel: with a journal, messages older than a session's
        // in-memory history are regenerated from it (JournalArchive.swift).
        let archiveChannel = dayJournal != nil
            ? SessionArchiveChannel(chunks: configuration.durability.archiveMaxRequests, chunkBytes: configuration.durability.archiveChunkBytes) : SessionArchiveChannel.unavailable()

        let snapshotLevels = MemoryPlan.snapshotLevels
        let snapshotMemory = try region("orderbook_snapshots")
        // The engine exactly as `rtes-journal replay` builds it (ExchangeConfiguration+Engine.swift),
        // so that recovery and the offline replay agree on every outcome and on the state hash.
        var engine = configuration.makeRiskCheckedEngine(keys: keys, region: engineMemory)
        // One clock for every agent, so that the gateway's stamps, the demo flow's and market
        // data's agree: the TSC (or CLOCK_MONOTONIC) anchored to CLOCK_REALTIME once, here.
        let clock = TSCClock(ticksPerSecond: ticksPerSecond, ticks: rtes_rdtsc(), realtimeNanoseconds: rtes_realtime_ns())

        // Logins of every TCP service are checked by the authenticator, on a thread of its own
        // (a password check takes milliseconds; the service loops never wait for one).
        let gatewayLogins = LoginChannel(service: "gateway", capacity: configuration.auth.maxPendingLogins) { code in
            DisconnectReason(rawValue: code).map(String.init(describing:)) ?? "reason \(code)"
        }
        // The snapshot service refuses no order messages: its ring of reject notices is one slot.
        let snapshotLogins = LoginChannel(service: "snapshot", capacity: configuration.auth.maxPendingLogins, rejectCapacity: 1)
        let authenticator = try Authenticator(
            keys: keys, policy: LoginThrottle.Policy(configuration.auth),
            channels: configuration.marketData.enabled ? [gatewayLogins, snapshotLogins] : [gatewayLogins],
            clock: clock, cells: counters.cells, logger: logger)
        note("auth: \(keys.accounts.count) accounts (\(keys.accounts.filter { $0.credential.isPlain }.count) with plain passwords), "
            + "backoff \(configuration.auth.backoffMilliseconds)–\(configuration.auth.maxBackoffMilliseconds) ms, lockout after "
            + "\(configuration.auth.maxFailedLogins) failures for \(configuration.auth.lockoutMilliseconds) ms, "
            + "\(configuration.auth.maxPendingLogins) pending logins per service")

        // The order gateway: its listening socket first, so that a port in use is reported now.
        let gatewaySettings = configuration.gateway
        note(Self.raiseDescriptorLimit(toServe: gatewaySettings.maxConnections))
        let bind = configuration.exchange.bindAddress
        let port = Int(configuration.exchange.tcpPort)
        let listener: TCPListener
        do {
            listener = try TCPListener(address: bind.rawValue, port: UInt16(port), backlog: 1_024)
        } catch {
            throw ApplianceError("the order gateway cannot listen on \(bind):\(port): \(error.message)")
        }
        gatewayPort = Int(listener.port)
        // A new day on the same date (--new-day) gets new session names (DayJournal.ordinal).
        let ordinal = dayJournal?.ordinal ?? 0
        sessionName = gatewaySettings.sessionName.isEmpty
            ? (tradingDay.orderEntrySession(ordinal: ordinal) ?? tradingDay.orderEntrySession).description : gatewaySettings.sessionName
        feedSessionName = gatewaySettings.sessionName.isEmpty
            ? (tradingDay.marketDataSession(ordinal: ordinal) ?? tradingDay.marketDataSession).description : gatewaySettings.sessionName
        let gatewayMemory: UnsafeMutableRawPointer
        do {
            gatewayMemory = try region("gateway")
        } catch {
            _ = consume listener
            throw error
        }
        do {
            gatewayTLS = try Self.gatewayTLS(gatewaySettings.tls, environment: options.environment, note: note)
        } catch {
            _ = consume listener
            throw error
        }
        var gatewayOptions = GatewayOptions(
            settings: gatewaySettings, tcpNoDelay: performance.tcpNoDelay, session: SoupSessionName(sessionName)!,
            symbols: configuration.symbols.map(\.symbol), keys: keys, tls: gatewayTLS)
        gatewayOptions.stallBudgetMilliseconds = configuration.durability.stallBudgetMilliseconds
        gatewayOptions.leadershipTerm = term
        gatewayOptions.leadershipGate = term != nil ? leadership?.gate : nil
        if configuration.tradingDay.enabled {
            gatewayOptions.tradingDay = configuration.tradingDay
            do {
                if configuration.tradingDay.clockRate == 1 { gatewayOptions.zoneOffsets = try Self.zoneOffsets(configuration.tradingDay.timeZone) }
            } catch {
                _ = consume listener
                throw error
            }
            note(Self.tradingDayNote(configuration.tradingDay))
        }
        gatewayOptions.operatorActions = operatorActions
        // FIX 4.4 (fix.port): a second listener of the same gateway agent.
        var fixListener: TCPListener? = nil
        var dropCopyListener: TCPListener? = nil
        if configuration.fix.enabled || options.fixPort != nil {
            let fixPortNumber = options.fixPort ?? configuration.fix.port
            do {
                fixListener = try TCPListener(address: bind.rawValue, port: fixPortNumber, backlog: 1_024)
            } catch {
                _ = consume listener
                throw ApplianceError("the FIX acceptor cannot listen on \(bind):\(fixPortNumber) (fix.port): \(error.message)")
            }
            gatewayOptions.fix = configuration.fix
            // The drop copy: a second listener of the FIX port's table.
            if configuration.fix.dropCopyPort != 0 || options.dropCopyPort != nil {
                let dropPortNumber = options.dropCopyPort ?? configuration.fix.dropCopyPort
                do {
                    dropCopyListener = try TCPListener(address: bind.rawValue, port: dropPortNumber, backlog: 256)
                } catch {
                    _ = consume listener
                    throw ApplianceError("the FIX drop copy cannot listen on \(bind):\(dropPortNumber) (fix.drop_copy_port): \(error.message)")
                }
                gatewayOptions.fix?.dropCopyPort = dropCopyListener?.port ?? 0
            }
            if configuration.fix.tls == .on {
                // The order-entry port's context when it has one (one reload for both), else its own.
                do {
                    fixTLS = try gatewayTLS ?? Self.gatewayTLS(.on, environment: options.environment, note: note, service: "fix.tls")
                } catch {
                    _ = consume listener
                    throw error
                }
                gatewayOptions.fixTLS = fixTLS
            }
        }
        fixPort = Int(fixListener?.port ?? 0)
        dropCopyPort = Int(dropCopyListener?.port ?? 0)
        var gateway = try GatewayAgent(
            options: gatewayOptions, clock: clock, listener: listener, memory: gatewayMemory, commands: commandRing.makeProducer(),
            orderEvents: orderRing.makeConsumer(), logins: gatewayLogins.makeClient(), cells: counters.cells,
            durability: durability, durable: outputPosition, archive: archiveChannel.makeClient(), fixListener: fixListener,
            dropCopyListener: dropCopyListener)
        if fixPort != 0 {
            note("gateway: FIX 4.4 on \(bind):\(fixPort), SenderCompID \(configuration.fix.senderCompID), up to \(configuration.fix.maxConnections) "
                + "connections and \(configuration.fix.maxSessions) sessions a day (Username = SenderCompID = an account of the keys file)")
        }
        if dropCopyPort != 0 {
            let entitled = keys.accounts.filter(\.dropCopy).map(\.username)
            note("gateway: FIX drop copy on \(bind):\(dropCopyPort), \(entitled.count) entitled account(s)"
                + (entitled.isEmpty ? " (none: set \"drop_copy\": true on an account in the keys file)" : ": " + entitled.joined(separator: ", ")))
        }
        note("gateway: SoupBinTCP 3.0 / OUCH 4.2 on \(bind):\(gatewayPort), session \(sessionName), \(keys.accounts.count) accounts, "
            + "io_uring \(gateway.ringSetup), \(gatewaySettings.receiveBufferCount) × \(gatewaySettings.receiveBufferSize) B receive buffers, "
            + "up to \(gatewaySettings.maxConnections) connections, TCP_NODELAY \(performance.tcpNoDelay ? "on" : "off"), TLS \(gatewaySettings.tls)")

        var stream: [EngineCommand] = []
        if options.demoFlowRate > 0 {
            let count = options.demoFlowCommands ?? min(2_000_000, max(10_000, options.demoFlowRate * 300))
            stream = DemoFlowAgent<TSCClock>.recordedStream(configuration: engineConfiguration, limits: configuration.riskLimits,
                                                  clients: demoClients, count: count, seed: options.demoFlowSeed)
            note("demo flow: \(count) recorded commands at \(options.demoFlowRate)/s (seed \(options.demoFlowSeed)) as clients \(keys.accounts.count)–\(keys.accounts.count + demoClients - 1)")
        }
        let demoAgent = DemoFlowAgent(commands: stream, producer: controlRing.makeProducer(), rate: options.demoFlowRate,
                                      clock: clock, clientOffset: ClientID(keys.accounts.count), cells: counters.cells)

        // Market data: the ITCH feed, its re-request server and snapshot service; or, when
        // disabled, a drain that consumes the book events. The session closes (End of Session)
        // once the engine can publish nothing more: in shared mode when the agents before it
        // on the thread are drained, in dedicated mode when the runner says every thread of
        // the stages before market data's has left.
        let upstreamDrained = UpstreamDrainSignal()
        let cells = counters.cells
        let runner = self.runner
        let shared = performance.threadingMode == .shared
        var marketData: ProductionMarketDataAgent?
        var replayed: DayReplay?
        var drainAgent: EventDrainAgent?
        // The newest usable day snapshot, when the day continues: the engine and the sessions
        // start from it, market data below, and only the journal after it is replayed.
        var restored: DaySnapshot.Loaded?
        if let dayJournal, let reader = dayJournal.reader {
            restored = try Self.restoreDaySnapshot(
                dayJournal, reader: reader, engine: &engine, gateway: &gateway, needsFeed: configuration.marketData.enabled,
                accounts: keys.accounts.count, instruments: configuration.symbols.count, note: { self.note($0) })
        }
        // What the snapshot agent's replica needs to keep the FIX sessions as the gateway does.
        let replicaFIX = gatewayOptions.fix
        let replicaFIXMidnight = gateway.fixEpochMidnight
        // Re-requests older than the feed's history go to the journal archive, when there is a
        // journal (the archive regenerates the day from its first record, so from sequence 1).
        var feedSettings: MarketDataConfiguration?
        var feedArchive = FeedArchiveChannel.unavailable()
        if configuration.marketData.enabled {
            var settings = MarketDataConfiguration(configuration: configuration, session: SoupSessionName(feedSessionName)!)
            if configuration.marketData.snapshotTLS == .on {
                snapshotTLS = try gatewayTLS ?? fixTLS
                    ?? Self.gatewayTLS(.on, environment: options.environment, note: note, service: "market_data.snapshot_tls")
                settings.snapshotTLS = snapshotTLS
            }
            if dayJournal != nil {
                feedSettings = settings
                feedArchive = FeedArchiveChannel(chunks: configuration.durability.archiveMaxRequests, chunkBytes: max(1_024, settings.maxPayloadBytes))
            }
            settings.firstSequence = restored?.feed?.nextSequence ?? 1
            var agent: MarketDataAgent<TSCClock>
            do {
                agent = try MarketDataAgent(configuration: settings, clock: clock, events: bookRing.makeConsumer(),
                                            logins: snapshotLogins.makeClient(), cells: cells, durability: durability, durable: outputPosition,
                                            archive: feedArchive.makeClient(),
                                            upstreamFinished: { shared ? upstreamDrained.isRaised : runner.upstreamFinished(before: Self.marketDataStage) })
            } catch {
                throw ApplianceError("market data cannot start: \(error)")
            }
            for line in agent.report { note(line) }
            retransmitPort = Int(agent.retransmitPort)
            snapshotPort = Int(agent.snapshotPort)
            if let feed = restored?.feed {
                do throws(FeedDayStateError) {
                    try agent.restoreDayState(feed)
                } catch {
                    throw ApplianceError("recovery: the snapshot \(restored!.file.path) does not fit market data: \(error)")
                }
            }
            if let reader = dayJournal?.reader {
                replayed = try Self.replayDay(reader, after: restored, engine: &engine, gateway: &gateway) { agent.replay($0) }
            }
            marketData = ProductionMarketDataAgent(agent)
        } else {
            if let reader = dayJournal?.reader {
                replayed = try Self.replayDay(reader, after: restored, engine: &engine, gateway: &gateway) { _ in }
            }
            drainAgent = EventDrainAgent(events: bookRing.makeConsumer(), ring: .bookEvents, cells: counters.cells)
            note("market data: disabled (market_data.enabled is false); book events are consumed and dropped")
        }
        if let term, let replayed, replayed.epoch >= term.token {
            throw ApplianceError("leadership: the fencing token won, \(term.token), is not higher than \(replayed.epoch), which the journal "
                + "already holds: etcd's revisions went backwards (another etcd cluster, or its data lost?); not serving")
        }
        if let replayed {
            // The day continues where the journal ends; it starts again only after an end of day.
            gateway.startsDay = replayed.lastDayEvent != .startOfDay
            gateway.recoveredDay = replayed.records > 0
            note("recovery: " + (restored.map { "from the snapshot \($0.file.path) (sequence \($0.coveredSequence)), then " } ?? "")
                + "\(replayed.records) journaled commands replayed in \(replayed.milliseconds) ms "
                + "(\(replayed.commandsPerSecond) commands/s) into the engine, \(keys.accounts.count) sessions and the feed; "
                + "state hash \(StateHasher.text(engine.stateHash())); next sequence \(nextSequence)"
                + (gateway.startsDay ? "; the day ended, a new start of day follows" : "; the day continues"))
            if gateway.fixSessionsBound > 0 || gateway.fixReplayMismatches > 0 {
                note("recovery: FIX sessions recovered from the journal: \(gateway.fixSessionsBound)"
                    + (gateway.fixReplayMismatches > 0
                        ? "; \(gateway.fixReplayMismatches) FIX session records did not fit their session (another fix.* configuration "
                            + "than the one that wrote them?): those sessions may differ from before the restart" : ""))
            }
        }
        let productionGateway = ProductionGatewayAgent(gateway)
        let engineAgent = EngineAgent(
            engine: engine, commands: commandRing.makeConsumer(), control: controlRing.makeConsumer(),
            orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: snapshotLevels), cells: counters.cells,
            journal: journalRing?.makeProducer(), nextSequence: nextSequence)

        // The journal agent, before any thread that produces commands starts: it appends to a
        // fresh segment after the day's last, from the next sequence.
        var journalAgent: JournalAgent<TSCClock>?
        if let commands = journalRing?.makeConsumer(), let dayJournal {
            let settings = configuration.durability
            let journalConfiguration = JournalAgent<TSCClock>.Configuration(
                directory: dayJournal.directory, segmentBytes: settings.segmentBytes, groupCommitMaxBytes: settings.groupCommitMaxBytes,
                ioMode: settings.io, preallocation: settings.preallocate, syncMethod: settings.syncMethod, day: dayJournal.day.name,
                firstSegmentIndex: dayJournal.nextSegmentIndex)
            do {
                let agent = try JournalAgent(configuration: journalConfiguration, nextSequence: nextSequence, input: commands,
                                             durable: durable!, clock: clock, cells: counters.cells)
                note("\(agent.ioChoice.description); durability.mode \(durability), segments of \(settings.segmentBytes) B "
                    + (settings.preallocate == .zeros ? "zero-filled ahead of need, " : "fallocated, ")
                    + "group commit up to \(settings.groupCommitMaxBytes) B, ring of \(settings.ringCapacity) commands")
                note(agent.syncChoice.description + " (durability.sync_method \(settings.syncMethod))")
                journalAgent = consume agent
            } catch {
                throw ApplianceError("the journal cannot start in \(dayJournal.directory): \(error)")
            }
        }
        let journal = OptionalAgent(journalAgent.take())
        var archiveAgent: JournalArchive?
        if let dayJournal, let durable {
            archiveAgent = JournalArchive(directory: dayJournal.directory, day: dayJournal.day.name, durable: durable, configuration: configuration, keys: keys,
                                          gateway: archiveChannel.makePort(), feed: feedArchive.makePort(), feedConfiguration: feedSettings,
                                          logger: logger)
            note("journal archive: sessions' messages older than their history (\(configuration.gateway.sessionHistoryMessages) "
                + "messages) are regenerated from \(dayJournal.directory) on the authenticator's thread, at most "
                + "\(configuration.durability.archiveMaxRequests) sessions at once, \(configuration.durability.archiveChunkBytes / 1_024) KiB per chunk"
                + (feedSettings != nil ? "; and feed re-requests older than its history (\(configuration.marketData.retransmitHistoryMessages) messages), "
                    + "at most \(configuration.durability.archiveMaxRequests) requesters at once" : ""))
        }
        if let dayJournal, let durable {
            let settings = SnapshotAgent.Settings(
                directory: dayJournal.directory, day: dayJournal.day.name,
                intervalSeconds: configuration.durability.snapshotIntervalSeconds, retainSegments: configuration.durability.retain,
                configuration: configuration, keys: keys, feedSession: SoupSessionName(feedSessionName)!,
                fix: replicaFIX, fixEpochMidnight: replicaFIXMidnight)
            do {
                snapshotAgent = try SnapshotAgent(settings: settings, durable: durable, cells: counters.cells, logger: logger)
            } catch {
                throw ApplianceError("the snapshot agent cannot register its counters: \(error)")
            }
            snapshotAgent?.start()
            note("snapshots: a replica follows the journal; "
                + (settings.intervalSeconds > 0 ? "a day snapshot every \(settings.intervalSeconds) s" : "no periodic snapshots")
                + " and one on SIGUSR1, into \(dayJournal.directory); journal segments covered beyond the newest \(settings.retainSegments) are retired")
        }

        if replication != .none, let dayJournal, let durable {
            let r = configuration.replication
            var settings = ReplicationPrimary.Settings(directory: dayJournal.directory, day: dayJournal.day.name, mode: replication,
                                                       acknowledgement: r.syncAcknowledgement, listenAddress: r.listenAddress,
                                                       listenPort: r.listenPort)
            settings.pollMicroseconds = 50
            settings.yieldMicroseconds = r.yieldMicroseconds
            settings.drainGraceMilliseconds = UInt64(max(1_000, configuration.gateway.shutdownGraceMilliseconds))
            settings.epoch = term?.token ?? replayed?.epoch ?? 0
            settings.termStart = term != nil ? nextSequence : 0
            replicationPrimary = try ReplicationPrimary(settings: settings, durable: durable, released: released, cells: counters.cells,
                                                        logger: logger)
            replicationPrimary?.start()
            note("replication: \(replication), primary: standbys connect to \(r.listenAddress):\(replicationPort)"
                + (replication == .sync ? "; output waits for the standby's \(r.syncAcknowledgement) acknowledgement (none connected: held)" : ""))
        }

        // Threads: one counters slot per thread.
        try stopIfRequested()
        let idle = IdleStrategy(performance.idleStrategy)
        func placement(_ agent: CoreAssignment.Agent) -> AgentRunner.Placement {
            AgentRunner.Placement(
                cpus: pinning ? [performance.cores[agent]] : [], idle: idle,
                fifoPriority: performance.realtimePriority > 0 ? Int32(performance.realtimePriority) : nil)
        }
        // The authenticator and the admin plane run on the CPUs no agent is pinned to. Idle, the
        // authenticator parks up to 10 ms at a time: a login waits at most that long for it to
        // look, and a quiet exchange's other threads are woken 100 times a second, not 1,000
        // (at 1 ms, its wake-ups showed in gateway-bench's p99).
        let adminCPUs = Self.adminCPUs(pinned: pinning ? Set(CoreAssignment.Agent.allCases.map { performance.cores[$0] }) : [])
        let authPlacement = AgentRunner.Placement(cpus: adminCPUs.cpus, idle: IdleStrategy(.backoff, maxParkNanoseconds: 10_000_000))
        var authAgent: AgentPair<Authenticator<TSCClock>, OptionalAgent<JournalArchive>>? =
            AgentPair(authenticator, OptionalAgent(archiveAgent.take()))
        switch performance.threadingMode {
        case .shared:
            counters.registerAgent(.engine, name: "shared")
            // Each turn: the engine takes what the gateway queued last turn, the gateway sends
            // the answers right away (and takes new orders), and only then does market data
            // make its sends — so a client's answer never waits behind the feed's syscalls.
            // The journal works between the engine and the gateway in sync (its chain goes out
            // at once, and what completed is published before the gateway looks), after the
            // gateway otherwise (an answer does not wait behind the journal's submission).
            let upstream = UpstreamDrainReporter(
                AgentPair(engineAgent, TurnOrderedPair(journal, AgentPair(productionGateway, demoAgent), secondRunsFirst: durability != .sync)),
                signal: upstreamDrained)
            if let marketData = marketData.take() {
                let all = AgentPair(upstream, marketData)
                note(try Self.started(runner.start(all, name: "rtes-agents", slot: .engine, stage: 0, placement: placement(.engine)))
                    + " (shared: engine, gateway, demo flow, market data)")
            } else {
                let all = AgentPair(upstream, drainAgent.take()!)
                note(try Self.started(runner.start(all, name: "rtes-agents", slot: .engine, stage: 0, placement: placement(.engine)))
                    + " (shared: engine, gateway, demo flow, book-event drain)")
            }
            counters.registerAgent(.auxiliary, name: "auth")
            note(try Self.started(runner.start(authAgent.take()!, name: "rtes-auth", slot: .auxiliary, stage: Self.authenticatorStage,
                                               placement: authPlacement)))
        case .dedicated:
            counters.registerAgent(.gateway, name: "gateway")
            counters.registerAgent(.engine, name: "engine")
            counters.registerAgent(.marketData, name: "market_data")
            note(try Self.started(runner.start(productionGateway, name: "rtes-gateway", slot: .gateway, stage: 0, placement: placement(.gateway))))
            if options.demoFlowRate > 0 {
                // The counters have one auxiliary slot: the demo flow shares the authenticator's
                // unpinned thread (a check delays the next paced commands, none is lost).
                counters.registerAgent(.auxiliary, name: "demo_flow+auth")
                note(try Self.started(runner.start(AgentPair(demoAgent, authAgent.take()!), name: "rtes-demo", slot: .auxiliary,
                                                   stage: 0, placement: authPlacement)))
            } else {
                counters.registerAgent(.auxiliary, name: "auth")
                note(try Self.started(runner.start(authAgent.take()!, name: "rtes-auth", slot: .auxiliary, stage: Self.authenticatorStage,
                                                   placement: authPlacement)))
            }
            note(try Self.started(runner.start(AgentPair(engineAgent, journal), name: "rtes-engine", slot: .engine, stage: 1,
                                               placement: placement(.engine))))
            if let marketData = marketData.take() {
                note(try Self.started(runner.start(marketData, name: "rtes-md", slot: .marketData, stage: Self.marketDataStage, placement: placement(.marketData))))
            } else {
                note(try Self.started(runner.start(drainAgent.take()!, name: "rtes-md", slot: .marketData, stage: Self.marketDataStage, placement: placement(.marketData))))
            }
        }

        let logger = self.logger
        var snapshot: (@Sendable () -> Bool)?
        if let agent = snapshotAgent {
            snapshot = { agent.request(); return true }
        }
        let actions = keys.operators.isEmpty ? nil
            : AdminActions(operators: keys.operators, accounts: keys.accounts, queue: operatorActions, snapshot: snapshot,
                           audit: { logger.notice("\($0)") })
        // The emergency triggers take their actions through the same queue (a plane of their own
        // when the keys file names no operator).
        emergency = EmergencyMonitor(
            settings: configuration.emergency,
            actions: actions ?? AdminActions(operators: [], accounts: keys.accounts, queue: operatorActions, audit: { logger.notice("\($0)") }),
            shutdown: options.emergencyShutdown, logger: logger)
        if configuration.emergency.anyOn {
            note("emergency: triggers armed (\(EmergencyTriggers(configuration.emergency).armed.keys.map(\.rawValue).sorted().joined(separator: ", ")); "
                + "hold \(configuration.emergency.holdSeconds) s)")
        }
        try openAdminAndPublish(configuration, snapshots: OrderBookSnapshotClient(base: snapshotMemory, maxLevels: snapshotLevels),
                                cpus: adminCPUs, environment: options.environment, actions: actions, stopIfRequested: stopIfRequested)
    }

    /// The admin plane, on threads kept off the CPUs the agents are pinned to; then, every
    /// port bound, the counters file takes its place for readers and the state is running.
    /// `environment`: where admin.tls on finds RTES_TLS_CERT and RTES_TLS_KEY.
    func openAdminAndPublish(_ configuration: ExchangeConfiguration, snapshots: OrderBookSnapshotClient, cpus adminCPUs: (cpus: [Int], note: String),
                             environment: [String: String] = ProcessInfo.processInfo.environment, actions: AdminActions? = nil,
                             stopIfRequested: () throws -> Void) throws {
        // The web view's tape follows this exchange's feed (while a view is open): its group, and
        // the re-request server it bound (none: market data off, or a standby not publishing;
        // and only when the feed is delivered on this host too, `market_data.loopback`).
        let feed = configuration.marketData.enabled && configuration.marketData.loopback && retransmitPort != 0
            ? WebViewFeedSource(group: configuration.exchange.udpMulticastGroup.rawValue, port: configuration.exchange.udpPort,
                                interface: configuration.marketData.interface.rawValue,
                                retransmitHost: configuration.exchange.bindAddress.rawValue, retransmitPort: UInt16(retransmitPort),
                                instrumentCount: configuration.symbols.count, orderCapacity: configuration.performance.orderPoolSize,
                                historyMessages: configuration.marketData.retransmitHistoryMessages)
            : nil
        let state = AdminState(cells: counters.cells, snapshots: snapshots, instruments: configuration.symbols, settings: configuration.admin,
                               actions: actions, tapeFeed: feed, emergency: emergency)
        let host = configuration.exchange.bindAddress.description
        note(adminCPUs.note)
        try stopIfRequested()
        adminTLS = try Self.gatewayTLS(configuration.admin.tls, environment: environment, note: note, service: "admin.tls",
                                       clientCertificates: false)
        admin = try AdminServer.start(host: host, port: Int(configuration.exchange.metricsPort), state: state, cpus: adminCPUs.cpus,
                                      tls: adminTLS)
        note("admin: \(adminTLS == nil ? "http" : "https")://\(host):\(admin!.port)/metrics /health /ready /live /debug/orderbook/SYMBOL"
            + (actions.map { ", POST /trading/halt /trading/resume /admin/kill /admin/reinstate /admin/cancel-all /admin/snapshot "
                + "/admin/day/start /admin/day/end for \($0.operators.count) operator(s)" } ?? ""))
        try stopIfRequested()
        do {
            try counters.publish()
        } catch {
            throw ApplianceError("cannot put the counters file in place: \(error)")
        }
        note("counters: \(counters.path ?? "") (instance lock \(instanceLock?.path ?? ""), PID \(getpid()))")
        counters.state = .running
    }

    /// The CPUs the admin plane's threads may use: those the process may run on, less the
    /// ones agents are pinned to (empty: leave the threads as they are), and a log line.
    static func adminCPUs(pinned: Set<Int>) -> (cpus: [Int], note: String) {
        guard !pinned.isEmpty else { return ([], "admin: threads unpinned (no agent is pinned)") }
        guard let allowed = try? CPUAffinity.allowedCPUs() else {
            return ([], "admin: could not read the allowed CPUs; admin threads unpinned")
        }
        let free = allowed.filter { !pinned.contains($0) }
        guard !free.isEmpty else {
            return ([], "admin: every allowed CPU (\(allowed)) runs a pinned agent; the admin threads share them")
        }
        return (free, "admin: threads on CPUs \(free), away from the agents' \(pinned.sorted())")
    }

    /// Raises the soft RLIMIT_NOFILE so that `connections` client sockets fit beside the
    /// process's own descriptors (up to the hard limit); says what it found and did.
    static func raiseDescriptorLimit(toServe connections: Int) -> String {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return "descriptors: getrlimit failed" }
        let wanted = rlim_t(connections + 256)
        guard limit.rlim_cur < wanted else { return "descriptors: limit \(limit.rlim_cur), enough for \(connections) connections" }
        let before = limit.rlim_cur
        limit.rlim_cur = min(wanted, limit.rlim_max)
        let raised = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0
        let now = raised ? limit.rlim_cur : before
        let enough = now >= wanted ? "enough" : "NOT enough (raise LimitNOFILE / ulimit -n)"
        return "descriptors: limit \(before) → \(now), \(enough) for \(connections) connections"
    }

    /// Asks the snapshot agent for a day snapshot (SIGUSR1); false when there is none (no journal).
    @discardableResult
    public func requestSnapshot() -> Bool {
        guard let snapshotAgent else { return false }
        snapshotAgent.request()
        return true
    }

    /// Stops taking work, lets every agent drain in pipeline order, stops the admin plane,
    /// and returns the final counters.
    public func drain() -> CountersSnapshot {
        // A standby's seat stops first: it must not win while this one goes away.
        if replicationStandby != nil { leadership?.stop() }
        snapshotAgent?.stop()
        // The standby's producer first, so that its journal agent drains everything it was given.
        replicationStandby?.stop()
        counters.state = .draining
        replicationPrimary?.beginDrain()
        runner.drain()
        // After the agents: in sync their last output waits for the standby's acknowledgements.
        replicationPrimary?.stop()
        // A primary resigns once its last answers are out (the key goes at once: a standby
        // need not wait for the lease to expire).
        leadership?.stop()
        counters.state = .stopped
        admin?.stop()
        admin = nil
        return counters.snapshot()
    }
}

/// Something the configuration asks for that cannot be had, in words an operator can act on.
public struct ApplianceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Keeps a region alive for the appliance's lifetime.
private final class RegionHolder {
    let region: MemoryRegion
    init(_ region: consuming MemoryRegion) { self.region = region }
}
