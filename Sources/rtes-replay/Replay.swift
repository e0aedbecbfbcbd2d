import ArgumentParser
import ExchangeConfig
import ExchangeCore
import ExchangeRisk
import ExchangeTools
import ExchangeWire
import Foundation
import OrderFlow

/// Replays a seeded, generated order stream through the matching engine and prints what
/// happened. Until the order gateway exists this is what `make run` shows.
@main
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-replay",
        abstract: "Replay a generated order stream through the RTES matching engine and summarise it.",
        discussion: """
            The stream is generated in closed loop (the generator sees the engine's events, so it
            cancels and replaces orders that exist), then replayed through a fresh engine and timed.
            The same configuration, flow and seed always produce the same events; the summary checks it.

            Configuration overrides (RTES_*) apply as for the exchange itself.
            """,
        version: RTESVersion.current)

    @Argument(help: "The exchange configuration (JSON).")
    var config: String = "configs/config.dev.json"

    @Option(help: "How many commands to generate and replay.")
    var orders: Int = 1_000_000

    @Option(help: "Seed of the generated stream.")
    var seed: UInt64 = 1

    @Option(help: "Order flow: realistic, randomized (every rule, often), exchange-core, multi-symbol.")
    var flow: Flow = .realistic

    @Option(help: ArgumentHelp("Also write the generated stream as a journal directory (created; it must not exist), for `rtes-journal replay`.",
                               valueName: "dir"))
    var journal: String?

    enum Flow: String, ExpressibleByArgument, CaseIterable {
        case realistic, randomized
        case exchangeCore = "exchange-core"
        case multiSymbol = "multi-symbol"
    }

    func validate() throws {
        guard orders > 0 && orders <= 100_000_000 else { throw ValidationError("--orders must be between 1 and 100000000, got \(orders)") }
    }

    func run() throws {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        } catch {
            FileHandle.standardError.write(Data("rtes-replay: \(config) is not a usable configuration:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let engineConfiguration = loaded.configuration.engineConfiguration()
        let limits = loaded.configuration.riskLimits
        let profile = makeProfile(engineConfiguration, limits)

        print("RTES replay — \(loaded.configuration.exchange.name), \(engineConfiguration.instruments.count) symbols, flow \(flow.rawValue), seed \(seed)")
        let generationStart = ContinuousClock.now
        var recorder = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
        var recordedDigest = EventDigest()
        let commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: orders) { command in
            let events = recorder.runCollecting(command)
            recordedDigest.add(events)
            return events
        }
        print("generated \(orders.formatted()) commands in \(seconds(since: generationStart)) s")
        if let journal {
            switch GeneratedJournal.write(commands, directory: journal, day: "generated") {
            case .success(let written):
                print("wrote \(journal): \(written.segments) segments, \(written.bytes.formatted()) bytes")
            case .failure(let error):
                FileHandle.standardError.write(Data("rtes-replay: --journal: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }

        var engine = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
        var events = 0
        let start = ContinuousClock.now
        commands.withUnsafeBufferPointer { stream in
            engine.runBatch(stream) { events &+= $0.count }
        }
        let elapsed = start.duration(to: .now)
        // Once more, untimed, fingerprinting every event: it must match the recording.
        var check = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
        var digest = EventDigest()
        for command in commands { check.run(command) { digest.add($0) } }
        summarise(engine: engine, events: events, elapsed: elapsed, deterministic: digest == recordedDigest)
    }

    func makeProfile(_ configuration: EngineConfiguration, _ limits: RiskLimits) -> OrderFlowProfile {
        let hint = RiskLimitsHint(maxOrderShares: limits.maxOrderShares, maxOpenNotional: limits.maxOpenNotional)
        let clients = min(configuration.maxClients, 32)
        var profile: OrderFlowProfile
        switch flow {
        case .realistic: profile = .realistic(instruments: configuration.instruments, clients: clients, limits: hint)
        case .randomized: profile = .randomized(instruments: configuration.instruments, clients: clients, limits: hint)
        case .exchangeCore: profile = .exchangeCoreMix(instrument: configuration.instruments[0])
        case .multiSymbol: profile = .multiSymbol(instruments: configuration.instruments)
        }
        profile.clients = min(profile.clients, configuration.maxClients)
        profile.firms = min(profile.firms, profile.clients)
        return profile
    }

    func summarise(engine: borrowing RiskCheckedEngine, events: Int, elapsed: Duration, deterministic: Bool) {
        let c = engine.engine.counters
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        func row(_ label: String, _ value: UInt64) { print("  \(label.padding(toLength: 32, withPad: " ", startingAt: 0)) \(value.formatted())") }
        print("commands                           \(c.commands.formatted())")
        row("orders accepted", c.ordersAccepted)
        row("orders replaced", c.ordersReplaced)
        row("orders modified", c.ordersModified)
        row("cancels (all reasons)", c.ordersCanceled)
        row("  of which expired", c.ordersExpired)
        row("trades", c.executions)
        row("shares traded", c.sharesExecuted)
        row("self-trades prevented", c.selfTradesPrevented)
        row("orders resting at end", c.restingOrders)
        row("peak resting orders", c.peakRestingOrders)
        print("rejects                            \(c.rejects.formatted()) (+ \(c.cancelRejects.formatted()) cancel/modify rejects)")
        for reason in RejectReason.allCases where engine.engine.rejectCount(reason) > 0 {
            row("  \(reason) (\(String(UnicodeScalar(reason.ouchCode))))", engine.engine.rejectCount(reason))
        }
        print("events                             \(events.formatted())")
        print("elapsed                            \(String(format: "%.3f", secs)) s")
        print("throughput                         \(String(format: "%.2f", Double(c.commands) / secs / 1e6)) M commands/s, \(String(format: "%.2f", Double(events) / secs / 1e6)) M events/s")
        print("deterministic                      \(deterministic ? "yes: the replay's events equal the recording's" : "NO: the replay's events differ from the recording's")")
    }

    func seconds(since start: ContinuousClock.Instant) -> String {
        let d = start.duration(to: .now)
        return String(format: "%.2f", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
}
