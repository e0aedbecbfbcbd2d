import ArgumentParser
import BenchSupport
import CExchangeShim
import Foundation
import Histogram

/// Wire-to-wire order entry latency on loopback, side by side in one run: the floor (a
/// minimal C io_uring server answering packets of the same sizes), the same protocol served
/// through SwiftNIO with the real engine, and RTES itself (`trading_exchange` as a child
/// process). Then sustained throughput over 8 pipelining connections.
@main
struct GatewayBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench",
        abstract: "Order entry wire-to-wire: the C io_uring floor, SwiftNIO and RTES side by side; writes results/gateway.json.",
        discussion: """
            Latency: one connection, closed loop (Enter Order → Accepted, then its Cancel → Canceled, repeat), client \
            spinning on a non-blocking socket on --client-cpu, each server on --server-cpu, one server running at a time. \
            Rounds rotate the order of the servers; each round has its own connection, login and warm-up. RTES is paused \
            (SIGSTOP) while the others run so that its spinning thread leaves the CPU to them.

            rtes-md-storm is the rtes-md exchange with a big book (--book-orders resting orders, put on before the first \
            round) while --snapshot-clients connections to its snapshot service each read a whole snapshot, log out and \
            connect again, back to back, on one client thread (poll) on --client-cpu; rtes-md runs on the same book without \
            them. Name both in --servers to compare them side by side.

            rtes-fix is the rtes exchange's FIX 4.4 port (fix.port): NewOrderSingle → ExecutionReport New, then \
            OrderCancelRequest → ExecutionReport Canceled, from a FIX initiator of the benchmark's own (Logon with \
            ResetSeqNumFlag, Username, Password). quickfix is QuickFIX's C++ acceptor (--quickfix-acceptor, a child process \
            pinned to --server-cpu) answering the same messages with the same ExecutionReports, with no matching behind them. \
            rtes-tls is a third trading_exchange with gateway.tls on (--tls-certificate, --tls-key), the OUCH client speaking \
            TLS (trusting --tls-ca); its packets are encrypted before the clock starts and decrypted after it stops, so the \
            round trip holds the exchange's TLS work and the longer bytes on the wire. benchmarks/fix.sh runs these side by side.

            rtes-md is a second trading_exchange with market_data.enabled (ITCH 5.0 in MoldUDP64 to a loopback multicast \
            group, the publisher on the same thread as gateway and engine): beside its Enter → Accepted, the client joins \
            the group and times Enter → the Add Order on the feed (CLOCK_REALTIME before the send, against the kernel's \
            SO_TIMESTAMPNS receive stamp of the datagram — on loopback, the moment it is on the wire). rtes beside rtes-md \
            is what market data costs the order path.

            Throughput: --connections logged-in connections driven by one client thread, each with --window messages \
            outstanding, alternating Enter and Cancel, for --throughput-seconds; every message must be answered.

            RTES is started from --exchange-binary on a generated configuration (in /tmp/gateway-bench.*, removed at the \
            end unless --keep-exchange-files) with RTES_API_KEYS_FILE=--api-keys; RTES_* variables in the environment \
            still override it. It is killed with the benchmark whatever ends it (setpriv --pdeathsig KILL).
            """)

    @Option(parsing: .upToNextOption, help: "Servers to measure: floor, swiftnio, rtes, rtes-md, rtes-md-storm, rtes-fix, quickfix, rtes-tls.") var servers: [ServerKind] = ServerKind.standard
    @Option(help: "Measured orders per server per round (each also cancelled).") var orders: Int = 50_000
    @Option(help: "Warm-up orders per server per round, not recorded.") var warmup: Int = 10_000
    @Option(help: "Rounds; the servers' order rotates from round to round.") var rounds: Int = 3
    @Option(help: "CPU of the client thread.") var clientCPU: Int = 0
    @Option(help: "CPU of every server (floor thread, SwiftNIO event loop, RTES's shared agent thread).") var serverCPU: Int = 1
    @Option(help: ArgumentHelp("SCHED_FIFO priority for the client and server threads (0: the normal scheduler).",
                               discussion: "RTES gets it as performance.realtime_priority. A spinning SCHED_FIFO thread is throttled 50 ms of every second by kernel.sched_rt_runtime_us unless the host is tuned: each measurement is followed by a 0.6 s pause, but one longer than 0.95 s still meets the throttle (maxima of 40–54 ms)."))
    var realtimePriority: Int = 0
    @Option(help: "The trading_exchange binary (build it with swift build -c release --product trading_exchange in the repository root).")
    var exchangeBinary: String = "../.build/release/trading_exchange"
    @Option(help: "The API keys file: the accounts the client logs in with, given to RTES as RTES_API_KEYS_FILE and read by the SwiftNIO server.")
    var apiKeys: String = "../configs/api_keys.dev.json"
    @Option(help: "Account of the latency connection.") var latencyAccount: String = "LOAD1"
    @Option(parsing: .upToNextOption, help: "Accounts of the throughput connections (one connection each).")
    var throughputAccounts: [String] = (1...8).map { "LOAD\($0)" }
    @Option(help: "Messages outstanding per throughput connection.") var window: Int = 1_024
    @Option(help: "Seconds each throughput run sends for.") var throughputSeconds: Double = 3
    @Option(help: "Messages per throughput connection at most (half are Enter Orders).") var throughputMaxMessages: Int = 1_000_000
    @Option(parsing: .upToNextOption, help: "Servers of the throughput runs.") var throughputServers: [ServerKind] = ServerKind.standard
    @Option(help: "rtes-md-storm: snapshot clients reading snapshots back to back during its rounds.") var snapshotClients: Int = 8
    @Option(help: "rtes-md-storm: each snapshot client's pause between a snapshot and its next connection, ms.") var snapshotPauseMs: Int = 0
    @Option(help: "rtes-md-storm: resting orders put on the book (account --book-account) before the first round.") var bookOrders: Int = 80_000
    @Option(help: "Account that puts the book's resting orders.") var bookAccount: String = "LOAD2"
    @Flag(help: "The latency client waits for each answer in poll(2) instead of spinning on recv, so that snapshot-storm clients on its CPU (at nice 19) run while it waits and do not take its CPU when the answer arrives. Applies to every server of the run.")
    var clientBlocks = false
    @Option(help: "market_data.snapshot_max_mb_per_second for the rtes-md exchange (not written when absent: the default, 64).") var snapshotMaxMbPerSecond: Int?
    @Option(help: "market_data.snapshot_work_per_turn for the rtes-md exchange (not written when absent: the default).") var snapshotWorkPerTurn: Int?
    @Option(help: "quickfix: the QuickFIX acceptor program (benchmarks/fix.sh builds it from quickfix-acceptor/acceptor.cpp).")
    var quickfixAcceptor: String = ".build/quickfix-acceptor/quickfix-acceptor"
    @Option(help: "quickfix: QuickFIX's FIX 4.4 data dictionary (FIX44.xml; .ci/quickfix fetches it).")
    var fixDataDictionary: String = "../.build/checkers/quickfix/FIX44.xml"
    @Option(help: "rtes-tls: the exchange's certificate (PEM; RTES_TLS_CERT). configs/tls/make-dev-certs.sh makes one.")
    var tlsCertificate: String?
    @Option(help: "rtes-tls: the exchange's private key (PEM; RTES_TLS_KEY).") var tlsKey: String?
    @Option(help: "rtes-tls: the CA the client trusts the exchange's certificate by (PEM).") var tlsCA: String?
    @Flag(help: "Skip the latency runs.") var noLatency = false
    @Flag(help: "Skip the throughput runs.") var noThroughput = false
    @Option(help: "Seconds RTES may take to start (its gateway and admin ports accept).") var exchangeStartTimeout: Double = 60
    @Flag(help: "Keep RTES's generated configuration and log.") var keepExchangeFiles = false
    @Option(help: "Seconds an answer may take before a latency run fails.") var replyTimeout: Double = 2
    @Option(help: "Where to write the JSON results.") var output: String = "results/gateway.json"
    @Option(help: ArgumentHelp("Also write each server's latency distributions, all rounds, as .hgrm files (µs): PREFIX-SERVER-enter.hgrm and PREFIX-SERVER-cancel.hgrm; benchmarks/plot-hgrm.sh draws them.",
                               valueName: "PREFIX")) var hgrmPrefix: String?

    func validate() throws {
        guard orders > 0, warmup >= 0, rounds > 0, window > 0, throughputSeconds > 0, throughputMaxMessages > 1 else {
            throw ValidationError("--orders, --rounds, --window, --throughput-seconds and --throughput-max-messages must be positive")
        }
        guard clientCPU != serverCPU else { throw ValidationError("--client-cpu and --server-cpu must differ") }
    }

    func run() throws {
        let clock = TSCClock()
        let host = BenchmarkHost.current(pinnedCPU: clientCPU, clock: clock)
        let scheduling = realtimePriority > 0 ? "SCHED_FIFO \(realtimePriority)" : "SCHED_OTHER"
        OrderEntryConnection.waitsInPoll = clientBlocks
        let pinning = "client thread on CPU \(clientCPU), every server on CPU \(serverCPU) (one server running at a time), \(scheduling)"
            + (clientBlocks ? "; the latency client waits in poll(2), snapshot-storm clients run at nice 19" : "")
        print("gateway-bench on \(host.summary)")
        print(pinning)

        let accounts = try BenchAccount.load(path: apiKeys)
        func account(_ name: String) throws -> BenchAccount {
            guard let found = accounts.first(where: { $0.username.description == name }) else {
                throw BenchFailure("no account \(name) in \(apiKeys)")
            }
            return found
        }
        let latencyAccount = try account(latencyAccount)
        let throughputAccounts = try throughputAccounts.map(account)

        var bench = Bench(clock: clock, options: self, latencyAccount: latencyAccount, throughputAccounts: throughputAccounts,
                          bookAccount: try account(bookAccount), snapshotAccount: throughputAccounts.last ?? latencyAccount)
        defer { bench.shutDown() }
        try bench.startServers(accounts: accounts)
        if !noLatency { try bench.measureLatency() }
        if !noThroughput { bench.measureThroughput() }
        bench.shutDown()

        let report = bench.report(host: host, pinning: pinning)
        print()
        print(report.latencyTable())
        if let itch = report.itchTable() {
            print()
            print(itch)
        }
        if !report.throughput.isEmpty {
            print()
            print(report.throughputTable())
        }
        report.throughputNotes.forEach { print("throughput \($0)") }
        if let storm = bench.stormComparison() {
            print()
            print(storm)
        }
        print()
        print(report.goalTable())
        try writeJSON(report, to: output)
        print("wrote \(output)")
        if let hgrmPrefix {
            for path in try bench.writeHgrms(prefix: hgrmPrefix) { print("wrote \(path)") }
        }
        if report.throughput.contains(where: { $0.lost > 0 }) { throw ExitCode(1) }
    }
}

enum ServerKind: String, CaseIterable, Codable, ExpressibleByArgument {
    case floor
    case swiftnio
    case rtes
    case rtesMarketData = "rtes-md"
    case rtesMarketDataStorm = "rtes-md-storm"
    case rtesFIX = "rtes-fix"
    case quickfix
    case rtesTLS = "rtes-tls"

    /// The servers measured unless --servers says otherwise.
    static var standard: [ServerKind] { [.floor, .swiftnio, .rtes, .rtesMarketData] }

    var about: String {
        switch self {
        case .floor: "C io_uring server answering packets of the exchange's sizes: multishot recv into a provided-buffer ring, DEFER_TASKRUN + SINGLE_ISSUER + TASKRUN_FLAG, completion queue busy-polled, no protocol work"
        case .swiftnio: "SwiftNIO 2, one event loop (epoll), ByteToMessageDecoder framing, RTES's codecs and RiskCheckedEngine in process on the loop"
        case .rtes: "trading_exchange: io_uring gateway and engine, threading_mode shared, idle_strategy busy_spin, pinned, market data off"
        case .rtesMarketData: "trading_exchange as rtes with market_data.enabled: ITCH 5.0 / MoldUDP64 to a loopback multicast group from the same thread"
        case .rtesMarketDataStorm: "the rtes-md exchange while snapshot clients read snapshots of its book back to back"
        case .rtesFIX: "the rtes exchange's FIX 4.4 port: NewOrderSingle → ExecutionReport New, OrderCancelRequest → ExecutionReport Canceled"
        case .quickfix: "QuickFIX 1.15 C++ SocketAcceptor (MemoryStore, no log, FIX44.xml validation) answering the same FIX messages with ExecutionReports, no engine"
        case .rtesTLS: "trading_exchange as rtes with gateway.tls on: OUCH over TLS (OpenSSL through memory BIOs on the gateway's thread)"
        }
    }

    /// Whether the client speaks FIX 4.4 to it (else OUCH over SoupBinTCP).
    var speaksFIX: Bool { self == .rtesFIX || self == .quickfix }
}
