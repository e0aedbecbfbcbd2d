import CExchangeShim
import ExchangeConfig
import ExchangeCore
import ExchangeRisk
import ExchangeRuntime
import Logging

/// The exchange process's insides, assembled from configuration: memory regions placed
/// and locked, rings between agents, the agents on their threads, the counters region and
/// the admin plane. `trading_exchange` runs one; tests run one in-process.
///
/// ```
///  [order source] --commands--> [engine agent] --order events--> [gateway / drain]
///                                      \-------book events-----> [market data / drain]
///  admin plane --snapshot requests--> engine agent (between batches)
/// ```
public final class Appliance: @unchecked Sendable {
    public let counters: CountersRegion
    public let runner: AgentRunner
    public private(set) var admin: AdminServer?
    /// What the process obtained, one line each (regions, threads, memory locking).
    public private(set) var report: [String] = []
    private var regions: [RegionHolder] = []
    private let logger: Logger

    public struct Options: Sendable {
        /// Where the counters file goes (a path under /dev/shm or a runtime directory).
        public var countersPath: String
        /// Feed a recorded demo order stream at this many commands per second (0: none).
        public var demoFlowRate: Int = 0
        public var demoFlowSeed: UInt64 = 1
        /// Commands in the demo stream (default: five minutes' worth, at most 2,000,000).
        public var demoFlowCommands: Int?
        /// The admin plane's address; nil uses the configuration's.
        public var adminHost: String?
        public var adminPort: Int?

        public init(countersPath: String, demoFlowRate: Int = 0, demoFlowSeed: UInt64 = 1, demoFlowCommands: Int? = nil,
                    adminHost: String? = nil, adminPort: Int? = nil) {
            self.countersPath = countersPath
            self.demoFlowRate = demoFlowRate
            self.demoFlowSeed = demoFlowSeed
            self.demoFlowCommands = demoFlowCommands
            self.adminHost = adminHost
            self.adminPort = adminPort
        }
    }

    /// Builds and starts everything. Throws with a message naming what could not be obtained.
    public static func start(_ configuration: ExchangeConfiguration, options: Options, logger: Logger) throws -> Appliance {
        let ticksPerSecond = max(1, rtes_tsc_ticks_per_second(100_000_000))
        let counters = try CountersRegion.create(path: options.countersPath, name: configuration.exchange.name, ticksPerSecond: ticksPerSecond)
        let appliance = Appliance(counters: counters, logger: logger)
        try appliance.assemble(configuration, options: options, ticksPerSecond: ticksPerSecond)
        return appliance
    }

    private init(counters: consuming CountersRegion, logger: Logger) {
        self.counters = counters
        runner = AgentRunner(counters: self.counters.cells)
        self.logger = logger
    }

    private func note(_ line: String) {
        report.append(line)
        logger.info("\(line)")
    }

    private func assemble(_ configuration: ExchangeConfiguration, options: Options, ticksPerSecond: UInt64) throws {
        let performance = configuration.performance
        let pinning = performance.enableCPUPinning
        for line in HostFeatures.probe().report { note(line) }
        if performance.lockMemory {
            do {
                try ProcessMemory.lockAll()
                note("memory: mlockall(current|future) ok")
            } catch {
                note("memory: mlockall failed (\(error)); regions are still locked one by one where allowed")
            }
        }
        let policy: HugePagePolicy = switch performance.hugePages {
        case .auto: .auto
        case .require: .require
        case .off: .off
        }
        func node(of agent: CoreAssignment.Agent) -> Int? { pinning ? try? NUMATopology.node(ofCPU: performance.cores[agent]) : nil }
        func region(_ name: String, bytes: Int, owner: CoreAssignment.Agent?) throws -> UnsafeMutableRawPointer {
            let r = try MemoryRegion.allocate(name: name, bytes: bytes, policy: policy, node: owner.flatMap(node(of:)),
                                              lock: performance.lockMemory)
            note("region \(r.report)")
            let base = r.base
            regions.append(RegionHolder(r))
            return base
        }

        // The engine and its rings.
        let engineConfiguration = configuration.engineConfiguration()
        let engineMemory = try region("engine", bytes: MatchingEngine.requiredBytes(for: engineConfiguration), owner: .engine)
        let capacity = performance.queueCapacity
        var commandRing = SPSCRing<CommandEnvelope>(
            capacity: capacity, memory: try ringMemory("commands", SPSCRing<CommandEnvelope>.requiredBytes(capacity: capacity), owner: .engine))
        var orderRing = SPSCRing<EngineEvent>(
            capacity: capacity, memory: try ringMemory("order_events", SPSCRing<EngineEvent>.requiredBytes(capacity: capacity), owner: .gateway))
        var bookRing = SPSCRing<EngineEvent>(
            capacity: capacity, memory: try ringMemory("book_events", SPSCRing<EngineEvent>.requiredBytes(capacity: capacity), owner: .marketData))
        func ringMemory(_ name: String, _ bytes: Int, owner: CoreAssignment.Agent) throws -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: try region("ring_\(name)", bytes: bytes, owner: owner), count: bytes)
        }
        counters.registerRing(.commands, capacity: capacity)
        counters.registerRing(.orderEvents, capacity: capacity)
        counters.registerRing(.bookEvents, capacity: capacity)

        let snapshotLevels = 1_000
        let snapshotMemory = try region("orderbook_snapshots", bytes: OrderBookSnapshots.requiredBytes(maxLevels: snapshotLevels), owner: nil)
        let engine = RiskCheckedEngine(
            engine: MatchingEngine(configuration: engineConfiguration, region: engineMemory), limits: configuration.riskLimits)
        let engineAgent = EngineAgent(
            engine: engine, commands: commandRing.makeConsumer(), orderEvents: orderRing.makeProducer(),
            bookEvents: bookRing.makeProducer(), snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: snapshotLevels),
            cells: counters.cells)
        let drainAgent = EventDrainAgent(orderEvents: orderRing.makeConsumer(), bookEvents: bookRing.makeConsumer(), cells: counters.cells)
        var stream: [EngineCommand] = []
        if options.demoFlowRate > 0 {
            let count = options.demoFlowCommands ?? min(2_000_000, max(10_000, options.demoFlowRate * 300))
            stream = DemoFlowAgent.recordedStream(configuration: engineConfiguration, limits: configuration.riskLimits,
                                                  count: count, seed: options.demoFlowSeed)
            note("demo flow: \(count) recorded commands at \(options.demoFlowRate)/s (seed \(options.demoFlowSeed))")
        }
        let demoAgent = DemoFlowAgent(commands: stream, producer: commandRing.makeProducer(), rate: options.demoFlowRate,
                                      ticksPerSecond: ticksPerSecond, cells: counters.cells)

        // Threads: one counters slot per thread.
        let idle = IdleStrategy(IdleStrategyKind(rawValue: performance.idleStrategy.rawValue) ?? .backoff)
        func placement(_ agent: CoreAssignment.Agent) -> AgentRunner.Placement {
            AgentRunner.Placement(
                cpus: pinning ? [performance.cores[agent]] : [], idle: idle,
                fifoPriority: performance.realtimePriority > 0 ? Int32(performance.realtimePriority) : nil)
        }
        switch performance.threadingMode {
        case .shared:
            counters.registerAgent(.engine, name: "shared")
            let all = AgentPair(demoAgent, AgentPair(engineAgent, drainAgent))
            note(try runner.start(all, name: "rtes-agents", slot: .engine, stage: 0, placement: placement(.engine)).description
                + " (shared: demo flow, engine, event drain)")
        case .dedicated:
            counters.registerAgent(.engine, name: "engine")
            counters.registerAgent(.auxiliary, name: "event_drain")
            if options.demoFlowRate > 0 {
                counters.registerAgent(.gateway, name: "demo_flow")
                note(try runner.start(demoAgent, name: "rtes-demo", slot: .gateway, stage: 0, placement: placement(.gateway)).description)
            }
            note(try runner.start(engineAgent, name: "rtes-engine", slot: .engine, stage: 1, placement: placement(.engine)).description)
            note(try runner.start(drainAgent, name: "rtes-drain", slot: .auxiliary, stage: 2, placement: placement(.marketData)).description)
        }

        // The admin plane, on its own unpinned thread.
        let state = AdminState(cells: counters.cells, snapshots: OrderBookSnapshotClient(base: snapshotMemory, maxLevels: snapshotLevels),
                               instruments: engineConfiguration.instruments)
        let host = options.adminHost ?? configuration.exchange.bindAddress.description
        admin = try AdminServer.start(host: host, port: options.adminPort ?? Int(configuration.exchange.metricsPort), state: state)
        note("admin: http://\(host):\(admin!.port)/metrics /health /ready /live /debug/orderbook/SYMBOL")
        counters.state = .running
    }

    /// Stops taking work, lets every agent drain in pipeline order, stops the admin plane,
    /// and returns the final counters.
    public func drain() -> CountersSnapshot {
        counters.state = .draining
        runner.drain()
        counters.state = .stopped
        admin?.stop()
        admin = nil
        return counters.snapshot()
    }
}

/// Keeps a region alive for the appliance's lifetime.
private final class RegionHolder {
    let region: MemoryRegion
    init(_ region: consuming MemoryRegion) { self.region = region }
}
