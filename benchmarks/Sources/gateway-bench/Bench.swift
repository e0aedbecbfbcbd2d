import BenchSupport
import CExchangeShim
import Foundation
import Glibc
import ExchangeTLS
import Histogram

/// The servers of one run, the order in which they are measured, and what was measured.
struct Bench {
    let clock: TSCClock
    let options: GatewayBench
    let latencyAccount: BenchAccount
    let throughputAccounts: [BenchAccount]
    private var nio: NIOOrderEntryServer?
    /// QuickFIX's C++ acceptor (quickfix).
    private var quickfix: QuickFIXAcceptor?
    /// The TLS client context of rtes-tls (trusting --tls-ca).
    private var tlsClient: TLSContext?
    /// RTES, and RTES with market data.
    private var exchanges: [ServerKind: ExchangeProcess] = [:]
    /// Why a server has no (more) measurements.
    private var unavailable: [ServerKind: String] = [:]
    private var enter: [ServerKind: Histogram<UInt64>] = [:]
    private var cancel: [ServerKind: Histogram<UInt64>] = [:]
    /// Enter Order → its Add Order on the ITCH feed (rtes-md).
    private var itch: [ServerKind: Histogram<UInt64>] = [:]
    private var rounds: [ServerKind: [LatencySummary]] = [:]
    /// rtes-md's feed tap, all rounds: gaps in the live feed, re-requests, Add Orders
    /// recovered from re-request answers (not in the Enter → Add Order figures).
    private(set) var feedRecovery = (gaps: 0, requests: 0, recovered: 0)
    private var throughput: [PipelinedRun] = []
    private var throughputNotes: [String] = []
    /// IORING_SETUP_* flags the floor's ring was created with (the last start).
    private var floorSetupFlags: UInt32?
    /// Latency runs number their tokens from here on ("L" + 13 digits).
    private var nextToken: UInt64 = 1
    /// rtes-md-storm: snapshots read, bytes, failed connections (all rounds).
    private(set) var storm: (snapshots: Int, bytes: Int, failures: Int, seconds: Double) = (0, 0, 0, 0)
    /// The rtes-md exchange's snapshot and duty-cycle metrics at the end of the run.
    private(set) var stormMetrics: [String] = []

    let bookAccount: BenchAccount
    let snapshotAccount: BenchAccount

    init(clock: TSCClock, options: GatewayBench, latencyAccount: BenchAccount, throughputAccounts: [BenchAccount],
         bookAccount: BenchAccount, snapshotAccount: BenchAccount) {
        self.bookAccount = bookAccount
        self.snapshotAccount = snapshotAccount
        self.clock = clock
        self.options = options
        self.latencyAccount = latencyAccount
        self.throughputAccounts = throughputAccounts
    }

    private var wanted: Set<ServerKind> {
        Set((options.noLatency ? [] : options.servers) + (options.noThroughput ? [] : options.throughputServers))
    }

    /// Starts the SwiftNIO server (idle in epoll until used) and RTES (paused once it
    /// accepts connections). The floor starts and stops around each measurement.
    mutating func startServers(accounts: [BenchAccount]) throws {
        let storm = wanted.contains(.rtesMarketDataStorm)
        let fix = wanted.contains(.rtesFIX)
        for kind in [ServerKind.rtes, .rtesMarketData, .rtesTLS]
        where wanted.contains(kind) || (kind == .rtesMarketData && storm) || (kind == .rtes && fix) {
            let latencyEnters = options.noLatency ? 0 : options.rounds * (options.warmup + options.orders)
            // Tokens one account may need: the exchange keeps that many for each account of the
            // keys file (an account may be the latency, a throughput and the book account at once).
            let throughputEnters = options.noThroughput ? 0 : options.throughputMaxMessages / 2 + 1
            var settings = ExchangeProcess.Settings(
                binary: options.exchangeBinary, apiKeysFile: options.apiKeys, cpu: options.serverCPU,
                fifoPriority: options.realtimePriority, tokenHistory: latencyEnters * 2 + throughputEnters + options.bookOrders + 65_536,
                accounts: accounts.count,
                marketData: kind == .rtesMarketData, startTimeoutSeconds: options.exchangeStartTimeout,
                snapshotWorkPerTurn: options.snapshotWorkPerTurn, snapshotMaxMegabytesPerSecond: options.snapshotMaxMbPerSecond)
            if kind == .rtes && fix {
                // Every order and every cancel takes a ClOrdID of the session's day.
                settings.fixClOrdIDs = latencyEnters * 2 + (options.noThroughput ? 0 : options.throughputMaxMessages) + 65_536
                settings.fixSessions = Set([latencyAccount.username] + throughputAccounts.map(\.username)).count
            }
            if kind == .rtesTLS {
                guard let certificate = options.tlsCertificate, let key = options.tlsKey, let ca = options.tlsCA else {
                    unavailable[kind] = "not measured: --tls-certificate, --tls-key and --tls-ca are needed (configs/tls/make-dev-certs.sh makes them)"
                    print("\(kind.rawValue): \(unavailable[kind]!)")
                    continue
                }
                settings.tls = (certificate, key)
                do {
                    tlsClient = try TLSContext.client(caFile: ca)
                } catch {
                    unavailable[kind] = "not measured: the TLS client context: \(error)"
                    print("\(kind.rawValue): \(unavailable[kind]!)")
                    continue
                }
            }
            do {
                let started = try ExchangeProcess(settings)
                started.pause()
                exchanges[kind] = started
                print("\(kind.rawValue): trading_exchange (pid \(started.pid)) accepts connections on 127.0.0.1:\(started.port); configuration \(started.configPath)")
                if kind == .rtesMarketData && storm {
                    started.resume()
                    defer { started.pause() }
                    let (port, account, count, clock) = (started.port, bookAccount, options.bookOrders, clock)
                    try PinnedThread.run(cpu: options.clientCPU, fifoPriority: 0) {
                        try BookFill.run(port: port, account: account, count: count, clock: clock)
                    }
                    usleep(500_000)  // the gateway sees the Logout before it is paused
                    print("rtes-md: \(count) resting orders on the book for the snapshot storm")
                }
            } catch {
                unavailable[kind] = "not measured: \(error)"
                print("\(kind.rawValue): \(unavailable[kind]!)")
            }
        }
        if wanted.contains(.swiftnio) {
            nio = try NIOOrderEntryServer(cpu: options.serverCPU, fifoPriority: options.realtimePriority, accounts: accounts)
        }
        if wanted.contains(.quickfix) {
            do {
                let names = Array(Set([latencyAccount.username] + throughputAccounts.map(\.username)).map(\.description)).sorted()
                let started = try QuickFIXAcceptor(binary: options.quickfixAcceptor, dataDictionary: options.fixDataDictionary,
                                                   accounts: names, cpu: options.serverCPU, startTimeoutSeconds: options.exchangeStartTimeout)
                quickfix = started
                print("quickfix: QuickFIX acceptor accepts connections on port \(started.port); settings in \(started.directory)")
            } catch {
                unavailable[.quickfix] = "not measured: \(error)"
                print("quickfix: \(unavailable[.quickfix]!)")
            }
        }
    }

    /// Runs `body` with the port of a running `kind` server: the floor is started for it and
    /// stopped after, RTES resumed and paused again.
    private mutating func withServer<Result>(_ kind: ServerKind, _ body: (UInt16) throws -> Result) throws -> Result {
        // Real-time threads may use 950 ms of every second (sched_rt_runtime_us): a pause
        // after each measurement gives the next one a fresh budget.
        defer { if options.realtimePriority > 0 { usleep(600_000) } }
        switch kind {
        case .floor:
            let floor = try FloorServer(cpu: options.serverCPU, fifoPriority: options.realtimePriority)
            defer {
                let stats = floor.stop()
                floorSetupFlags = stats.setup_flags
                if stats.error != 0 { print("floor: a connection ended with \(String(cString: strerror(-stats.error)))") }
            }
            return try body(floor.port)
        case .swiftnio:
            guard let nio else { throw BenchFailure("the SwiftNIO server is not running") }
            return try body(nio.port)
        case .rtes, .rtesMarketData, .rtesTLS, .rtesFIX:
            // rtes-fix is the rtes exchange's FIX port.
            guard let exchange = exchanges[kind == .rtesFIX ? .rtes : kind] else { throw BenchFailure("\(kind.rawValue) is not running") }
            exchange.resume()
            defer {
                usleep(200_000)  // the gateway sees the client's Logout and close before it stops
                exchange.pause()
            }
            return try body(kind == .rtesFIX ? exchange.fixPort : exchange.port)
        case .quickfix:
            guard let quickfix else { throw BenchFailure("the QuickFIX acceptor is not running") }
            defer { usleep(200_000) }  // it sees the client's Logout and close before the next server runs
            return try body(quickfix.port)
        case .rtesMarketDataStorm:
            guard let exchange = exchanges[.rtesMarketData] else { throw BenchFailure("rtes-md is not running") }
            exchange.resume()
            let clients = SnapshotStorm(port: exchange.snapshotPort, account: snapshotAccount, clients: options.snapshotClients,
                                        cpu: options.clientCPU, pauseMilliseconds: options.snapshotPauseMs)
            let started = rtes_monotonic_ns()
            clients.start()
            defer {
                let result = clients.stop()
                let seconds = Double(rtes_monotonic_ns() - started) / 1e9
                storm = (storm.snapshots + result.snapshots, storm.bytes + result.bytes, storm.failures + result.failures,
                         storm.seconds + seconds)
                print(String(format: "rtes-md-storm: %d snapshots (%.1f MB) read by %d clients in %.1f s, %d failed connections",
                             result.snapshots, Double(result.bytes) / 1e6, options.snapshotClients, seconds, result.failures))
                usleep(200_000)
                exchange.pause()
            }
            usleep(300_000)  // the storm is under way before the first order
            return try body(exchange.port)
        }
    }

    mutating func measureLatency() throws {
        let servers = options.servers
        for round in 0..<options.rounds {
            let shift = round % servers.count
            let order: [ServerKind] = Array(servers[shift...]) + Array(servers[..<shift])
            for kind in order where unavailable[kind] == nil {
                let firstToken = nextToken
                nextToken += UInt64(options.warmup + options.orders)
                let (account, warmup, orders, clock) = (latencyAccount, options.warmup, options.orders, clock)
                let (cpu, priority, tls) = (options.clientCPU, options.realtimePriority, tlsClient)
                let timeout = UInt64(options.replyTimeout * Double(clock.ticksPerSecond))
                let feed = kind == .rtesMarketData && !options.servers.contains(.rtesMarketDataStorm) ? exchanges[kind].map {
                    FeedAddress(group: ExchangeProcess.group, port: $0.feedPort, retransmitPort: $0.retransmitPort)
                } : nil
                do {
                    let run = try withServer(kind) { port in
                        try PinnedThread.run(cpu: cpu, fifoPriority: priority) { () throws(BenchFailure) -> ClosedLoopRun in
                            if kind.speaksFIX {
                                return try ClosedLoop.run(
                                    connect: { () throws(BenchFailure) in
                                        try FIXConnection.loggedOn(port: port, account: account, targetCompID: ExchangeProcess.fixTargetCompID,
                                                                   clock: clock)
                                    },
                                    tokenPrefix: UInt8(ascii: "L"), firstToken: firstToken, warmup: warmup, count: orders, clock: clock,
                                    replyTimeout: timeout)
                            }
                            return try ClosedLoop.run(
                                connect: { () throws(BenchFailure) in
                                    try OrderEntryConnection.loggedIn(port: port, account: account, clock: clock, tls: kind == .rtesTLS ? tls : nil)
                                },
                                tokenPrefix: UInt8(ascii: "L"), firstToken: firstToken, warmup: warmup, count: orders, clock: clock,
                                replyTimeout: timeout, feed: feed)
                        }
                    }
                    enter[kind, default: makeLatencyHistogram()].add(run.enter)
                    cancel[kind, default: makeLatencyHistogram()].add(run.cancel)
                    if let wire = run.itch {
                        itch[kind, default: makeLatencyHistogram()].add(wire)
                        feedRecovery = (feedRecovery.gaps + run.feedGaps, feedRecovery.requests + run.feedRequests,
                                        feedRecovery.recovered + run.feedRecovered)
                        print("round \(round + 1)/\(options.rounds) \(kind.rawValue) feed: \(run.feedGaps) gaps, \(run.feedRequests) re-requests, "
                              + "\(run.feedRecovered) Add Orders recovered from answers")
                    }
                    let summary = LatencySummary(run.enter)
                    rounds[kind, default: []].append(summary)
                    print("round \(round + 1)/\(options.rounds) \(kind.rawValue): Enter → Accepted p50 \(formatNanoseconds(summary.p50)), " +
                          "p99 \(formatNanoseconds(summary.p99)), p99.9 \(formatNanoseconds(summary.p999)), max \(formatNanoseconds(summary.max))")
                } catch {
                    unavailable[kind] = "round \(round + 1) failed: \(error)"
                    print("\(kind.rawValue): \(unavailable[kind]!)")
                    if let exchange = exchanges[kind == .rtesFIX ? .rtes : kind] {
                        exchange.resume()
                        let lines = exchange.metrics(["rtes_gateway_disconnects", "rtes_fix_connections", "rtes_gateway_connections"])
                        exchange.pause()
                        print("the exchange's connection counters:\n" + lines.filter { !$0.hasPrefix("#") }.joined(separator: "\n"))
                    }
                }
            }
        }
    }

    mutating func measureThroughput() {
        for kind in options.throughputServers {
            if let reason = unavailable[kind] {
                throughputNotes.append("\(kind.rawValue): \(reason)")
                continue
            }
            let (accounts, window, seconds, maximum, clock) = (
                throughputAccounts, options.window, options.throughputSeconds, options.throughputMaxMessages, clock)
            let (cpu, priority, tls) = (options.clientCPU, options.realtimePriority, tlsClient)
            do {
                let run = try withServer(kind) { port in
                    try PinnedThread.run(cpu: cpu, fifoPriority: priority) { () throws(BenchFailure) -> PipelinedRun in
                        if kind.speaksFIX {
                            return try Pipelined.run(
                                server: kind.rawValue,
                                connect: { (account) throws(BenchFailure) in
                                    try FIXConnection.loggedOn(port: port, account: account, targetCompID: ExchangeProcess.fixTargetCompID,
                                                               clock: clock)
                                },
                                accounts: accounts, window: window, seconds: seconds, maximumMessages: maximum,
                                tokenPrefix: UInt8(ascii: "T"), clock: clock)
                        }
                        return try Pipelined.run(
                            server: kind.rawValue,
                            connect: { (account) throws(BenchFailure) in
                                try OrderEntryConnection.loggedIn(port: port, account: account, clock: clock, tls: kind == .rtesTLS ? tls : nil)
                            },
                            accounts: accounts, window: window, seconds: seconds, maximumMessages: maximum,
                            tokenPrefix: UInt8(ascii: "T"), clock: clock)
                    }
                }
                throughput.append(run)
                print(String(format: "throughput %@: %.0f Enter orders/s, %.0f messages/s, %d lost", kind.rawValue,
                             run.ordersPerSecond, run.messagesPerSecond, run.lost))
            } catch {
                throughputNotes.append("\(kind.rawValue): failed: \(error)")
                print("throughput \(kind.rawValue): failed: \(error)")
            }
        }
    }

    /// Stops every server; idempotent.
    mutating func shutDown() {
        if let exchange = exchanges[.rtesMarketData], wanted.contains(.rtesMarketDataStorm) {
            exchange.resume()
            stormMetrics = exchange.metrics(["rtes_md_snapshot", "rtes_agent_max_duty_cycle_seconds", "rtes_md_replica"])
        }
        nio?.stop()
        nio = nil
        if let quickfix {
            quickfix.stop()
            if options.keepExchangeFiles {
                print("quickfix: settings and log kept in \(quickfix.directory)")
            } else {
                try? FileManager.default.removeItem(atPath: quickfix.directory)
            }
        }
        quickfix = nil
        for (kind, exchange) in exchanges.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let status = exchange.stop()
            if unavailable[kind] == nil && status != 0 {
                print("\(kind.rawValue): trading_exchange did not exit cleanly (status \(status.map(String.init) ?? "killed")); log: \(exchange.logPath)")
            } else if !options.keepExchangeFiles {
                try? FileManager.default.removeItem(atPath: exchange.directory)
            } else {
                print("\(kind.rawValue): configuration and log kept in \(exchange.directory)")
            }
        }
        exchanges = [:]
    }

    /// Enter → Accepted of rtes-md-storm against rtes-md (same exchange, same book), as ratios.
    /// Writes every measured server's Enter and Cancel distributions (all rounds) as .hgrm
    /// files; returns their paths.
    func writeHgrms(prefix: String) throws -> [String] {
        var paths: [String] = []
        for kind in ServerKind.allCases {
            for (name, histogram) in [("enter", enter[kind]), ("cancel", cancel[kind])] {
                guard let histogram, histogram.totalCount > 0 else { continue }
                let path = "\(prefix)-\(kind.rawValue)-\(name).hgrm"
                try writeHgrm(histogram, to: path)
                paths.append(path)
            }
        }
        return paths
    }

    func stormComparison() -> String? {
        guard let quiet = enter[.rtesMarketData].map(LatencySummary.init),
              let stormy = enter[.rtesMarketDataStorm].map(LatencySummary.init) else { return nil }
        func ratio(_ a: UInt64, _ b: UInt64) -> String { String(format: "%.2f×", Double(a) / Double(max(b, 1))) }
        var lines = ["Enter → Accepted, snapshot storm (\(options.snapshotClients) clients, \(options.snapshotPauseMs) ms pause between snapshots, \(options.bookOrders) resting orders) against none:",
                     "| | p50 | p99 | p99.9 | max |", "|---|---|---|---|---|"]
        for (name, s) in [("rtes-md", quiet), ("rtes-md-storm", stormy)] {
            lines.append("| \(name) | \(formatNanoseconds(s.p50)) | \(formatNanoseconds(s.p99)) | \(formatNanoseconds(s.p999)) | \(formatNanoseconds(s.max)) |")
        }
        lines.append("| storm / none | \(ratio(stormy.p50, quiet.p50)) | \(ratio(stormy.p99, quiet.p99)) | \(ratio(stormy.p999, quiet.p999)) | \(ratio(stormy.max, quiet.max)) |")
        lines.append(String(format: "storm: %d snapshots read (%.1f MB) in %.1f s of rtes-md-storm rounds, %d failed connections",
                            storm.snapshots, Double(storm.bytes) / 1e6, storm.seconds, storm.failures))
        if !stormMetrics.isEmpty {
            lines.append("the exchange's own figures at the end (/metrics):")
            lines += stormMetrics.filter { !$0.hasPrefix("#") }.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    func report(host: BenchmarkHost, pinning: String) -> GatewayReport {
        let latency = options.noLatency ? [] : options.servers.map { kind in
            ServerLatency(
                server: kind.rawValue, about: kind.about, status: unavailable[kind] ?? "measured",
                enter: enter[kind].map(LatencySummary.init), cancel: cancel[kind].map(LatencySummary.init),
                enterToITCH: itch[kind].map(LatencySummary.init), rounds: rounds[kind] ?? [],
                feedRecovery: itch[kind] == nil ? nil
                    : FeedRecovery(gaps: feedRecovery.gaps, requests: feedRecovery.requests, recoveredAddOrders: feedRecovery.recovered))
        }
        func summary(_ kind: ServerKind) -> LatencySummary? { enter[kind].map(LatencySummary.init) }
        func ratio(_ a: UInt64?, _ b: UInt64?) -> Double? {
            guard let a, let b, b > 0 else { return nil }
            return (Double(a) / Double(b) * 100).rounded() / 100
        }
        let floor = summary(.floor), nio = summary(.swiftnio), rtes = summary(.rtes)
        let fix = summary(.rtesFIX), quickfix = summary(.quickfix), tls = summary(.rtesTLS)
        let ratios = Ratios(rtesOverFloorP50: ratio(rtes?.p50, floor?.p50), rtesOverFloorP99: ratio(rtes?.p99, floor?.p99),
                            nioOverRTESP50: ratio(nio?.p50, rtes?.p50), nioOverFloorP50: ratio(nio?.p50, floor?.p50),
                            fixOverOUCHP50: ratio(fix?.p50, rtes?.p50), fixOverOUCHP99: ratio(fix?.p99, rtes?.p99),
                            quickfixOverFIXP50: ratio(quickfix?.p50, fix?.p50), quickfixOverFIXP99: ratio(quickfix?.p99, fix?.p99),
                            tlsOverPlainP50: ratio(tls?.p50, rtes?.p50), tlsOverPlainP99: ratio(tls?.p99, rtes?.p99))
        func stated(_ value: Double?, _ detail: String) -> String { value.map { String(format: "%.2f× (%@)", $0, detail) } ?? "—" }
        let rtesThroughput = throughput.first { $0.server == ServerKind.rtes.rawValue }
        let marketDataThroughput = throughput.first { $0.server == ServerKind.rtesMarketData.rawValue }
        let withMarketData = summary(.rtesMarketData)
        let addedP50 = withMarketData.flatMap { md in rtes.map { Int64(md.p50) - Int64($0.p50) } }
        let throughputRatio = marketDataThroughput.flatMap { md in rtesThroughput.map { md.ordersPerSecond / $0.ordersPerSecond } }
        let fixThroughput = throughput.first { $0.server == ServerKind.rtesFIX.rawValue }
        let tlsThroughput = throughput.first { $0.server == ServerKind.rtesTLS.rawValue }
        func added(_ a: UInt64?, _ b: UInt64?) -> Int64? { a.flatMap { a in b.map { Int64(a) - Int64($0) } } }
        let tlsAddedP50 = added(tls?.p50, rtes?.p50), tlsAddedP99 = added(tls?.p99, rtes?.p99)
        let tlsThroughputRatio = tlsThroughput.flatMap { t in rtesThroughput.map { t.ordersPerSecond / $0.ordersPerSecond } }
        func p50s(_ named: [(String, LatencySummary?)]) -> String {
            named.map { "\($0.0) \($0.1.map { formatNanoseconds($0.p50) } ?? "—")" }.joined(separator: ", ")
        }
        let goals = [
            Goal(goal: "RTES p50 ≤ 1.3 × floor p50",
                 measured: stated(ratios.rtesOverFloorP50, "RTES \(rtes.map { formatNanoseconds($0.p50) } ?? "—"), floor \(floor.map { formatNanoseconds($0.p50) } ?? "—")"),
                 met: ratios.rtesOverFloorP50.map { $0 <= 1.3 }),
            Goal(goal: "RTES p99 ≤ 1.5 × floor p99",
                 measured: stated(ratios.rtesOverFloorP99, "RTES \(rtes.map { formatNanoseconds($0.p99) } ?? "—"), floor \(floor.map { formatNanoseconds($0.p99) } ?? "—")"),
                 met: ratios.rtesOverFloorP99.map { $0 <= 1.5 }),
            Goal(goal: "SwiftNIO p50 ≥ 3 × RTES p50",
                 measured: stated(ratios.nioOverRTESP50, "SwiftNIO \(nio.map { formatNanoseconds($0.p50) } ?? "—")"),
                 met: ratios.nioOverRTESP50.map { $0 >= 3 }),
            Goal(goal: "RTES ≥ 1 M Enter orders/s over 8 pipelining connections, every answer received",
                 measured: rtesThroughput.map {
                     String(format: "%.2f M Enter orders/s (%.2f M messages/s), %d lost", $0.ordersPerSecond / 1e6, $0.messagesPerSecond / 1e6, $0.lost)
                 } ?? "—",
                 met: rtesThroughput.map { $0.ordersPerSecond >= 1e6 && $0.lost == 0 && $0.connections == 8 }),
            Goal(goal: "(issue 5) market data adds < 1 µs to Enter → Accepted p50 (rtes-md − rtes)",
                 measured: addedP50.map { "\($0) ns (rtes-md \(formatNanoseconds(withMarketData!.p50)), rtes \(formatNanoseconds(rtes!.p50)))" } ?? "—",
                 met: addedP50.map { $0 < 1_000 }),
            Goal(goal: "(issue 5) market data costs < 10 % of the order rate (rtes-md / rtes, 8 connections)",
                 measured: throughputRatio.map { String(format: "%.2f× (%.2f M against %.2f M Enter orders/s; one thread for gateway, engine and feed)",
                                                        $0, marketDataThroughput!.ordersPerSecond / 1e6, rtesThroughput!.ordersPerSecond / 1e6) } ?? "—",
                 met: throughputRatio.map { $0 >= 0.9 }),
            Goal(goal: "(issue 12) FIX p50 ≤ 1.2 × OUCH p50 (rtes-fix NewOrderSingle → ExecutionReport New / rtes Enter → Accepted)",
                 measured: stated(ratios.fixOverOUCHP50, p50s([("rtes-fix", fix), ("rtes", rtes)])),
                 met: ratios.fixOverOUCHP50.map { $0 <= 1.2 }),
            Goal(goal: "(issue 12) QuickFIX acceptor p50 ≥ 5 × RTES FIX p50 (quickfix / rtes-fix)",
                 measured: stated(ratios.quickfixOverFIXP50, p50s([("quickfix", quickfix), ("rtes-fix", fix)])),
                 met: ratios.quickfixOverFIXP50.map { $0 >= 5 }),
            Goal(goal: "(issue 12) TLS adds ≤ 2 µs to OUCH p50 (rtes-tls − rtes)",
                 measured: tlsAddedP50.map { "\($0) ns (\(p50s([("rtes-tls", tls), ("rtes", rtes)])))" } ?? "—",
                 met: tlsAddedP50.map { $0 <= 2_000 }),
            Goal(goal: "(issue 12, reported) TLS's cost on OUCH p99 (rtes-tls − rtes)",
                 measured: tlsAddedP99.map { "\($0) ns (rtes-tls \(formatNanoseconds(tls!.p99)), rtes \(formatNanoseconds(rtes!.p99)))" } ?? "—",
                 met: nil),
            Goal(goal: "(issue 12, reported) TLS's cost on OUCH throughput (rtes-tls / rtes, 8 connections; the client encrypts and decrypts on its one thread)",
                 measured: tlsThroughputRatio.map { String(format: "%.2f× (%.2f M against %.2f M Enter orders/s)", $0,
                                                           tlsThroughput!.ordersPerSecond / 1e6, rtesThroughput!.ordersPerSecond / 1e6) } ?? "—",
                 met: nil),
            Goal(goal: "(issue 12, reported) FIX over 8 pipelining connections, every answer received",
                 measured: fixThroughput.map {
                     String(format: "%.2f M NewOrderSingle/s (%.2f M messages/s), %d lost", $0.ordersPerSecond / 1e6, $0.messagesPerSecond / 1e6, $0.lost)
                 } ?? "—",
                 met: fixThroughput.map { $0.lost == 0 }),
        ]
        let method = """
            Latency: 1 connection, closed loop, \(options.rounds) rounds × (\(options.warmup) warm-up + \(options.orders) measured) \
            orders per server, the servers' order rotating per round; each order is an Enter Order (buy 100 AAPL at 220.00, day, \
            resting far from any touch) timed to its Accepted, then its Cancel timed to its Canceled, so one order rests at a time. \
            TSC read before send() and right after the recv() that brought the answer (rdtscp). Throughput: \
            \(throughputAccounts.count) connections on one client thread, \(options.window) messages outstanding each, Enter and \
            Cancel alternating, \(options.throughputSeconds) s or \(options.throughputMaxMessages) messages per connection, every \
            message answered. rtes runs with market_data.enabled false, rtes-md with it true; for rtes-md the client also \
            joins the feed's group and times Enter → the Add Order datagram (CLOCK_REALTIME before send against the \
            kernel's SO_TIMESTAMPNS receive stamp). rtes-fix and quickfix: the same orders as FIX 4.4 NewOrderSingle \
            (limit, day) timed to the ExecutionReport New, then OrderCancelRequest timed to the ExecutionReport Canceled. \
            rtes-tls: OUCH over TLS, the client's encryption before the first TSC read and its decryption after the second.
            """
        return GatewayReport(
            host: host, command: CommandLine.arguments.joined(separator: " "), pinning: pinning, method: method,
            packetBytes: ["enter_order": BenchMarket.enterPacketBytes, "accepted": BenchMarket.acceptedPacketBytes,
                          "cancel_order": BenchMarket.cancelPacketBytes, "canceled": BenchMarket.canceledPacketBytes],
            latency: latency, ratios: ratios, throughput: throughput, throughputNotes: throughputNotes,
            floorRing: floorSetupFlags.map(FloorServer.describe), goals: goals)
    }
}
