import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

/// The emergency triggers (docs/OPERATIONS.md, "Emergency triggers"): each condition injected
/// (synthetic readings and counter snapshots; time is a parameter), its hold time respected,
/// one firing per episode, re-armed once it clears, and its action queued for the engine with
/// who `emergency:<condition>` and why; then on a real in-process exchange, a trigger's kill
/// switch refuses the next order, and the manual emergency shutdown by role.
@Suite struct EmergencyTriggerTests {
    static func settings(hold: Int = 5, _ change: (inout EmergencySettings) -> Void) -> EmergencySettings {
        var s = EmergencySettings()
        s.holdSeconds = hold
        change(&s)
        return s
    }

    @Test func everyConditionIsOffByDefault() {
        var triggers = EmergencyTriggers(EmergencySettings())
        #expect(triggers.armed.isEmpty)
        let huge = EmergencyTriggers.Readings(memoryMB: 1e9, rejectRatio: 1, errorsPerSecond: 1e9, journalLagRecords: 1e9,
                                              replicationLagRecords: 1e9)
        #expect(triggers.evaluate(huge, now: 0).isEmpty && triggers.evaluate(huge, now: 100).isEmpty)
    }

    @Test func theHoldTimeIsRespectedItFiresOnceAndReArmsWhenItClears() throws {
        var triggers = EmergencyTriggers(Self.settings { $0.memoryMB = 100; $0.memoryAction = .stopNewOrders })
        let high = EmergencyTriggers.Readings(memoryMB: 150), low = EmergencyTriggers.Readings(memoryMB: 99)
        #expect(triggers.evaluate(high, now: 10).isEmpty)
        #expect(triggers.state(.memory) == .pending(since: 10))
        #expect(triggers.evaluate(high, now: 14.9).isEmpty)
        let fired = triggers.evaluate(high, now: 15)
        #expect(fired.count == 1)
        let firing = try #require(fired.first)
        #expect(firing.condition == .memory && firing.action == .stopNewOrders && firing.value == 150 && firing.threshold == 100)
        #expect(firing.heldSeconds == 5 && firing.at == 15)
        #expect(firing.reason == "memory 150 MiB >= 100 MiB for 5 s: stop_new_orders")
        #expect(triggers.isActive(.memory))
        // Once per episode, however long it lasts.
        for t in 16..<60 { #expect(triggers.evaluate(high, now: Double(t)).isEmpty) }
        #expect(triggers.firedTotal[.memory] == 1)
        // Clears, re-arms, and a new episode again waits for the hold.
        #expect(triggers.evaluate(low, now: 60).isEmpty && triggers.state(.memory) == .clear && !triggers.isActive(.memory))
        #expect(triggers.evaluate(high, now: 61).isEmpty)
        // A dip within the hold starts it over.
        #expect(triggers.evaluate(low, now: 63).isEmpty)
        #expect(triggers.evaluate(high, now: 64).isEmpty && triggers.evaluate(high, now: 68.5).isEmpty)
        #expect(triggers.evaluate(high, now: 69).count == 1)
        #expect(triggers.firedTotal[.memory] == 2)
        // No reading (nothing measured) clears it too.
        #expect(triggers.evaluate(EmergencyTriggers.Readings(), now: 70).isEmpty && triggers.state(.memory) == .clear)
    }

    @Test(arguments: EmergencyTriggers.Condition.allCases)
    func eachConditionFiresAtItsThresholdWithItsAction(condition: EmergencyTriggers.Condition) throws {
        let settings = Self.settings(hold: 2) { s in
            switch condition {
            case .memory: s.memoryMB = 10; s.memoryAction = .shutdown
            case .rejectRatio: s.rejectRatioTenThousandths = 5_000; s.rejectRatioAction = .cancelAllAndHalt
            case .errorRate: s.errorRatePerSecond = 10; s.errorRateAction = .stopNewOrders
            case .journalLag: s.journalLagRecords = 10; s.journalLagAction = .alert
            case .replicationLag: s.replicationLagRecords = 10; s.replicationLagAction = .stopNewOrders
            }
        }
        var triggers = EmergencyTriggers(settings)
        #expect(Set(triggers.armed.keys) == [condition])
        let threshold = condition == .rejectRatio ? 0.5 : 10
        func reading(_ v: Double) -> EmergencyTriggers.Readings {
            var r = EmergencyTriggers.Readings()
            switch condition {
            case .memory: r.memoryMB = v
            case .rejectRatio: r.rejectRatio = v
            case .errorRate: r.errorsPerSecond = v
            case .journalLag: r.journalLagRecords = v
            case .replicationLag: r.replicationLagRecords = v
            }
            return r
        }
        #expect(triggers.evaluate(reading(threshold * 0.99), now: 0).isEmpty && triggers.state(condition) == .clear)
        #expect(triggers.evaluate(reading(threshold), now: 1).isEmpty)
        let firing = try #require(triggers.evaluate(reading(threshold), now: 3).first)
        #expect(firing.condition == condition && firing.threshold == threshold && firing.heldSeconds == 2)
        #expect(firing.action == triggers.armed[condition]?.action)
        #expect(OperatorNote.isValidReason(firing.reason), "\(firing.reason)")
    }

    @Test func aZeroHoldFiresOnTheFirstTurn() {
        var triggers = EmergencyTriggers(Self.settings(hold: 0) { $0.journalLagRecords = 5 })
        #expect(triggers.evaluate(EmergencyTriggers.Readings(journalLagRecords: 5), now: 0).count == 1)
    }

    // MARK: Readings from counter snapshots

    /// Counters with the blocks the readings come from, as the agents publish them.
    final class Counters {
        let region = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let engine: CounterBlock
        let gateway: CounterBlock
        let journal: CounterBlock
        let replication: CounterBlock

        init() throws {
            engine = try region.register(EngineCounters.block)
            gateway = try region.register(GatewayCounters.block)
            journal = try region.register(JournalCounters.block)
            replication = try region.register(ReplicationCounters.block)
            replication.store(ReplicationCounters.role, ReplicationCounters.primaryRole)
            region.state = .running
        }
    }

    /// A queue the monitor's actions go into, and the monitor.
    static func monitor(_ settings: EmergencySettings, shutdown: (@Sendable (String) -> Void)? = nil)
        -> (EmergencyMonitor, OperatorActionQueue) {
        let queue = OperatorActionQueue(capacity: 64)
        let actions = AdminActions(operators: [], queue: queue)
        let logger = Logger(label: "emergency-test", factory: { _ in SwiftLogNoOpLogHandler() })
        return (EmergencyMonitor(settings: settings, actions: actions, shutdown: shutdown, logger: logger), queue)
    }

    /// The notes (who and why) and the commands queued, in order.
    static func drained(_ queue: OperatorActionQueue) -> (notes: [OperatorNote.Assembler.Whole], commands: [EngineCommand]) {
        var assembler = OperatorNote.Assembler()
        var notes: [OperatorNote.Assembler.Whole] = []
        var commands: [EngineCommand] = []
        while let action = queue.take() {
            if case .operatorNote(let note) = action.command {
                if let whole = assembler.add(note) { notes.append(whole) }
            } else {
                commands.append(action.command)
            }
        }
        return (notes, commands)
    }

    @Test func theRejectRatioIsTakenOverTheLastSecondAndStopsNewOrders() throws {
        let counters = try Counters()
        let (monitor, queue) = Self.monitor(Self.settings(hold: 2) { $0.rejectRatioTenThousandths = 5_000; $0.rejectRatioAction = .stopNewOrders })
        #expect(monitor.turn(counters.region.snapshot(), now: 0).isEmpty)
        // 100 orders, 10 rejected: 0.1.
        counters.engine.store(EngineCounters.ordersReceived, 100)
        counters.engine.store(EngineCounters.rejects, 10)
        #expect(monitor.turn(counters.region.snapshot(), now: 1).isEmpty)
        #expect(monitor.triggers.state(.rejectRatio) == .clear)
        // The next second: 100 more, 80 of them rejected (the gateway's busy answers count too).
        counters.engine.store(EngineCounters.ordersReceived, 190)
        counters.engine.store(EngineCounters.rejects, 80)
        counters.gateway.store(GatewayCounters.backpressureRejects, 10)
        #expect(monitor.turn(counters.region.snapshot(), now: 2).isEmpty)
        #expect(monitor.triggers.state(.rejectRatio) == .pending(since: 2))
        counters.engine.store(EngineCounters.ordersReceived, 290)
        counters.engine.store(EngineCounters.rejects, 160)
        #expect(monitor.turn(counters.region.snapshot(), now: 3).isEmpty)
        counters.engine.store(EngineCounters.ordersReceived, 390)
        counters.engine.store(EngineCounters.rejects, 240)
        let fired = monitor.turn(counters.region.snapshot(), now: 4)
        #expect(fired.map(\.condition) == [.rejectRatio] && fired.first?.value == 0.8, "\(fired)")
        #expect(queue.depth > 0)
        let (notes, commands) = Self.drained(queue)
        #expect(notes.map(\.who) == ["emergency:reject_ratio"])
        #expect(notes.first?.action == .killExchange && notes.first?.reason == "reject_ratio 0.8 >= 0.5 for 2 s: stop_new_orders", "\(notes)")
        #expect(commands.count == 1)
        if case .killExchange? = commands.first {} else { Issue.record("not the kill switch: \(commands)") }
        // Once: nothing more while it lasts; the metrics and /health say so.
        counters.engine.store(EngineCounters.ordersReceived, 490)
        counters.engine.store(EngineCounters.rejects, 340)
        #expect(monitor.turn(counters.region.snapshot(), now: 5).isEmpty && queue.depth == 0)
        var out = PrometheusText()
        monitor.metrics(&out)
        #expect(out.text.contains(#"rtes_emergency_trigger_fired_total{condition="reject_ratio"} 1"#), "\(out.text)")
        #expect(out.text.contains(#"rtes_emergency_trigger_active{condition="reject_ratio"} 1"#))
        #expect(out.text.contains(#"rtes_emergency_trigger_active{condition="memory"} 0"#))
        let check = try #require(monitor.healthCheck())
        #expect(check.status == .degraded && check.detail.contains("reject_ratio 0.8 >= 0.5"), "\(check.detail)")
        // No orders for a second: the ratio is 0, it clears and re-arms.
        #expect(monitor.turn(counters.region.snapshot(), now: 6.5).isEmpty)
        #expect(monitor.triggers.state(.rejectRatio) == .clear && monitor.healthCheck()?.status == .healthy)
    }

    @Test func errorsAndLagsAreReadFromTheirCountersAndCancelAllAndHaltHaltsTheMarket() throws {
        let counters = try Counters()
        let (monitor, queue) = Self.monitor(Self.settings(hold: 1) { s in
            s.errorRatePerSecond = 5; s.errorRateAction = .alert
            s.journalLagRecords = 1_000; s.journalLagAction = .cancelAllAndHalt
            s.replicationLagRecords = 500; s.replicationLagAction = .alert
        })
        #expect(monitor.turn(counters.region.snapshot(), now: 0).isEmpty)
        counters.gateway.store(GatewayCounters.protocolErrors, 3)
        counters.journal.store(JournalCounters.errorsIO, 3)
        counters.journal.store(JournalCounters.lag, 1_500)
        counters.replication.store(ReplicationCounters.lagRecords, 499)
        #expect(monitor.turn(counters.region.snapshot(), now: 1).isEmpty)
        counters.gateway.store(GatewayCounters.protocolErrors, 6)
        counters.journal.store(JournalCounters.errorsIO, 6)
        let fired = monitor.turn(counters.region.snapshot(), now: 2)
        #expect(Set(fired.map(\.condition)) == [.errorRate, .journalLag], "\(fired)")
        #expect(fired.first { $0.condition == .errorRate }?.value == 6)
        // The alert queues nothing; the journal lag's action: the kill switch, then the market-wide halt.
        let (notes, commands) = Self.drained(queue)
        #expect(notes.map(\.who) == ["emergency:journal_lag", "emergency:journal_lag"])
        #expect(notes.map(\.action) == [.killExchange, .halt])
        #expect(commands.count == 2)
        if case .killExchange? = commands.first {} else { Issue.record("not the kill switch first: \(commands)") }
        if case .tradingPhase(let p)? = commands.last { #expect(p.isMarketWide && p.action == .halt) } else { Issue.record("no halt: \(commands)") }
        // A standby's replication block is not a primary's lag.
        counters.replication.store(ReplicationCounters.lagRecords, 10_000)
        counters.replication.store(ReplicationCounters.role, ReplicationCounters.standbyRole)
        _ = monitor.turn(counters.region.snapshot(), now: 3)
        _ = monitor.turn(counters.region.snapshot(), now: 5)
        #expect(monitor.triggers.state(.replicationLag) == .clear)
    }

    @Test func theShutdownActionStopsHaltsAndAsksForTheDrainOnce() throws {
        let counters = try Counters()
        let asked = Recorded()
        let (monitor, queue) = Self.monitor(Self.settings(hold: 0) { $0.memoryMB = 64; $0.memoryAction = .shutdown },
                                            shutdown: { reason in asked.append(reason) })
        #expect(monitor.turn(counters.region.snapshot(), memoryMB: 10, now: 0).isEmpty)
        #expect(monitor.turn(counters.region.snapshot(), memoryMB: 65, now: 1).count == 1)
        #expect(asked.all == ["emergency trigger memory 65 MiB >= 64 MiB for 0 s: shutdown"])
        #expect(Self.drained(queue).notes.map(\.action) == [.killExchange, .halt])
        // Another episode does not ask again.
        _ = monitor.turn(counters.region.snapshot(), memoryMB: 10, now: 2)
        _ = monitor.turn(counters.region.snapshot(), memoryMB: 70, now: 3)
        #expect(asked.all.count == 1 && monitor.shutdownRequested)
        #expect(monitor.healthCheck()?.detail.hasPrefix("emergency shutdown: draining") == true)
    }

    @Test func theResidentMemoryIsRead() throws {
        let mb = try #require(EmergencyMonitor.residentMegabytes())
        #expect(mb > 1 && mb < 1_000_000)
    }
}

/// The triggers and the manual emergency shutdown on a real in-process exchange.
@Suite(.serialized) struct EmergencyExchangeTests {
    static let passwords = ["ops1": "opspass1", "boss": "bosspass1"]

    static var keys: APIKeys {
        var keys = devKeys
        keys.operators = [APIKeys.Operator(username: "ops1", credential: .plain(Secret("opspass1")), role: .operator),
                          APIKeys.Operator(username: "boss", credential: .plain(Secret("bosspass1")), role: .admin)]
        return keys
    }

    static func next(_ client: OrderEntryClient) throws -> OUCHMessage {
        while true {
            let answer = try client.nextMessage(timeout: .seconds(10))
            if case .systemEvent = answer.message { continue }
            return answer.message
        }
    }

    /// A memory threshold any process exceeds: the trigger fires after its hold (the turns'
    /// times are the test's), the kill switch cancels the resting order and refuses the next.
    @Test func aLowMemoryThresholdStopsNewOrders() throws {
        var knobs = ExchangeKnobs()
        knobs.emergency = #""hold_seconds": 5, "memory_mb": 1, "memory_action": "stop_new_orders""#
        let exchange = try TestExchange(knobs, keys: Self.keys)
        defer { exchange.drain() }
        let monitor = try #require(exchange.appliance.emergency)
        let aapl = Symbol("AAPL")!
        let trader = try exchange.client("DEMO1")
        defer { trader.close() }
        try trader.enter(token: OrderToken("REST1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("REST1 not accepted"); return }

        #expect(monitor.turn(exchange.snapshot(), now: 100).isEmpty)
        #expect(monitor.turn(exchange.snapshot(), now: 104).isEmpty)
        let fired = monitor.turn(exchange.snapshot(), now: 105)
        #expect(fired.map(\.condition) == [.memory] && fired.first?.action == .stopNewOrders)
        guard case .canceled(_, let token, _, _) = try Self.next(trader) else { Issue.record("REST1 not cancelled by the trigger"); return }
        #expect(token == OrderToken("REST1")!)
        try trader.enter(token: OrderToken("AFTER1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .rejected = try Self.next(trader) else { Issue.record("an order passed the trigger's kill switch"); return }

        // /metrics and /health say so.
        let port = exchange.appliance.admin!.port
        let metrics = try #require(httpGet("http://127.0.0.1:\(port)/metrics"))
        #expect(metrics.body.contains(#"rtes_emergency_trigger_fired_total{condition="memory"} 1"#))
        #expect(metrics.body.contains(#"rtes_emergency_trigger_active{condition="memory"} 1"#))
        let health = try #require(httpGet("http://127.0.0.1:\(port)/health"))
        #expect(health.body.contains(#""emergency":{"status":"degraded","detail":"fired: memory "#), "\(health.body)")
        trader.close()
    }

    @Test func theManualEmergencyShutdownTakesAnAdminCancelsHaltsAndDrains() throws {
        let asked = Recorded()
        var knobs = ExchangeKnobs()
        knobs.emergencyShutdown = { reason in asked.append(reason) }
        let exchange = try TestExchange(knobs, keys: Self.keys)
        defer { exchange.drain() }
        let port = exchange.appliance.admin!.port
        let aapl = Symbol("AAPL")!
        let trader = try exchange.client("DEMO1")
        defer { trader.close() }
        try trader.enter(token: OrderToken("REST1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("REST1 not accepted"); return }
        func post(_ target: String, as user: String?, password: String? = nil) -> (status: Int, body: String, head: String)? {
            adminRequest("POST", port: port, target, user: user, password: password ?? user.flatMap { Self.passwords[$0] } ?? "")
        }
        let target = "/emergency/shutdown?reason=disk%20failing"
        // Refused: no credentials, wrong ones, the operator role, no reason, GET.
        #expect(post(target, as: nil)?.status == 401)
        #expect(post(target, as: "boss", password: "wrong")?.status == 401)
        #expect(post(target, as: "ops1")?.status == 403)
        #expect(post("/emergency/shutdown", as: "boss")?.status == 400)
        #expect(post("/emergency/reboot?reason=x", as: "boss")?.status == 404)
        #expect(adminRequest("GET", port: port, target)?.status == 405)
        #expect(asked.all.isEmpty && exchange.appliance.operatorActions.depth == 0)

        let taken = try #require(post(target, as: "boss"))
        #expect(taken.status == 202, "\(taken)")
        #expect(taken.body.contains(#""commands":["kill_exchange","trading_phase halt *"]"#) && taken.body.contains(#""draining":true"#), "\(taken.body)")
        #expect(asked.all == ["by boss: disk failing"])
        // The resting order cancelled, the whole market halted, new orders refused.
        guard case .canceled(_, let token, _, _) = try Self.next(trader) else { Issue.record("REST1 not cancelled"); return }
        #expect(token == OrderToken("REST1")!)
        #expect(waitUntil(timeout: .seconds(10)) { exchange.appliance.operatorActions.depth == 0 })
        #expect(waitUntil(timeout: .seconds(10)) {
            httpGet("http://127.0.0.1:\(port)/debug/orderbook/MSFT")?.body.contains(#""phase":"halted""#) == true
        }, "\(String(describing: httpGet("http://127.0.0.1:\(port)/debug/orderbook/MSFT")))")
        try trader.enter(token: OrderToken("AFTER1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .rejected = try Self.next(trader) else { Issue.record("an order passed the emergency shutdown's kill switch"); return }
        let refusals = try #require(httpGet("http://127.0.0.1:\(port)/metrics")).body
        #expect(refusals.contains(#"rtes_admin_action_refusals_total{reason="forbidden"} 1"#), "\(refusals)")
        trader.close()
    }
}

/// What a test's emergency shutdown was asked, in order.
final class Recorded: @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String] = []
    func append(_ reason: String) { lock.withLock { reasons.append(reason) } }
    var all: [String] { lock.withLock { reasons } }
}

/// The real process: a trigger whose action is shutdown drains it as SIGTERM does (the
/// conditions set through the environment overrides), and `rtes-admin emergency-shutdown`.
@Suite(.serialized) struct EmergencyProcessTests {
    @Test(.enabled(if: ExchangeProcess.built, "trading_exchange is not built: run `swift build --build-tests`"))
    func aShutdownTriggerDrainsTheProcessAsSigtermDoes() throws {
        let port = freePort()
        let config = try ExchangeProcess.writeConfig(testConfiguration(metricsPort: port, name: "TEST-EMERGENCY-\(getpid())"))
        let counters = NSTemporaryDirectory() + "rtes-emergency-\(getpid()).counters"
        defer { unlink(config); unlink(counters); unlink(counters + ".lock") }
        let (process, out, err) = try ExchangeProcess.start(
            [config, "--counters", counters],
            environment: ["RTES_EMERGENCY_MEMORY_MB": "1", "RTES_EMERGENCY_MEMORY_ACTION": "shutdown", "RTES_EMERGENCY_HOLD_SECONDS": "0"])
        // The supervisor's first turns (one a second) fire it; bounded: 30 s, then stopped by the test.
        let exited = waitUntil(timeout: .seconds(30)) { !process.isRunning }
        if !exited { process.terminate() }
        let run = ExchangeProcess.finish(process, out, err)
        #expect(exited, "the process did not stop itself; stderr: \(run.errors)")
        #expect(run.status == 0, "stderr: \(run.errors)")
        #expect(run.errors.contains("emergency trigger memory fired: memory "), "\(run.errors)")
        #expect(run.errors.contains("emergency:memory (admin) took kill_exchange"), "\(run.errors)")
        #expect(run.errors.contains("SIGTERM: draining"))
        #expect(run.output.contains("final counters"))
    }

    @Test(.enabled(if: ExchangeProcess.built, "trading_exchange is not built: run `swift build --build-tests`"))
    func rtesAdminTakesTheEmergencyShutdownAsAnAdminOnly() throws {
        guard FileManager.default.isExecutableFile(atPath: AdminCLITests.tool.path) else {
            Issue.record("rtes-admin is not built at \(AdminCLITests.tool.path)")
            return
        }
        let asked = Recorded()
        var knobs = ExchangeKnobs()
        knobs.emergencyShutdown = { reason in asked.append(reason) }
        let exchange = try TestExchange(knobs, keys: AdminAPITests.keys)
        defer { exchange.drain() }
        let url = "http://127.0.0.1:\(exchange.appliance.admin!.port)"
        func admin(_ arguments: [String], _ password: String) throws -> AdminCLITests.Run {
            try AdminCLITests.run(AdminCLITests.tool.path, ["emergency-shutdown"] + arguments + ["--url", url],
                                  environment: ["RTES_ADMIN_PASSWORD": password])
        }
        let forbidden = try admin(["--user", "ops1", "--reason", "drill"], "opspass1")
        #expect(forbidden.status == 1 && forbidden.errors.contains("HTTP 403"), "\(forbidden)")
        #expect(try admin(["--user", "boss", "--reason", String(repeating: "x", count: 141)], "bosspass1").status == 64)
        #expect(asked.all.isEmpty)
        let taken = try admin(["--user", "boss", "--reason", "disk failing"], "bosspass1")
        #expect(taken.status == 0 && taken.output.contains(#""action":"emergency_shutdown""#) && taken.output.contains(#""draining":true"#),
                "\(taken)")
        #expect(asked.all == ["by boss: disk failing"])
    }
}
