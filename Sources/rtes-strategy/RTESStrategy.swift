import ArgumentParser
import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeFeed
import ExchangeTools
import Foundation
import StrategyKit

nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

/// Runs one of StrategyKit's example strategies against a running exchange (docs/STRATEGIES.md).
@main
struct RTESStrategy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-strategy",
        abstract: "Run an example strategy (momentum or market-making) against a running RTES exchange.",
        discussion: """
            Reads the gateway address, the feed and the symbols from the exchange's configuration \
            file, follows the ITCH feed, and trades as --account through OUCH, every order through \
            the client-side risk limits (--max-position, --max-order, --max-open-orders, --collar-bps). \
            Prints fills, positions and PnL every --report-seconds. The password comes from \
            --password-file (lines USERNAME:PASSWORD), else RTES_STRATEGY_PASSWORD, else a prompt.
            Exit status: 0 done; 1 the exchange could not be reached or the session ended; 64 bad usage.
            """,
        version: RTESVersion.current)

    enum Kind: String, ExpressibleByArgument { case momentum, marketMaking = "market-making" }

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String
    @Option(help: "momentum or market-making.")
    var strategy: Kind = .marketMaking
    @Option(help: "Symbols to trade, comma-separated (default: the first the exchange lists).")
    var symbols: String?
    @Option(help: "The account to trade as.")
    var account: String = "DEMO1"
    @Option(name: .customLong("password-file"), help: ArgumentHelp("Lines USERNAME:PASSWORD.", valueName: "file"))
    var passwordFile: String?
    @Option(help: "Seconds to run (0: until SIGINT or SIGTERM).")
    var seconds: Double = 0
    @Option(name: .customLong("report-seconds"), help: "Seconds between progress lines (0: none).")
    var reportSeconds: Double = 5
    @Option(help: "Shares per order.") var shares: UInt32 = 100
    @Option(name: .customLong("max-position")) var maxPosition: Int = 1_000
    @Option(name: .customLong("max-order")) var maxOrder: UInt32 = 500
    @Option(name: .customLong("max-open-orders")) var maxOpenOrders: Int = 10
    @Option(name: .customLong("collar-bps")) var collarBasisPoints: Int = 500

    func run() throws {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        } catch {
            Self.fail("\(config) cannot be used:\n\(error)", status: 64)
        }
        let c = loaded.configuration
        var chosen: [Int] = [0]
        if let symbols {
            chosen = []
            for name in symbols.split(separator: ",") {
                guard let i = c.symbols.firstIndex(where: { $0.symbol.description == name }) else {
                    Self.fail("--symbols: \(name) is not one of the exchange's symbols", status: 64)
                }
                chosen.append(i)
            }
        }
        let password: String
        do throws(PasswordError) {
            password = try PasswordLookup.forProcess(file: passwordFile, variable: "RTES_STRATEGY_PASSWORD").password(for: account)
        } catch {
            Self.fail(error.description, status: 64)
        }
        let feed: FeedClient
        do {
            feed = try FeedClient(following: c)
        } catch {
            Self.fail("cannot join the feed: \(error)", status: 1)
        }
        let host = c.exchange.bindAddress.rawValue == 0 ? "127.0.0.1" : "\(c.exchange.bindAddress)"
        let client: OrderEntryClient
        do {
            client = try OrderEntryClient.connect(host: host, port: Int(c.exchange.tcpPort), username: account, password: password)
        } catch {
            Self.fail("cannot log in at \(host):\(c.exchange.tcpPort): \(error)", status: 1)
        }
        let limits = RiskLimits(maxPosition: maxPosition, maxOrderShares: maxOrder, maxOpenOrders: maxOpenOrders,
                                priceCollarBasisPoints: collarBasisPoints)
        let prefix = "S" + String(Int(Date().timeIntervalSince1970) % 86_400, radix: 36).uppercased()
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        switch strategy {
        case .momentum:
            let s = MomentumStrategy(instrumentCount: c.symbols.count, instruments: chosen, shares: shares, tokenPrefix: prefix)
            loop(StrategyRunner(feed: feed, client: client, instruments: c.symbols, strategy: s, limits: limits, clock: ToolClock.monotonic), chosen)
        case .marketMaking:
            let s = MarketMakingStrategy(instrumentSpecs: c.symbols, instruments: chosen, shares: shares, tokenPrefix: prefix)
            loop(StrategyRunner(feed: feed, client: client, instruments: c.symbols, strategy: s, limits: limits, clock: ToolClock.monotonic), chosen)
        }
        _ = try? client.logout(timeout: .seconds(1))
    }

    func loop<S: Strategy>(_ runner: StrategyRunner<S>, _ chosen: [Int]) {
        Self.say("rtes-strategy: \(strategy.rawValue) as \(account) on \(chosen.map { runner.instruments[$0].symbol.description }.joined(separator: ","))")
        let start = ToolClock.monotonic()
        let end = seconds > 0 ? start + UInt64(seconds * 1e9) : UInt64.max
        var nextReport = start + (reportSeconds > 0 ? UInt64(reportSeconds * 1e9) : UInt64.max)
        while stopRequested == 0 && runner.failure == nil {
            runner.step(waitMilliseconds: 1)
            let now = ToolClock.monotonic()
            if now >= nextReport {
                report(runner, chosen)
                nextReport = now + UInt64(reportSeconds * 1e9)
            }
            if now >= end { break }
        }
        report(runner, chosen)
        if let failure = runner.failure { Self.fail("the session ended: \(failure)", status: 1) }
    }

    func report<S: Strategy>(_ runner: StrategyRunner<S>, _ chosen: [Int]) {
        let lines = chosen.map { i in
            let q = runner.book.quote(i)
            return "\(runner.instruments[i].symbol) pos \(runner.portfolio.position(i)) pnl \(String(format: "%.2f", runner.pnlDollars(i))) "
                + "bbo \(Self.price(q.bid))/\(Self.price(q.ask))"
        }.joined(separator: "; ")
        Self.say("sent \(runner.sent), fills \(runner.portfolio.fills) (\(runner.portfolio.filledShares) shares), refused \(runner.refused), "
            + "rejected \(runner.rejected), open \(runner.portfolio.openOrders); \(lines)")
    }

    static func price(_ p: Price) -> String { p == 0 ? "-" : String(format: "%.2f", Double(p) / 10_000) }


    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rtes-strategy: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
