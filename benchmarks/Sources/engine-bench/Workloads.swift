import ExchangeCore
import ExchangeRisk
import OrderFlow

/// A recorded command stream and the engine it was recorded against.
struct Workload {
    var key: String
    var title: String
    var description: String
    var configuration: EngineConfiguration
    var limits: RiskLimits
    var commands: [EngineCommand]

    /// Records `count` commands in closed loop against a risk-checked engine.
    static func recorded(key: String, title: String, description: String, configuration: EngineConfiguration,
                         limits: RiskLimits, profile: OrderFlowProfile, seed: UInt64, count: Int) -> Workload {
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: count) { recorder.runCollecting($0) }
        return Workload(key: key, title: title, description: description, configuration: configuration,
                        limits: limits, commands: commands)
    }
}

enum Workloads {
    static let aapl = InstrumentSpec(symbol: Symbol("AAPL")!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000,
                                     referencePrice: 1_500_000)

    /// Risk on, limits generous enough that the flows are not rejected wholesale.
    static let limits = RiskLimits(maxOrderShares: 1_000_000, maxOpenNotional: 1_000_000_000 * 10_000,
                                   maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)

    /// (a) exchange-core's published mix on one symbol.
    static func exchangeCoreMix(count: Int) -> Workload {
        .recorded(
            key: "a_exchange_core_mix", title: "(a) exchange-core mix, 1 symbol",
            description: "9 % resting limit, 3 % IOC, 6 % cancel, 82 % move (replace to a new price); ~1,000 resting orders per side; 1,000 clients; seed 1",
            configuration: EngineConfiguration(instruments: [aapl], orderPoolSize: 1_000_000, maxClients: 1_024,
                                               priceLevels: 65_536),
            limits: limits, profile: .exchangeCoreMix(instrument: aapl), seed: 1, count: count)
    }

    /// (b) 70 % add / 20 % cancel / 10 % aggressive across 100 symbols.
    static func multiSymbol(count: Int) -> Workload {
        let instruments = SyntheticInstruments.make(count: 100)
        return .recorded(
            key: "b_multi_symbol", title: "(b) add/cancel/aggressive, 100 symbols",
            description: "70 % resting limit, 20 % cancel, 10 % aggressive limit (a third may rest) across 100 symbols; ~50 resting orders per side per symbol; seed 2",
            configuration: EngineConfiguration(instruments: instruments, orderPoolSize: 1_000_000, maxClients: 1_024,
                                               priceLevels: 16_384),
            limits: limits, profile: .multiSymbol(instruments: instruments), seed: 2, count: count)
    }

    /// (c) A deep book swept in one order: 10,000 resting sells over 1,000 price levels,
    /// then one buy that takes all of them; repeated.
    static func deepBookSweep(cycles: Int) -> Workload {
        let levels = 1_000
        let perLevel = 10
        var commands: [EngineCommand] = []
        var time: Timestamp = 34_200_000_000_000
        var token: UInt64 = 0
        let seller = Firm("SELL")!
        for _ in 0..<cycles {
            for level in 0..<levels {
                for n in 0..<perLevel {
                    time += 100
                    token += 1
                    let client = ClientID((level * perLevel + n) % 100)
                    commands.append(.enter(EnterOrder(
                        timestamp: time, client: client, token: OrderToken(number: token), side: .sell, shares: 100,
                        symbol: aapl.symbol, price: aapl.referencePrice + Price(level + 1) * aapl.tickSize, firm: seller)))
                }
            }
            time += 100
            token += 1
            commands.append(.enter(EnterOrder(
                timestamp: time, client: 500, token: OrderToken(number: token), side: .buy,
                shares: Shares(levels * perLevel * 100), symbol: aapl.symbol,
                price: aapl.referencePrice + Price(levels) * aapl.tickSize, timeInForce: .immediateOrCancel,
                firm: Firm("BUYR")!)))
        }
        return Workload(
            key: "c_deep_book_sweep", title: "(c) deep-book sweep",
            description: "10,000 resting sells of 100 shares over 1,000 one-cent levels, then one IOC buy that takes all 10,000; repeated \(cycles) times",
            configuration: EngineConfiguration(instruments: [aapl], orderPoolSize: 1_000_000, maxClients: 1_024,
                                               priceLevels: 65_536),
            limits: RiskLimits(maxOrderShares: 10_000_000, maxOpenNotional: .max, maxOrdersPerSecond: 1_000_000_000,
                               priceCollarsEnabled: true),
            commands: commands)
    }
}
