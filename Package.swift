// swift-tools-version: 6.1
// RTES — a real-time trading exchange simulator. Target graph (pure logic at the bottom,
// I/O at the edges; each line: the target, what it is, ← the package targets it builds on):
//
//   ExchangeCore        order book, matching, events (no Foundation, no I/O, no clock, no threads) ← CCPUHints
//   ExchangeRisk        pre-trade risk in front of the core, same thread ← Core
//   OrderFlow           seeded command streams: workloads for tests, replay and benchmarks ← Core, Risk
//   ExchangeRuntimePolicy  the idle-strategy kind, the hugepage policy and the durability mode: chosen by the configuration, applied
//                       by the runtime (depends on nothing, so neither imports the other)
//   ExchangeConfig      the JSON configuration: parsing, validation, environment overrides ← Core, Risk, RuntimePolicy
//   ExchangeWire        codecs, pure and allocation-free: SoupBinTCP 3.0, OUCH 4.2, ITCH 5.0, MoldUDP64,
//                       Glimpse framing ← Core
//   ExchangeFIX         FIX 4.4, pure and allocation-free: the codec, the acceptor's session state machine, the
//                       ClOrdID↔token mapping and ExecutionReports (not yet on a port; docs/FIX.md) ← Core
//   ExchangeBookReplica order books rebuilt from ITCH, kept by the publisher and by feed handlers
//                       ← Wire, Core, CCPUHints
//   ExchangeClock       the Clock abstraction: TSCClock (production), ManualClock (tests) ← CClock
//   ExchangeRuntime     machinery: memory regions, SPSC rings, io_uring and the TCP connection layer, agents and their runner, idle
//                       strategies, the counters region (names no module's counters)
//                       ← CExchangeShim, Clock, RuntimePolicy
//   ExchangeEngine      the engine agent, the command envelope, the order-book snapshot slot ← Runtime, Core, Risk
//   ExchangeJournal     the durable record of the day: journal records and segments (docs/DURABILITY.md)
//                       ← Engine, Core, Runtime, Clock, CChecksum, CExchangeShim
//   ExchangeAccess      the one login check of every TCP service: scrypt credentials, login throttling, the
//                       authenticator agent off the hot threads and the rings to it (logins, and the
//                       gateway's reject notices for the debug log) ← Config, Wire, Core, Runtime, Clock (and swift-crypto, swift-log)
//   ExchangeGateway     the order-entry gateway agent: SoupBinTCP sessions over io_uring
//                       ← Wire, Runtime, Engine, Config, Access, Clock, CExchangeShim, TLS
//   ExchangeMarketData  the market-data agent: ITCH publisher, re-request server, snapshot service
//                       ← Wire, BookReplica, Runtime, Engine (sequenced events), Access, Clock, CExchangeShim, TLS
//   ExchangeFeed        client side of the feed: FeedHandler, FeedClient, SnapshotClient ← BookReplica, Wire, Clock, TLS
//                       (links no liburing, libnuma or libhugetlbfs)
//   ExchangeTLS         TLS driven by bytes (OpenSSL through memory BIOs): contexts, channels, reload, client-certificate
//                       accounts, the kernel-TLS probe ← CTLSShim
//   ExchangeClient      a SoupBinTCP/OUCH client for tests and tools, and the load generator's engine
//                       ← Wire, Core, OrderFlow, Clock, CClock, CClientShim, TLS
//   ExchangeOps         the appliance assembled from configuration, the admin HTTP plane, metrics, health,
//                       recovery of the day from its journal
//                       ← Runtime, Engine, Gateway, MarketData, Access, Journal, Wire, Config, Risk, OrderFlow, Tools, TLS,
//                       Leadership (the appliance campaigns when `leadership` is configured), Feed (the web
//                       view's tape follows the feed) (and swift-nio, swift-log)
//   trading_exchange    the exchange process ← Ops, Config, Core (the state hash's text), Runtime
//   rtes-stat           prints a running exchange's counters from shared memory ← Ops (the summary that names
//                       the modules' counters), Runtime, Config
//   rtes-feed           follows the feed, rebuilds the books ← Feed, Config
//   rtes-client         sends one order, cancel, replace or modify from the command line ← Client, Clock, CClock
//   rtes-loadgen        N connections of order flow, round trips in HdrHistogram ← Client, Clock
//   rtes-keys           hashes a secret for the API keys file (read from stdin), checks a keys file ← Access, Config
//   rtes-replay         replays a generated order stream through the engine and summarises it (and writes it as a
//                       journal, for `rtes-journal replay`) ← Core, Risk, OrderFlow, Wire, Journal
//   ExchangeLeadership  leadership through etcd: a lease-backed leader key won by a create-if-absent
//                       transaction, kept alive against a local deadline, its revision the fencing
//                       token; followers watch it (etcd's v3 JSON gateway) ← Config, Clock, Runtime (the gate) (and async-http-client)
//   rtes-leader         who leads, campaign for leadership until SIGTERM, resign ← Leadership, Config, Clock, Tools
//   ExchangeDropCopy    the trade store: follows the journal, derives the day's orders, executions and trades
//                       with the exchange's own replica (DayReplica) and writes them into PostgreSQL exactly
//                       once (docs/DROPCOPY.md) ← Ops, Journal, Engine, Core, Config, Tools (and postgres-nio, swift-log)
//   rtes-dropcopy       runs the trade store until SIGTERM or the end of a finished journal ← DropCopy, Config, Tools
//   rtes-journal        verifies, dumps, summarises, repairs (a torn tail) and replays a journal directory, and
//                       writes a day snapshot of it (the exchange's own replica) ← Journal, Core, Risk, Config, Ops
//   rtes-admin          an operator's actions on a running exchange through its admin API (plain HTTP) ← Tools
//   ExchangeAgents      liquidity agents: market makers, noise traders, momentum and mean-reversion takers around
//                       a seeded fair value, each an OUCH session reading the ITCH feed (docs/AGENTS.md)
//                       ← Client, Feed, BookReplica, Wire, Core, OrderFlow
//   ExchangeReplay      historical replay: TotalView-ITCH 5.0 files (plain or gzip) read and replayed into a running
//                       exchange over OUCH, reconciled with what users take (docs/REPLAY.md) ← Client, Wire, Core, CZlibShim
//   rtes-itch-replay    replays an ITCH file's chosen symbols into a running exchange; captures the feed to a file
//                       ← Replay, Client, Feed, Config, Tools
//   StrategyKit         market data → signal → risk → execution for strategies: a top-of-book from ITCH walked in place,
//                       client-side risk limits, positions and PnL, two example strategies (docs/STRATEGIES.md)
//                       ← Client, Feed, Wire, Core
//   rtes-strategy       runs an example strategy against a running exchange ← StrategyKit, Client, Feed, Config, Tools
//   rtes-agents         runs a configured population of agents against a running exchange ← Agents, Client, Feed, Config, Tools
//   ExchangeTools       what every executable shares: the version string, password lookup (file, environment,
//                       prompt; never the command line); links nothing
//   CCPUHints           (CShims/) header-only CPU hints the core uses (prefetch)
//   CChecksum           (CShims/) CRC-32C (SSE4.2 when the CPU has it, else a table); links nothing
//   CClock              (CShims/) TSC, pause, CLOCK_MONOTONIC/REALTIME; links nothing
//   CZlibShim           (CShims/) zlib's gzip file reader and writer behind an opaque pointer; links libz
//   CClientShim         (CShims/) error text, TCP_NODELAY, close, timer slack for clients: libc only
//   CExchangeShim       (CShims/) what Swift cannot say directly: affinity, mlock, hugepages, NUMA, liburing's
//                       macros, sockets ← CClock, CClientShim (re-exported); links liburing, libnuma, libhugetlbfs
//   CTLSShim            (CShims/) OpenSSL contexts and BIO-pair sessions behind opaque pointers; links libssl, libcrypto
//
// Tests/ReferenceModel is a naive, obviously-correct exchange the differential tests
// compare the fast engine against; Tests/ExchangeTestSupport holds fixtures several test
// targets share (and `CheckedEngine`, the risk-checked engine that checks its invariants after
// every command); Tests/ExchangeTestRig is the one rig for tests that start a whole exchange
// in-process (`TestExchange`). One test target per module: <Module>Tests.
// CShims/CMallocCounter is a separate package so that its malloc interposer links into tests
// and benchmarks only, never into the appliance.
import PackageDescription

let package = Package(
    name: "RTES",
    products: [
        .library(name: "ExchangeCore", targets: ["ExchangeCore"]),
        .library(name: "ExchangeRisk", targets: ["ExchangeRisk"]),
        .library(name: "OrderFlow", targets: ["OrderFlow"]),
        .library(name: "ExchangeConfig", targets: ["ExchangeConfig"]),
        .executable(name: "rtes-replay", targets: ["rtes-replay"]),
        .executable(name: "rtes-keys", targets: ["rtes-keys"]),
        .library(name: "ExchangeAccess", targets: ["ExchangeAccess"]),
        .executable(name: "trading_exchange", targets: ["trading_exchange"]),
        .executable(name: "rtes-stat", targets: ["rtes-stat"]),
        .executable(name: "rtes-feed", targets: ["rtes-feed"]),
        .library(name: "ExchangeRuntime", targets: ["ExchangeRuntime"]),
        .library(name: "ExchangeEngine", targets: ["ExchangeEngine"]),
        .library(name: "CExchangeShim", targets: ["CExchangeShim"]),
        .library(name: "ExchangeClock", targets: ["ExchangeClock"]),
        .library(name: "ExchangeWire", targets: ["ExchangeWire"]),
        .library(name: "ExchangeFIX", targets: ["ExchangeFIX"]),
        // The benchmarks' TLS client (gateway-bench's rtes-tls).
        .library(name: "ExchangeTLS", targets: ["ExchangeTLS"]),
        .library(name: "ExchangeGateway", targets: ["ExchangeGateway"]),
        .library(name: "ExchangeClient", targets: ["ExchangeClient"]),
        .executable(name: "rtes-client", targets: ["rtes-client"]),
        .executable(name: "rtes-loadgen", targets: ["rtes-loadgen"]),
        .library(name: "ExchangeMarketData", targets: ["ExchangeMarketData"]),
        .library(name: "ExchangeBookReplica", targets: ["ExchangeBookReplica"]),
        .library(name: "ExchangeFeed", targets: ["ExchangeFeed"]),
        .library(name: "ExchangeTools", targets: ["ExchangeTools"]),
        .library(name: "ExchangeJournal", targets: ["ExchangeJournal"]),
        .executable(name: "rtes-journal", targets: ["rtes-journal"]),
        .executable(name: "rtes-admin", targets: ["rtes-admin"]),
        .library(name: "ExchangeLeadership", targets: ["ExchangeLeadership"]),
        .executable(name: "rtes-leader", targets: ["rtes-leader"]),
        .library(name: "ExchangeDropCopy", targets: ["ExchangeDropCopy"]),
        .executable(name: "rtes-dropcopy", targets: ["rtes-dropcopy"]),
        .library(name: "ExchangeReplay", targets: ["ExchangeReplay"]),
        .executable(name: "rtes-itch-replay", targets: ["rtes-itch-replay"]),
        .library(name: "StrategyKit", targets: ["StrategyKit"]),
        .executable(name: "rtes-strategy", targets: ["rtes-strategy"]),
        // For the benchmarks' side-by-side comparison only.
        .library(name: "ReferenceModel", targets: ["ReferenceModel"]),
        .library(name: "ExchangeAgents", targets: ["ExchangeAgents"]),
        .executable(name: "rtes-agents", targets: ["rtes-agents"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(path: "CShims/CMallocCounter"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),  // LogEvent (OperatorLogHandler)
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // etcd's v3 JSON gateway, for ExchangeLeadership only.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // PostgreSQL's wire protocol, for the trade store (ExchangeDropCopy) only.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "CCPUHints", path: "CShims/CCPUHints"),
        .target(name: "CClock", path: "CShims/CClock"),
        .target(name: "CClientShim", path: "CShims/CClientShim"),
        .target(name: "CZlibShim", path: "CShims/CZlibShim", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CTLSShim", path: "CShims/CTLSShim", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "ExchangeTLS", dependencies: ["CTLSShim"]),
        .target(name: "ExchangeClock", dependencies: ["CClock"]),
        .target(name: "ExchangeTools"),
        .target(name: "ExchangeCore", dependencies: ["CCPUHints"]),
        .target(
            name: "CExchangeShim", dependencies: ["CClock", "CClientShim"], path: "CShims/CExchangeShim",
            linkerSettings: [.linkedLibrary("uring"), .linkedLibrary("numa"), .linkedLibrary("hugetlbfs")]
        ),
        .target(name: "ExchangeRuntimePolicy"),
        .target(name: "ExchangeRuntime", dependencies: ["CExchangeShim", "ExchangeClock", "ExchangeRuntimePolicy"]),
        .target(name: "ExchangeEngine", dependencies: ["ExchangeRuntime", "ExchangeCore", "ExchangeRisk", "CClock"]),
        .target(name: "ExchangeWire", dependencies: ["ExchangeCore"]),
        .target(name: "ExchangeFIX", dependencies: ["ExchangeCore"]),
        .target(name: "CChecksum", path: "CShims/CChecksum"),
        .target(name: "ExchangeJournal", dependencies: ["ExchangeEngine", "ExchangeCore", "ExchangeRuntime", "ExchangeRuntimePolicy", "ExchangeClock", "CChecksum", "CExchangeShim"]),
        .executableTarget(
            name: "rtes-journal",
            dependencies: [
                "ExchangeJournal", "ExchangeEngine", "ExchangeCore", "ExchangeRisk", "ExchangeConfig", "ExchangeTools", "ExchangeOps",
                "ExchangeWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "rtes-admin",
            dependencies: ["ExchangeTools", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "ExchangeLeadership",
            dependencies: [
                "ExchangeConfig", "ExchangeClock", "ExchangeRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "rtes-leader",
            dependencies: [
                "ExchangeLeadership", "ExchangeConfig", "ExchangeClock", "ExchangeTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "ExchangeDropCopy",
            dependencies: [
                "ExchangeOps", "ExchangeJournal", "ExchangeEngine", "ExchangeCore", "ExchangeConfig", "ExchangeTools", "ExchangeRuntime",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "rtes-dropcopy",
            dependencies: [
                "ExchangeDropCopy", "ExchangeConfig", "ExchangeTools", "ExchangeRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ExchangeAccess",
            dependencies: [
                "ExchangeConfig", "ExchangeWire", "ExchangeCore", "ExchangeRuntime", "ExchangeClock",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "ExchangeGateway", dependencies: ["ExchangeWire", "ExchangeRuntime", "ExchangeEngine", "ExchangeCore", "ExchangeConfig", "ExchangeAccess", "ExchangeClock", "CExchangeShim", "ExchangeTLS", "ExchangeFIX"]),
        .target(name: "ExchangeBookReplica", dependencies: ["ExchangeWire", "ExchangeCore", "CCPUHints"]),
        .target(name: "ExchangeMarketData", dependencies: ["ExchangeWire", "ExchangeBookReplica", "ExchangeRuntime", "ExchangeEngine", "ExchangeCore", "ExchangeAccess", "ExchangeClock", "CExchangeShim", "CCPUHints", "ExchangeTLS"]),
        .target(name: "ExchangeFeed", dependencies: ["ExchangeBookReplica", "ExchangeWire", "ExchangeCore", "ExchangeClock", "ExchangeTLS", "ExchangeConfig"]),
        .target(
            name: "ExchangeClient",
            dependencies: [
                "ExchangeWire", "ExchangeCore", "OrderFlow", "ExchangeClock", "CClock", "CClientShim", "ExchangeTLS",
                "ExchangeConfig",  // the shard map (ShardedClient)
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "rtes-client",
            dependencies: [
                "ExchangeClient", "ExchangeClock", "CClock", "ExchangeWire", "ExchangeCore", "ExchangeTools", "ExchangeConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "rtes-loadgen",
            dependencies: [
                "ExchangeClient", "ExchangeClock", "ExchangeWire", "ExchangeCore", "ExchangeTools", "ExchangeConfig",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "ExchangeOps",
            dependencies: [
                "ExchangeRuntime", "ExchangeEngine", "ExchangeClock", "ExchangeConfig", "ExchangeCore", "ExchangeRisk", "OrderFlow", "CExchangeShim",
                "ExchangeGateway", "ExchangeWire", "ExchangeMarketData", "ExchangeAccess", "ExchangeTools", "ExchangeJournal", "CChecksum",
                "ExchangeTLS", "ExchangeLeadership",
                "ExchangeFeed",  // the web view's tape follows the feed (WebViewTape)
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "trading_exchange",
            dependencies: [
                "ExchangeOps", "ExchangeConfig", "ExchangeCore", "ExchangeRuntime", "ExchangeTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "rtes-feed",
            dependencies: [
                "ExchangeFeed", "ExchangeBookReplica", "ExchangeConfig", "ExchangeCore", "ExchangeWire", "ExchangeTools", "ExchangeTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "rtes-stat",
            dependencies: [
                "ExchangeOps", "ExchangeRuntime", "ExchangeConfig", "ExchangeTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "ExchangeRisk", dependencies: ["ExchangeCore"]),
        .target(name: "OrderFlow", dependencies: ["ExchangeCore", "ExchangeRisk"]),
        .target(name: "ExchangeConfig", dependencies: ["ExchangeCore", "ExchangeRisk", "ExchangeRuntimePolicy"]),
        .executableTarget(
            name: "rtes-replay",
            dependencies: [
                "ExchangeCore", "ExchangeRisk", "OrderFlow", "ExchangeConfig", "ExchangeWire", "ExchangeTools", "ExchangeJournal", "ExchangeEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "rtes-keys",
            dependencies: [
                "ExchangeAccess", "ExchangeConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "ReferenceModel", dependencies: ["ExchangeCore", "ExchangeRisk"], path: "Tests/ReferenceModel"),
        .target(name: "ExchangeTestSupport", dependencies: ["ExchangeCore", "ExchangeRisk", "ExchangeWire"], path: "Tests/ExchangeTestSupport"),
        .target(
            name: "ExchangeTestRig",
            dependencies: [
                "ExchangeOps", "ExchangeClient", "ExchangeConfig", "ExchangeRuntime", "ExchangeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ExchangeTestRig"
        ),
        .testTarget(name: "ExchangeCoreTests", dependencies: ["ExchangeCore", "ExchangeTestSupport", "OrderFlow"]),
        // The risk-checked engine (the core behind the risk layer): risk rules, the differential
        // test against the reference model, and the heap-allocation proof.
        .testTarget(
            name: "ExchangeRiskTests",
            dependencies: [
                "ExchangeCore", "ExchangeRisk", "OrderFlow", "ReferenceModel", "ExchangeTestSupport",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(name: "ExchangeConfigTests", dependencies: ["ExchangeConfig", "ExchangeCore", "ExchangeRisk"]),
        .testTarget(
            name: "ExchangeRuntimeTests",
            dependencies: [
                "ExchangeRuntime", "ExchangeClock", "ExchangeConfig", "ExchangeCore", "ExchangeRisk", "CExchangeShim", "OrderFlow", "ExchangeTestSupport",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(
            name: "ExchangeEngineTests",
            dependencies: [
                "ExchangeEngine", "ExchangeRuntime", "ExchangeCore", "ExchangeRisk", "OrderFlow", "ExchangeTestSupport",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(
            name: "ExchangeAccessTests",
            dependencies: [
                "ExchangeAccess", "ExchangeConfig", "ExchangeWire", "ExchangeRuntime", "ExchangeClock", "ExchangeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ExchangeBookReplicaTests", dependencies: ["ExchangeBookReplica", "ExchangeCore"]),
        .testTarget(name: "ExchangeToolsTests", dependencies: ["ExchangeTools"]),
        .testTarget(
            name: "ExchangeJournalTests",
            dependencies: [
                "ExchangeJournal", "ExchangeEngine", "ExchangeCore", "ExchangeTools", "ExchangeRuntime", "ExchangeRuntimePolicy", "ExchangeClock", "CChecksum",
                "CExchangeShim", "ExchangeRisk", "ExchangeConfig", "OrderFlow",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(
            name: "ExchangeDropCopyTests",
            dependencies: [
                "ExchangeDropCopy", "ExchangeOps", "ExchangeJournal", "ExchangeEngine", "ExchangeCore", "ExchangeRisk", "ExchangeConfig",
                "ExchangeRuntime", "ExchangeClock", "OrderFlow", "ExchangeTools", "ExchangeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ExchangeLeadershipTests",
            dependencies: [
                "ExchangeLeadership", "ExchangeConfig", "ExchangeClock",
                // The appliance campaigning and a standby's promotion (PromotionTests).
                "ExchangeOps", "ExchangeClient", "ExchangeCore", "ExchangeJournal", "ExchangeRuntime", "ExchangeWire",
                "ExchangeTestRig", "ExchangeTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ExchangeTLSTests",
            dependencies: ["ExchangeTLS", .product(name: "CMallocCounter", package: "CMallocCounter")]
        ),
        .testTarget(name: "ExchangeFeedTests", dependencies: ["ExchangeFeed", "ExchangeBookReplica", "ExchangeWire", "ExchangeCore"]),
        .testTarget(
            name: "ExchangeOpsTests",
            dependencies: [
                "ExchangeOps", "ExchangeRuntime", "ExchangeEngine", "ExchangeClock", "ExchangeConfig", "ExchangeCore", "ExchangeRisk",
                "ExchangeTestSupport", "ExchangeTestRig", "ExchangeClient", "ExchangeWire", "OrderFlow", "ExchangeJournal", "CChecksum", "ExchangeTLS",
                "ExchangeBookReplica",  // WebViewTapeTests: the books an execution row is priced from
                "ExchangeGateway",  // AdminAPITests: the operators' queue
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["faultfs.c"]
        ),
        .testTarget(
            name: "ExchangeWireTests",
            dependencies: [
                "ExchangeWire", "ExchangeCore", "ExchangeTestSupport",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "ExchangeFIXTests",
            dependencies: [
                "ExchangeFIX", "ExchangeCore",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ],
            exclude: ["fix44-validate.cpp"]
        ),
        .testTarget(
            name: "ExchangeClientTests",
            dependencies: [
                "ExchangeClient", "ExchangeOps", "ExchangeConfig", "ExchangeCore", "ExchangeWire", "ExchangeRuntime",
                "ExchangeClock", "ExchangeTestSupport", "ExchangeTestRig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(
            name: "ExchangeGatewayTests",
            dependencies: [
                "ExchangeGateway", "ExchangeAccess", "ExchangeTestRig", "ExchangeTestSupport", "ExchangeOps", "ExchangeRuntime", "ExchangeEngine",
                "ExchangeConfig", "ExchangeCore", "ExchangeRisk", "ExchangeWire", "OrderFlow", "CExchangeShim", "ExchangeClock",
                .product(name: "CMallocCounter", package: "CMallocCounter"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["NasdaqProtocols", "README.md", "fix-initiator.cpp"]
        ),
        .testTarget(
            name: "ExchangeMarketDataTests",
            dependencies: [
                "ExchangeMarketData", "ExchangeFeed", "ExchangeBookReplica", "ExchangeWire", "ExchangeClock", "ExchangeCore", "ExchangeRisk",
                "ExchangeAccess", "ExchangeConfig", .product(name: "Logging", package: "swift-log"),
                "ExchangeRuntime", "ExchangeEngine", "ExchangeOps",
                "OrderFlow", "ExchangeTestSupport", "ExchangeTestRig", "ExchangeTLS",
                "CExchangeShim", .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .target(name: "ExchangeAgents", dependencies: ["ExchangeClient", "ExchangeFeed", "ExchangeBookReplica", "ExchangeWire", "ExchangeCore", "OrderFlow"]),
        .executableTarget(
            name: "rtes-agents",
            dependencies: [
                "ExchangeAgents", "ExchangeClient", "ExchangeFeed", "ExchangeConfig", "ExchangeCore", "ExchangeTools", "ExchangeClock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "ExchangeReplay", dependencies: ["ExchangeClient", "ExchangeWire", "ExchangeCore", "CZlibShim"]),
        .executableTarget(
            name: "rtes-itch-replay",
            dependencies: [
                "ExchangeReplay", "ExchangeClient", "ExchangeFeed", "ExchangeConfig", "ExchangeCore", "ExchangeWire", "ExchangeTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ExchangeReplayTests",
            dependencies: [
                "ExchangeReplay", "ExchangeClient", "ExchangeFeed", "ExchangeBookReplica", "ExchangeCore", "ExchangeWire", "ExchangeOps",
                "ExchangeTestRig", "ExchangeTestSupport",
            ]
        ),
        .target(name: "StrategyKit", dependencies: ["ExchangeClient", "ExchangeFeed", "ExchangeWire", "ExchangeCore"]),
        .executableTarget(
            name: "rtes-strategy",
            dependencies: [
                "StrategyKit", "ExchangeClient", "ExchangeFeed", "ExchangeConfig", "ExchangeCore", "ExchangeTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "StrategyKitTests",
            dependencies: [
                "StrategyKit", "ExchangeClient", "ExchangeFeed", "ExchangeCore", "ExchangeWire", "ExchangeOps", "ExchangeTestRig",
                "ExchangeTestSupport", .product(name: "CMallocCounter", package: "CMallocCounter"),
            ]
        ),
        .testTarget(
            name: "ExchangeAgentsTests",
            dependencies: [
                "ExchangeAgents", "ExchangeClient", "ExchangeFeed", "ExchangeCore", "ExchangeWire", "ExchangeOps", "ExchangeTestRig",
                "ExchangeTestSupport", "ExchangeClock",
            ]
        ),
    ]
)
