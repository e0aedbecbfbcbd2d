import ArgumentParser
import ExchangeClient
import ExchangeConfig
import ExchangeClock
import ExchangeCore
import ExchangeTools
import ExchangeWire
import Glibc
import Histogram

@main
struct RTESLoadgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-loadgen",
        abstract: "Load the RTES exchange with OUCH order flow over N connections and measure round trips.",
        discussion: """
            Each connection logs in with its own account (by default LOAD1…LOADn of \
            configs/api_keys.dev.json) and sends a seeded mix of requests: day limit orders \
            that rest 1…levels ticks from the reference price, immediate-or-cancel orders that \
            cross it and trade with what rests, and cancels of the connection's oldest resting \
            order (at most --max-resting rest per connection, so the book stays bounded). At \
            the end it cancels what still rests and logs out.

            Pacing: closed loop (the default: each connection keeps --window requests \
            outstanding, latency from the actual send), or open loop with --rate (requests \
            due on a fixed schedule; latency from the planned send time, so stalls count in \
            every request they delay — coordinated omission is accounted for).

            Measured with HdrHistogram: order → Accepted, taking order → first Executed, \
            cancel → Canceled. Percentiles are printed; the full distributions are written as \
            .hgrm files (HdrHistogram percentile-distribution format, values in microseconds); \
            benchmarks/plot-hgrm.sh draws them to a PNG with gnuplot (log-scale percentile axis).

            One thread polls every connection (non-blocking sockets, TCP_NODELAY). With --idle \
            block (the default) it waits in select(2) when there is nothing to do, until a \
            reply arrives or the next request is due; --idle spin busy-polls instead (lowest \
            latency, one core at 100 %: only where the exchange has cores of its own). Times come from \
            the TSC (calibrated against CLOCK_MONOTONIC) or CLOCK_MONOTONIC. Nothing allocates \
            per message.

            Only loopback targets (127.0.0.0/8, ::1) unless --allow-remote.

            Examples:
              rtes-loadgen --connections 2 --count 200000
              rtes-loadgen --connections 4 --rate 20000 --duration 10
              rtes-loadgen --connections 1 --window 8 --count 100000 --taker-firm LGTK
              rtes-loadgen --address 127.0.0.1:8888,127.0.0.1:9888 --count 10000
              rtes-loadgen --shard-map configs/shards.dev.json --shard beta --symbol GOOGL@170.00 --count 10000

            With several --address (a primary and its standby) each connection logs in at the \
            first that accepts, in order, and a connection lost during the run (the primary \
            killed, or closing its sessions when its leadership lapsed) fails over: it tries the \
            next address (round the list, --failover-attempts times, with back-off) and resumes \
            its session from the next sequence number it has not received, so the new primary \
            replays the answers it has. Requests in flight when the connection was lost are \
            counted; those the new primary never answers are reported as of unknown outcome \
            (never acknowledged; the old primary may have journaled them). With one address a \
            connection lost is a failure of the run (exit status 1).

            The exchange's per-account rate limit (risk.max_orders_per_second, or \
            max_orders_per_second in the API keys file) rejects requests beyond it with \
            reason O; they are counted under "rejects". The exchange also remembers every \
            order token it has seen (gateway.token_history: 4,194,304 in the dev config, \
            shared evenly among the accounts unless gateway.max_tokens_per_account says \
            otherwise) and rejects an account's new orders with reason O once it has used its \
            share, until the exchange restarts.

            Passwords are never taken on the command line (ps shows them to every user): the \
            dev accounts' are built in; an --account's comes from --password-file FILE, else the \
            environment variable RTES_LOADGEN_PASSWORD (one password for every --account), else \
            a prompt on the terminal.

            Exit status: 0 every request was answered; 1 some were not, or a connection \
            failed; 2 the run could not start (no password, the exchange not reachable, …).
            """,
        version: RTESVersion.current
    )

    @Option(help: "The exchange's host. Default 127.0.0.1.")
    var host: String?

    @Option(help: "The order-entry port. Default 8888.")
    var port: Int?

    @Option(name: .customLong("address"), help: ArgumentHelp(
        "An order-entry address HOST:PORT instead of --host and --port; repeat it, or separate addresses by commas, for a primary and its backups: each connection logs in at the first that accepts, and fails over to the next when its connection is lost during the run.",
        valueName: "host:port"))
    var addressTexts: [String] = []

    @Option(name: .customLong("shard-map"), help: ArgumentHelp(
        "A shard map (docs/SHARDS.md) instead of --address: load the shard --shard at its order-entry addresses; every --symbol must be that shard's.",
        valueName: "file"))
    var shardMap: String?

    @Option(help: ArgumentHelp("With --shard-map: the shard to load (run one rtes-loadgen per shard to load several).", valueName: "name"))
    var shard: String?

    @Option(help: "Connections (the dev accounts LOAD1…LOADn of configs/api_keys.dev.json, unless --account is given).")
    var connections = 2

    @Option(name: .customLong("account"), help: ArgumentHelp(
        "An account to use instead (repeat for more connections); its password from --password-file, else RTES_LOADGEN_PASSWORD, else a prompt.",
        valueName: "user"))
    var accounts: [String] = []

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "A file with the --account passwords: lines USERNAME:PASSWORD, or one password alone for every account.", valueName: "file"))
    var passwordFile: String?

    @Option(help: "Closed loop: requests each connection keeps outstanding.")
    var window = 1

    @Option(help: "Open loop: requests per second in all, spread evenly over the connections.")
    var rate: Double?

    @Option(help: "Requests (orders and cancels) to send in all. Default 100000 when --duration is not given.")
    var count: Int?

    @Option(help: "Seconds to send for.")
    var duration: Double?

    @Option(help: "Requests at the start not recorded in the histograms. Default: 10 % of --count.")
    var warmup: Int?

    @Option(name: .customLong("symbol"), help: ArgumentHelp(
        "A symbol and its reference price, as SYMBOL@PRICE (repeat for more). Default AAPL@230.00.", valueName: "symbol@price"))
    var symbols: [String] = []

    @Option(help: "The symbols' tick size.")
    var tick = "0.01"

    @Option(help: "Weights of rest, take and cancel requests.")
    var mix = "60,25,15"

    @Option(name: .customLong("max-resting"), help: "Resting orders per connection at most.")
    var maxResting = 100

    @Option(help: "Shares of a resting order (takers take 1-3 times as many).")
    var shares: UInt32 = 100

    @Option(help: "Resting orders are 1…levels ticks from the reference price; takers cross that far.")
    var levels = 10

    @Option(help: "Seed of the request mix.")
    var seed: UInt64 = 1

    @Option(name: .customLong("taker-firm"), help: "Firm for taking orders (lets one connection trade with its own resting orders; self-trade prevention compares firms).")
    var takerFirm: String?

    @Option(name: .customLong("token-prefix"), help: "4 characters (A-Z, 0-9) that start every order token. Default: from the clock.")
    var tokenPrefix: String?

    @Option(help: "When there is nothing to do: block (wait in select) or spin (busy-poll a core).")
    var idle = LoadPlan.Idle.block

    @Option(help: "Time source: tsc or monotonic.")
    var clock = TSCClock.Source.tsc

    @Option(name: .customLong("hgrm-prefix"), help: "Where the .hgrm files go: PREFIX-accepted.hgrm, PREFIX-executed.hgrm, PREFIX-canceled.hgrm.")
    var hgrmPrefix = "rtes-loadgen"

    @Flag(name: .customLong("no-hgrm"), help: "Write no .hgrm files.")
    var noHistogramFiles = false

    @Flag(name: .customLong("no-cleanup"), help: "Leave resting orders on the book at the end.")
    var noCleanup = false

    @Option(name: .customLong("failover-attempts"), help: "With several --address: connection attempts per failover before the connection counts as failed (back-off 50 ms doubling to 500 ms between them).")
    var failoverAttempts = 60

    @Option(name: .customLong("drain-timeout"), help: "Seconds to wait for outstanding answers at the end.")
    var drainTimeout: Double = 5

    @Flag(name: .customLong("allow-remote"), help: "Allow a host that is not loopback.")
    var allowRemote = false

    @Flag(help: ArgumentHelp(
        "Speak TLS (the exchange's gateway.tls on): the server's CA from RTES_CA_CERT; for mutual TLS each account's certificate and key from RTES_TLS_CLIENT_CERT and RTES_TLS_CLIENT_KEY, where %u stands for the username."))
    var tls = false

    func run() throws {
        let plan = try makePlan()
        let clockSource = TSCClock.calibrated(clock)
        print("rtes-loadgen: \(plan.accounts.count) connection(s) (\(plan.accounts.map(\.username).joined(separator: ", "))) "
              + "to \(plan.addresses.map(\.description).joined(separator: " or "))\(tls ? " over TLS" : ""), \(plan.pacing)")
        print("  " + [plan.requests.map { "\($0) requests" }, duration.map { "\($0) s" }]
            .compactMap { $0 }.joined(separator: ", ")
            + ", warm-up \(plan.warmupRequests), mix \(plan.mix), max resting \(plan.maxResting), seed \(plan.seed), tokens \(plan.tokenPrefix)…")
        print("  one thread polling every connection (\(plan.idle == .spin ? "busy-polling" : "waiting in select when idle")), "
              + "clock \(clockSource.source == .tsc ? "TSC at \(String(format2(Double(clockSource.ticksPerSecond) / 1e9))) GHz" : "CLOCK_MONOTONIC")")
        let report: LoadReport
        do {
            report = try LoadGenerator.run(plan, clock: clockSource, allowRemote: allowRemote)
        } catch {
            printError("rtes-loadgen: \(error)")
            throw ExitCode(2)
        }
        ReportPrinter(report: report, plan: plan).print()
        if !noHistogramFiles {
            let files = [("accepted", report.accepted), ("executed", report.executed), ("canceled", report.canceled)]
            var written: [String] = []
            for (name, histogram) in files {
                let path = "\(hgrmPrefix)-\(name).hgrm"
                if writeHistogram(histogram, to: path) { written.append(path) } else { printError("rtes-loadgen: cannot write \(path)") }
            }
            print("wrote " + written.joined(separator: ", ") + " (values in microseconds)")
        }
        if !report.isComplete { throw ExitCode(1) }
    }

    func makePlan() throws -> LoadPlan {
        var loadAccounts: [LoadAccount]
        if accounts.isEmpty {
            guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
            loadAccounts = LoadPlan.devAccounts(connections)
        } else {
            if accounts.contains(where: { $0.contains(":") }) {
                throw ValidationError(PasswordLookup.refusal(option: "--account USER:PASSWORD", variable: "RTES_LOADGEN_PASSWORD")
                    + " (--account takes the username alone)")
            }
            let lookup = PasswordLookup.forProcess(file: passwordFile, variable: "RTES_LOADGEN_PASSWORD")
            loadAccounts = []
            for name in accounts {
                do throws(PasswordError) {
                    loadAccounts.append(LoadAccount(username: name, password: try lookup.password(for: name)))
                } catch {
                    printError("rtes-loadgen: \(error)")
                    throw ExitCode(2)
                }
            }
        }
        guard let tickUnits = MessageText.parsePrice(tick), tickUnits > 0 else { throw ValidationError("--tick \(tick): a price such as 0.01") }
        let symbolTexts = symbols.isEmpty ? ["AAPL@230.00"] : symbols
        let loadSymbols = try symbolTexts.map { text in
            let parts = text.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, let symbol = Symbol(parts[0].uppercased()), !parts[0].isEmpty,
                  let price = MessageText.parsePrice(String(parts[1])) else {
                throw ValidationError("--symbol \(text): SYMBOL@PRICE, e.g. AAPL@230.00 (the symbol's reference price)")
            }
            return LoadSymbol(symbol: symbol, referencePrice: price, tick: tickUnits)
        }
        let weights = mix.split(separator: ",").compactMap { Int($0) }
        guard weights.count == 3, weights.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--mix \(mix): three weights, e.g. 60,25,15") }
        var firm: Firm?
        if let takerFirm {
            guard let parsed = Firm(takerFirm.uppercased()), !takerFirm.isEmpty else { throw ValidationError("--taker-firm: 1 to 4 characters") }
            firm = parsed
        }
        if !addressTexts.isEmpty && (host != nil || port != nil) {
            throw ValidationError("--address replaces --host and --port: give one or the other")
        }
        if let port, !(1...65_535).contains(port) { throw ValidationError("--port \(port): 1 to 65535") }
        var targets: [ExchangeAddress]
        do throws(ClientError) {
            targets = addressTexts.isEmpty ? [ExchangeAddress(host: host ?? "127.0.0.1", port: port ?? 8888)]
                : try ExchangeAddress.parseList(addressTexts)
        } catch {
            throw ValidationError(error.description)
        }
        if shard != nil && shardMap == nil { throw ValidationError("--shard needs --shard-map") }
        if let shardMap {
            guard addressTexts.isEmpty && host == nil && port == nil else {
                throw ValidationError("--shard-map replaces --address, --host and --port: give one or the other")
            }
            let map: ShardMap
            do throws(ConfigurationError) {
                map = try ShardMap.load(path: shardMap)
            } catch {
                throw ValidationError("--shard-map \(shardMap): \(error)")
            }
            guard let name = shard, let selected = map.shard(named: name) else {
                throw ValidationError("--shard-map needs --shard, one of \(map.shards.map(\.name).joined(separator: ", "))")
            }
            let foreign = loadSymbols.filter { map.shard(owning: $0.symbol)?.name != name }.map(\.symbol.description)
            guard foreign.isEmpty else {
                throw ValidationError("--symbol \(foreign.joined(separator: ", ")): not shard \(name)'s (it owns "
                    + selected.symbols.map(\.description).joined(separator: ", ") + ")")
            }
            targets = ShardedClient.addresses(of: selected)
        }
        let requests = count ?? (duration == nil ? 100_000 : nil)
        var plan = LoadPlan(
            host: targets[0].host, port: targets[0].port, accounts: loadAccounts,
            pacing: rate.map { .openLoop(requestsPerSecond: $0) } ?? .closedLoop(window: window),
            requests: requests, duration: duration.map { .milliseconds(Int64($0 * 1_000)) },
            warmupRequests: warmup ?? (requests ?? 0) / 10, symbols: loadSymbols,
            mix: LoadMix(rest: weights[0], take: weights[1], cancel: weights[2]), maxResting: maxResting, lotShares: shares,
            levels: levels, seed: seed, takerFirm: firm, tokenPrefix: tokenPrefix?.uppercased() ?? LoadPlan.defaultTokenPrefix(),
            idle: idle, drainTimeout: .milliseconds(Int64(drainTimeout * 1_000)), cleanup: !noCleanup)
        plan.backups = Array(targets.dropFirst())
        if targets.count > 1 {
            guard failoverAttempts >= 1 else { throw ValidationError("--failover-attempts must be at least 1") }
            plan.failover = FailoverPolicy(maximumAttempts: failoverAttempts)
        }
        if let problem = plan.problem() { throw ValidationError(problem) }
        if tls {
            for account in loadAccounts {
                do throws(ClientError) {
                    plan.tls[account.username] = try ClientTLSEnvironment.context(forUser: account.username)
                } catch {
                    printError("rtes-loadgen: \(error)")
                    throw ExitCode(2)
                }
            }
        }
        return plan
    }
}

extension LoadPlan.Idle: ExpressibleByArgument {}
extension TSCClock.Source: ExpressibleByArgument {}

/// Writes the histogram's percentile distribution (the .hgrm format), in microseconds.
func writeHistogram(_ histogram: Histogram<UInt64>, to path: String) -> Bool {
    var text = ""
    histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000)
    guard let file = fopen(path, "w") else { return false }
    defer { fclose(file) }
    return fputs(text, file) >= 0
}

func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func format2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
}
