import BenchSupport
import CMallocCounter
import Foundation
import ExchangeCore

/// `--cross-orders N`: the time to find the price of, and execute, an opening cross with N
/// orders in the book (half buys, half sells, spread over ±2 % of the reference so that many
/// cross), and the price search alone (an imbalance indication). A fresh engine per
/// repetition; the median is printed. Heap operations during the cross are counted.
extension EngineBench {
    func crossBench(orders: Int, clock: TSCClock) {
        let reference: Price = 1_500_000
        let instrument = InstrumentSpec(symbol: Symbol("CROSS")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0,
                                        referencePrice: reference)
        let configuration = EngineConfiguration(instruments: [instrument], orderPoolSize: orders + 16, maxClients: 64,
                                                priceLevels: 65_536, eventBufferCapacity: 4_096)
        var indicateSeconds: [Double] = []
        var crossSeconds: [Double] = []
        var fills = 0
        var mallocs: UInt64 = 0
        var random = SplitMix64Bench(seed: 14)
        for _ in 0..<repetitions {
            var engine = MatchingEngine(configuration: configuration)
            func run(_ command: EngineCommand) -> Int {
                var count = 0
                var status = engine.process(command)
                while true {
                    for e in engine.events { if case .crossFill = e { count &+= 1 } }
                    engine.clearEvents()
                    if status == .completed { return count }
                    status = engine.resume()
                }
            }
            _ = run(.tradingPhase(PhaseCommand(timestamp: 1, symbol: instrument.symbol, action: .preOpen)))
            for n in 0..<orders {
                let buy = n % 2 == 0
                let ticks = Int64(random.next() % 601) - 300  // ±$3.00 around $150
                let price = Price(Int64(reference) + ticks * 100)
                _ = run(.enter(EnterOrder(
                    timestamp: 2, client: ClientID(n % 60), token: OrderToken(number: UInt64(n + 1)), side: buy ? .buy : .sell,
                    shares: Shares(1 + random.next() % 10) * 100, symbol: instrument.symbol, price: price,
                    firm: Firm(rawValue: 0x4141_4141 &+ UInt32(n % 60)))))
            }
            var start = clock.now()
            _ = run(.tradingPhase(PhaseCommand(timestamp: 3, symbol: instrument.symbol, action: .indicateImbalance)))
            indicateSeconds.append(clock.seconds(clock.now() - start))
            rtes_malloc_counter_start()
            start = clock.now()
            fills = run(.tradingPhase(PhaseCommand(timestamp: 4, symbol: instrument.symbol, action: .openingCross)))
            let ticks = clock.now() - start
            mallocs = max(mallocs, rtes_malloc_counter_stop().allocations)
            crossSeconds.append(clock.seconds(ticks))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print("opening cross with \(orders) orders in the book, \(repetitions) repetitions (median):")
        print("  price search alone (imbalance indication): \(String(format: "%.1f", median(indicateSeconds) * 1e6)) µs")
        print("  whole cross (price, \(fills) fills, what waited, phase change; events drained): "
            + "\(String(format: "%.1f", median(crossSeconds) * 1e3)) ms, \(mallocs) heap allocations")
    }
}

/// A small seeded generator (the benchmark's own, so the workload does not depend on OrderFlow's).
struct SplitMix64Bench {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
