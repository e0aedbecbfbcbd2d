import CMallocCounter
import ExchangeCore
import ExchangeRisk
import ExchangeTestSupport
import OrderFlow
import Testing

/// Proves the engine's hot path allocates nothing: a malloc interposer (CShims/CMallocCounter,
/// linked into tests only) counts every heap operation on this thread while a recorded
/// stream of commands runs through an engine that has already warmed up.
@Suite(.serialized) struct HeapAllocations {
    /// An array of a size known only at run time always lives on the heap: if this is not
    /// counted, the interposer is not in effect and the zeros below would prove nothing.
    @Test func countsTheAllocationsOfSwiftCode() {
        let size = Int.random(in: 64...128)
        rtes_malloc_counter_start()
        let array = [UInt8](repeating: 1, count: size)
        let counts = rtes_malloc_counter_stop()
        #expect(array.count == size)
        #expect(counts.allocations >= 1)
        #expect(counts.bytes >= UInt64(size))
    }

    @Test func matchesRandomizedFlowWithoutTouchingTheHeap() {
        let limits = RiskLimits(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000, maxOrdersPerSecond: 50,
                                priceCollarsEnabled: true)
        let profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8,
                                                  limits: RiskLimitsHint(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000))
        let configuration = Fixtures.configuration(eventBufferCapacity: 64)
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: 2_026, count: 40_000) { recorder.runCollecting($0) }

        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var events = 0
        let counts = commands.withUnsafeBufferPointer { stream in
            for i in 0..<stream.count / 2 { engine.run(stream[i]) { events &+= $0.count } }  // warm-up
            rtes_malloc_counter_start()
            for i in stream.count / 2..<stream.count { engine.run(stream[i]) { events &+= $0.count } }
            return rtes_malloc_counter_stop()
        }
        #expect(events > 40_000)
        #expect(engine.engine.counters.executions > 1_000)
        #expect(engine.engine.counters.suspensions > 0)
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }

    /// Random trading days: phase commands, crosses that suspend and resume, cross-only orders.
    @Test func runsTradingDaysWithoutTouchingTheHeap() {
        let limits = RiskLimits(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000, maxOrdersPerSecond: 50,
                                priceCollarsEnabled: true)
        var profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8,
                                                  limits: RiskLimitsHint(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000))
        profile.tradingPhasePerMille = 10
        profile.crossOrderPerMille = 150
        let configuration = Fixtures.configuration(eventBufferCapacity: 64)
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: 2_027, count: 40_000) { recorder.runCollecting($0) }

        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var fills = 0
        let counts = commands.withUnsafeBufferPointer { stream in
            for i in 0..<stream.count / 2 { engine.run(stream[i]) { _ in } }  // warm-up
            rtes_malloc_counter_start()
            for i in stream.count / 2..<stream.count {
                engine.run(stream[i]) { events in for e in events { if case .crossFill = e { fills &+= 1 } } }
            }
            return rtes_malloc_counter_stop()
        }
        #expect(fills > 20)
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }

    /// Limit up, limit down: band repricing, limit states, pauses and reopening crosses.
    @Test func runsLimitUpLimitDownWithoutTouchingTheHeap() {
        let limits = RiskLimits(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000, maxOrdersPerSecond: 50,
                                priceCollarsEnabled: true)
        var profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8,
                                                  limits: RiskLimitsHint(maxOrderShares: 1_000, maxOpenNotional: 50_000_000 * 10_000))
        profile.luldRunPerMille = 60
        let configuration = Fixtures.configuration(
            eventBufferCapacity: 64, luld: LULDRules(limitStateNanoseconds: 5_000_000_000, pauseNanoseconds: 30_000_000_000))
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: 2_028, count: 40_000) { recorder.runCollecting($0) }

        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var luldEvents = 0
        let counts = commands.withUnsafeBufferPointer { stream in
            for i in 0..<stream.count / 2 { engine.run(stream[i]) { _ in } }  // warm-up
            rtes_malloc_counter_start()
            for i in stream.count / 2..<stream.count {
                engine.run(stream[i]) { events in
                    for e in events {
                        switch e {
                        case .limitState, .auctionCollar: luldEvents &+= 1
                        default: break
                        }
                    }
                }
            }
            return rtes_malloc_counter_stop()
        }
        #expect(luldEvents > 10)
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }

    @Test func matchesTheExchangeCoreMixWithoutTouchingTheHeap() {
        let instrument = SyntheticInstruments.make(count: 1)[0]
        let configuration = EngineConfiguration(instruments: [instrument], orderPoolSize: 100_000, maxClients: 1_000)
        var recorder = RiskCheckedEngine(configuration: configuration, limits: .unlimited)
        let commands = OrderFlowGenerator.record(profile: .exchangeCoreMix(instrument: instrument), seed: 1, count: 40_000) {
            recorder.runCollecting($0)
        }
        var engine = RiskCheckedEngine(configuration: configuration, limits: .unlimited)
        let counts = commands.withUnsafeBufferPointer { stream in
            for i in 0..<stream.count / 2 { engine.run(stream[i]) { _ in } }
            rtes_malloc_counter_start()
            for i in stream.count / 2..<stream.count { engine.run(stream[i]) { _ in } }
            return rtes_malloc_counter_stop()
        }
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }
}
