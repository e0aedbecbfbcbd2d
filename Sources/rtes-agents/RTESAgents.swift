import ArgumentParser
import ExchangeAgents
import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeFeed
import ExchangeTools
import Foundation

/// Set by SIGINT and SIGTERM: the run stops at the next turn and logs its sessions out.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

/// Runs a population of liquidity agents against a running exchange (docs/AGENTS.md).
@main
struct RTESAgents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-agents",
        abstract: "Run liquidity agents (market makers, noise traders, momentum and mean-reversion takers) against a running RTES exchange.",
        discussion: """
            Reads the gateway address, the feed's group and ports and the symbols from the \
            exchange's configuration file; the population and its parameters from --agents FILE \
            (JSON, docs/AGENTS.md; without it the defaults: 2 market makers, 2 noise traders, 1 \
            momentum and 1 mean-reversion taker on every symbol). Each agent logs in with its own \
            account (the file's "accounts", by default LOAD1…LOAD8 of configs/api_keys.dev.json) \
            and all of them read the ITCH feed through one feed client.

            The agents follow the trading day from the feed's System Events: market makers quote \
            in pre-open and continuous trading, takers trade only once the market is open; none \
            sends a new order after the close (End of Market Hours, or an OUCH reject for a \
            closed exchange) until the next pre-open, nor on a halted symbol.

            Passwords are never taken on the command line (ps shows them to every user): they \
            come from --password-file FILE (lines USERNAME:PASSWORD), else the environment \
            variable RTES_AGENTS_PASSWORD (one password for every account), else a prompt on the \
            terminal for each account.

            Prints a line every --report-seconds: orders sent, executions, trades seen per symbol \
            and their last price. Stops after --seconds, on SIGINT or SIGTERM (logging every \
            session out), or when every session has ended.

            Exit status: 0 stopped as asked; 1 every session ended (the exchange stopped) or the \
            exchange could not be reached; 64 bad command line, configuration or password.
            """,
        version: RTESVersion.current)

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String

    @Option(help: ArgumentHelp("The population and its parameters (JSON, docs/AGENTS.md).", valueName: "file"))
    var agents: String?

    @Option(help: "The seed of the fair value and of every agent's decisions (replaces the file's \"seed\").")
    var seed: UInt64?

    @Option(help: "Seconds to run (0: until SIGINT or SIGTERM).")
    var seconds: Double = 0

    @Option(name: .customLong("report-seconds"), help: "Seconds between progress lines (0: none).")
    var reportSeconds: Double = 5

    @Option(name: .customLong("connect-seconds"), help: "Keep trying to reach the gateway for this long before giving up.")
    var connectSeconds: Double = 10

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "A file with the accounts' passwords: lines USERNAME:PASSWORD. Without it: RTES_AGENTS_PASSWORD, else a prompt.",
        valueName: "file"))
    var passwordFile: String?

    @Option(name: .customLong("token-prefix"), help: ArgumentHelp(
        "Up to 4 letters or digits that begin this run's order tokens (default: from the time of day, so a restarted run's tokens differ).",
        valueName: "text"))
    var tokenPrefix: String?

    func validate() throws {
        if seconds < 0 || !seconds.isFinite { throw ValidationError("--seconds \(seconds): 0 or more") }
        if reportSeconds < 0 || !reportSeconds.isFinite { throw ValidationError("--report-seconds \(reportSeconds): 0 or more") }
        if connectSeconds < 0 || !connectSeconds.isFinite { throw ValidationError("--connect-seconds \(connectSeconds): 0 or more") }
        if let tokenPrefix, tokenPrefix.count > 4 || !tokenPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw ValidationError("--token-prefix \"\(tokenPrefix)\": up to 4 ASCII letters or digits")
        }
    }

    func run() throws {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        } catch {
            Self.fail("\(config) cannot be used:\n\(error)", status: 64)
        }
        let c = loaded.configuration
        var population = AgentsConfiguration()
        if let agents {
            do throws(AgentsConfigurationError) { population = try AgentsConfiguration.load(path: agents) } catch {
                Self.fail(error.description, status: 64)
            }
        }
        if let seed { population.seed = seed }
        let symbols: [Int]
        do throws(AgentsConfigurationError) { symbols = try AgentRunner.symbolIndexes(population, instruments: c.symbols) } catch {
            Self.fail(error.description, status: 64)
        }
        let problems = population.problems(symbolCount: symbols.count, maxOrderSize: Int(c.risk.maxOrderSize))
        if !problems.isEmpty { Self.fail((agents ?? "the default population") + ": " + problems.joined(separator: "; "), status: 64) }
        // Every password, asked before anything starts.
        let lookup = PasswordLookup.forProcess(file: passwordFile, variable: "RTES_AGENTS_PASSWORD")
        var passwords: [String: String] = [:]
        for name in population.accounts.prefix(population.agentCount) {
            do throws(PasswordError) { passwords[name] = try lookup.password(for: name) } catch { Self.fail(error.description, status: 64) }
        }
        let feed: FeedClient
        do {
            feed = try FeedClient(following: c)
        } catch {
            Self.fail("cannot join \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort) on \(c.marketData.interface): \(error)", status: 1)
        }
        feed.handler.historyMessages = UInt64(c.marketData.retransmitHistoryMessages)
        let prefix = tokenPrefix ?? ToolClock.dayPrefix()
        let runner: AgentRunner
        do { runner = try AgentRunner(configuration: population, instruments: c.symbols, feed: feed, clock: ToolClock.monotonic, tokenPrefix: prefix) } catch {
            Self.fail(error.description, status: 64)
        }
        let host = c.exchange.bindAddress.rawValue == 0 ? "127.0.0.1" : "\(c.exchange.bindAddress)"
        let address = ExchangeAddress(host: host, port: Int(c.exchange.tcpPort))
        let connectDeadline = ToolClock.monotonic() + UInt64(connectSeconds * 1e9)
        while true {
            do {
                try runner.connect(addresses: [address], password: { passwords[$0] ?? "" })
                break
            } catch let error as ClientError {
                if case .loginRejected = error { Self.fail("login: \(error)", status: 64) }
                if ToolClock.monotonic() >= connectDeadline { Self.fail("cannot reach the gateway at \(address): \(error)", status: 1) }
                usleep(250_000)
            } catch {
                Self.fail("\(error)", status: 64)
            }
        }
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        let roles = runner.agents.map { "\(population.accounts[$0.index]) \($0.role.rawValue)" }.joined(separator: ", ")
        Self.say("rtes-agents: \(runner.agents.count) agents (\(roles)) on \(address), seed \(population.seed), "
            + "feed \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort)")
        let start = ToolClock.monotonic()
        let end = seconds > 0 ? start + UInt64(seconds * 1e9) : UInt64.max
        let reportEvery = reportSeconds > 0 ? UInt64(reportSeconds * 1e9) : UInt64.max
        var nextReport = start &+ reportEvery
        while stopRequested == 0 {
            runner.step(waitMilliseconds: 1)
            let now = ToolClock.monotonic()
            if now >= nextReport {
                report(runner, c.symbols)
                nextReport = now &+ reportEvery
            }
            if now >= end { break }
            if runner.running == 0 {
                let why = runner.failures.compactMap { $0 }.first ?? "unknown"
                Self.fail("every session ended: \(why)", status: 1)
            }
        }
        report(runner, c.symbols)
        runner.close()
    }

    func report(_ runner: AgentRunner, _ instruments: [InstrumentSpec]) {
        let sent = runner.agents.reduce(0) { $0 + $1.counters.messages }
        let executions = runner.agents.reduce(0) { $0 + $1.counters.executions }
        let rejected = runner.agents.reduce(0) { $0 + $1.counters.rejected }
        let books = runner.market.symbols.enumerated().map { i, s in
            "\(instruments[i].symbol) \(s.tradeCount)@\(s.lastTrade.map(Self.priceText) ?? "-")"
        }.joined(separator: " ")
        Self.say("phase \(runner.market.phase): sent \(sent), executions \(executions), rejected \(rejected); trades \(books)")
    }

    static func priceText(_ p: Price) -> String { String(format: "%.2f", Double(p) / 10_000) }



    /// One line on standard output, written at once (print would hold it in a buffer when
    /// the output is a pipe, and make run shares its terminal with the exchange).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rtes-agents: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
