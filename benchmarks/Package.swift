// swift-tools-version: 6.1
// RTES benchmarks: a package of their own so that the malloc counter they link never
// reaches the appliance. `make bench` builds this in release and runs every benchmark.
import PackageDescription

let package = Package(
    name: "RTESBenchmarks",
    dependencies: [
        .package(name: "RTES", path: ".."),
        .package(path: "../CShims/CMallocCounter"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // gateway-bench's comparison server (the root package already resolves it).
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // SortedSet (a B-tree) sits behind a trait: used only as the comparison in levels-bench.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0", traits: ["UnstableSortedCollections"]),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "engine-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ExchangeCore", package: "RTES"),
                .product(name: "ExchangeRisk", package: "RTES"),
                .product(name: "OrderFlow", package: "RTES"),
                .product(name: "ReferenceModel", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "CMallocCounter", package: "CMallocCounter"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Gateway-style mode (issue 16): the engine agent behind its command ring, fed OUCH.
                .product(name: "ExchangeEngine", package: "RTES"),
                .product(name: "ExchangeRuntime", package: "RTES"),
                .product(name: "ExchangeWire", package: "RTES"),
            ]
        ),
        .executableTarget(
            name: "levels-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ExchangeCore", package: "RTES"),
                .product(name: "OrderFlow", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "SortedCollections", package: "swift-collections"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "marketdata-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ExchangeClock", package: "RTES"),
                .product(name: "ExchangeMarketData", package: "RTES"),
                .product(name: "ExchangeAccess", package: "RTES"),
                .product(name: "ExchangeFeed", package: "RTES"),
                .product(name: "ExchangeRuntime", package: "RTES"),
                .product(name: "ExchangeEngine", package: "RTES"),
                .product(name: "ExchangeCore", package: "RTES"),
                .product(name: "ExchangeRisk", package: "RTES"),
                .product(name: "ExchangeWire", package: "RTES"),
                .product(name: "OrderFlow", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The runtime's SPSC ring written again in C, with its benchmark loops: ring-bench's baseline.
        // A release build compiles C at -O2 (`swift build -c release -v` shows it); no -march=native,
        // which made the C ring 4× slower on the development VM.
        .target(name: "CRingBaseline"),
        .executableTarget(
            name: "ring-bench",
            dependencies: [
                "BenchSupport",
                "CRingBaseline",
                .product(name: "ExchangeRuntime", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Engine snapshots: time and size per million resting orders, file publish, read and restore.
        .executableTarget(
            name: "snapshot-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ExchangeCore", package: "RTES"),
                .product(name: "ExchangeRisk", package: "RTES"),
                .product(name: "ExchangeJournal", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // gateway-bench's floor: a minimal io_uring server answering order-entry packets with
        // packets of the exchange's sizes (same ring design as the gateway, no protocol work).
        .target(name: "CEchoFloor", linkerSettings: [.linkedLibrary("uring")]),
        .executableTarget(
            name: "gateway-bench",
            dependencies: [
                "BenchSupport",
                "CEchoFloor",
                .product(name: "ExchangeCore", package: "RTES"),
                .product(name: "ExchangeRisk", package: "RTES"),
                .product(name: "ExchangeWire", package: "RTES"),
                .product(name: "ExchangeFIX", package: "RTES"),
                .product(name: "ExchangeTLS", package: "RTES"),
                .product(name: "ExchangeConfig", package: "RTES"),
                .product(name: "ExchangeFeed", package: "RTES"),
                .product(name: "CExchangeShim", package: "RTES"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)
