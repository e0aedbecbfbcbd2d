@testable import ExchangeConfig
import ExchangeCore
import Testing

@Suite struct ProfileTests {
    private func loadProfile(_ name: String, host: HostFacts = twoCPUs) throws -> LoadedConfiguration {
        try ConfigurationLoader.load(path: configsDirectory + "/" + name, environment: [:], host: host)
    }

    @Test func developmentProfileRunsOnATwoCPUMachineWithoutRoot() throws {
        let loaded = try loadProfile("config.dev.json")
        let performance = loaded.configuration.performance
        #expect(loaded.warnings.isEmpty)
        #expect(performance.threadingMode == .shared)
        #expect(!performance.enableCPUPinning)
        #expect(performance.hugePages == .auto)
        #expect(!performance.lockMemory)
        #expect(performance.orderPoolSize == 100_000)
        // Journaled without holding answers for the disk, in a directory a clean clone can create.
        #expect(loaded.configuration.durability.mode == .async)
        #expect(loaded.configuration.durability.directory == "data/journal")
        #expect(loaded.configuration.exchange.bindAddress.description == "127.0.0.1")
        #expect((4...6).contains(loaded.configuration.symbols.count))
        #expect(loaded.configuration.symbols.allSatisfy { $0.tickSize == 100 && $0.lotSize == 1 && $0.collarBasisPoints == 1_000 })
        #expect(loaded.configuration.engineConfiguration().problems().isEmpty)
        // An accelerated day with limit up, limit down on short timers, so a pause is seen in minutes.
        #expect(loaded.configuration.tradingDay.enabled && loaded.configuration.tradingDay.clockRate > 1)
        #expect(loaded.configuration.luld.enabled)
        #expect(loaded.configuration.luld.rules.limitStateNanoseconds <= 2_000_000_000)
        #expect(loaded.configuration.luld.rules.pauseNanoseconds <= 15_000_000_000)
    }

    @Test func stagingProfileIsDedicatedAndPinnedToTwoCPUs() throws {
        let loaded = try loadProfile("config.staging.json")
        let performance = loaded.configuration.performance
        #expect(loaded.warnings.isEmpty)
        #expect(performance.threadingMode == .dedicated)
        #expect(performance.enableCPUPinning)
        #expect(Set([performance.cores.gateway, performance.cores.engine, performance.cores.marketData]) == [0, 1])
        #expect(performance.hugePages == .auto)
        #expect(performance.lockMemory)
        #expect(performance.orderPoolSize == 1_000_000)
        // Staging rehearses production's durability: the same gating and disk budget.
        #expect(loaded.configuration.durability.mode == .sync)
        #expect(loaded.configuration.engineConfiguration().problems().isEmpty)
    }

    @Test func productionProfileRequiresHugePagesAndBusySpins() throws {
        let loaded = try loadProfile("config.prod.json")
        let configuration = loaded.configuration
        #expect(configuration.performance.threadingMode == .dedicated)
        #expect(configuration.performance.enableCPUPinning)
        #expect(configuration.performance.hugePages == .require)
        #expect(configuration.performance.lockMemory)
        #expect(configuration.performance.idleStrategy == .busySpin)
        #expect(configuration.durability.mode == .sync)
        #expect(configuration.durability.directory == "/var/lib/rtes/journal")
        #expect(configuration.performance.orderPoolSize == 1_000_000)
        #expect(configuration.exchange.bindAddress.description == "0.0.0.0")
        #expect(configuration.engineConfiguration().problems().isEmpty)
        // On two CPUs the gateway and the feed share CPU 0: allowed, with a warning.
        #expect(loaded.warnings.map(\.path) == ["performance.cores"])
        #expect(try loadProfile("config.prod.json", host: HostFacts(cpuCount: 16)).configuration == configuration)
    }

    @Test func profilesKeepTheEngineOnItsOwnCPU() throws {
        for name in ["config.staging.json", "config.prod.json"] {
            let cores = try loadProfile(name).configuration.performance.cores
            #expect(cores.engine != cores.gateway && cores.engine != cores.marketData, "\(name)")
        }
    }

    @Test func profilesAcceptEnvironmentOverrides() throws {
        let loaded = try ConfigurationLoader.load(
            path: configsDirectory + "/config.dev.json",
            environment: ["RTES_EXCHANGE_TCP_PORT": "9000", "RTES_RISK_MAX_ORDER_SIZE": "5000"], host: twoCPUs)
        #expect(loaded.configuration.exchange.tcpPort == 9_000)
        #expect(loaded.configuration.risk.maxOrderSize == 5_000)
    }
}
