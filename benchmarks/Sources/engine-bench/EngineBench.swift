import ArgumentParser
import BenchSupport
import CExchangeShim
import CMallocCounter
import ExchangeCore
import ExchangeRisk
import Foundation
import Histogram
import OrderFlow
import ReferenceModel

/// The matching engine benchmark: throughput flat out, latency at fixed offered rates with
/// send times from the planned schedule, heap allocations, and side by side in the same
/// run the engine without risk checks and the naive reference model on the same stream.
@main
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Benchmark the RTES matching engine; writes benchmarks/results/engine.json.")

    @Option(help: "CPU to pin the benchmark thread to (-1: do not pin).")
    var cpu: Int = 1

    @Option(help: "Commands recorded for workloads (a) and (b).")
    var commands: Int = 2_000_000

    @Option(help: "Sweep cycles for workload (c) (10,001 commands each).")
    var cycles: Int = 30

    @Option(help: "Flat-out repetitions per workload; the median is reported.")
    var repetitions: Int = 5

    @Option(help: "Offered rates for the latency runs, in commands per second.")
    var rates: [Int] = [1_000_000, 5_000_000]

    @Option(help: "Commands of workload (a) to run through the reference model for the ratio.")
    var referenceCommands: Int = 100_000

    @Option(help: "Commands prefetched ahead in flat-out runs (0: none), as the engine agent does for a batch.")
    var lookahead: Int = 8

    @Option(help: "Where to write the JSON results.")
    var output: String = "results/engine.json"

    @Flag(inversion: .prefixedNo, help: "Back engine regions with transparent huge pages (madvise).")
    var hugePages = true

    @Flag(help: "Small streams, one repetition: a smoke test, not a measurement.")
    var quick = false

    @Option(help: "Run only the workloads whose key starts with one of these (a, b, c); default: all three.")
    var only: [String] = []

    @Flag(help: "Skip the latency runs at fixed rates and the reference-model comparison (throughput only; e.g. under callgrind).")
    var throughputOnly = false

    @Flag(inversion: .prefixedNo, help: "Also run (a) and (b) gateway-style: one command at a time through the engine agent's ring from a producer thread that decodes each from OUCH.")
    var gatewayStyle = true

    @Option(help: "CPU for the gateway-style producer thread (-1: do not pin); the engine agent's thread takes --cpu.")
    var gatewayCPU: Int = 0

    @Option(help: "Only measure an opening cross with this many orders in the book (0: the usual workloads).")
    var crossOrders: Int = 0

    mutating func run() throws {
        if quick {
            commands = 100_000
            cycles = 2
            repetitions = 1
            referenceCommands = 5_000
        }
        var pinned: Int?
        if cpu >= 0 {
            let result = rtes_pin_current_thread(Int32(cpu))
            if result == 0 { pinned = cpu } else { print("warning: could not pin to CPU \(cpu): errno \(-result); running unpinned") }
        }
        let clock = TSCClock()
        let host = BenchmarkHost.current(pinnedCPU: pinned, clock: clock)
        print("engine-bench on \(host.summary)")
        if crossOrders > 0 {
            crossBench(orders: crossOrders, clock: clock)
            return
        }

        print("recording workloads…")
        let only = self.only
        func wanted(_ key: String) -> Bool { only.isEmpty || only.contains { key.hasPrefix($0) } }
        var workloads: [Workload] = []
        if wanted("a_") { workloads.append(Workloads.exchangeCoreMix(count: commands)) }
        if wanted("b_") { workloads.append(Workloads.multiSymbol(count: commands)) }
        if wanted("c_") { workloads.append(Workloads.deepBookSweep(cycles: cycles)) }
        var results: [WorkloadResult] = []
        for workload in workloads {
            print("running \(workload.title) — \(workload.commands.count.formatted()) commands")
            var result = measure(workload, clock: clock)
            if workload.key == "a_exchange_core_mix" && !throughputOnly {
                result.comparison = compare(workload, clock: clock)
            }
            if gatewayStyle && workload.key != "c_deep_book_sweep" {
                // The producer is this thread, moved to its own CPU for the gateway-style runs.
                if gatewayCPU >= 0 { _ = rtes_pin_current_thread(Int32(gatewayCPU)) }
                let region = EngineRegion(bytes: MatchingEngine.requiredBytes(for: workload.configuration), hugePages: hugePages)
                result.gatewayStyle = try gatewayStyle(workload, region: region.base, clock: clock)
                if let pinned { _ = rtes_pin_current_thread(Int32(pinned)) }
            }
            results.append(result)
        }
        let report = EngineReport(host: host, command: CommandLine.arguments.joined(separator: " "), workloads: results)
        print()
        print(report.table())
        try writeJSON(report, to: output)
        print("\nwrote \(output)")
    }

    // MARK: Measurements

    func measure(_ workload: Workload, clock: TSCClock) -> WorkloadResult {
        // One region per workload, reused by every engine below (each start zeroes it).
        let region = EngineRegion(bytes: MatchingEngine.requiredBytes(for: workload.configuration), hugePages: hugePages)
        // Throughput, flat out: a fresh engine per repetition replays the whole stream.
        var samples: [Double] = []
        var mallocs: UInt64 = 0
        var counters = EngineCounters()
        var events = 0
        for _ in 0..<repetitions {
            var engine = RiskCheckedEngine(engine: MatchingEngine(configuration: workload.configuration, region: region.base), limits: workload.limits)
            var produced = 0
            let (ticks, counts) = workload.commands.withUnsafeBufferPointer { stream in
                rtes_malloc_counter_start()
                let start = clock.now()
                engine.runBatch(stream, lookahead: lookahead) { produced &+= $0.count }
                let end = clock.now()
                return (end - start, rtes_malloc_counter_stop())
            }
            samples.append(Double(stream: workload.commands.count) / clock.seconds(ticks))
            mallocs = max(mallocs, counts.allocations)
            counters = engine.engine.counters
            events = produced
        }
        // Side by side: the same stream without prefetching ahead.
        var unprefetched: [Double] = []
        for _ in 0..<repetitions {
            var engine = RiskCheckedEngine(engine: MatchingEngine(configuration: workload.configuration, region: region.base), limits: workload.limits)
            let ticks = workload.commands.withUnsafeBufferPointer { stream in
                let start = clock.now()
                engine.runBatch(stream, lookahead: 0) { _ in }
                return clock.now() - start
            }
            unprefetched.append(Double(stream: workload.commands.count) / clock.seconds(ticks))
        }

        var latency: [RateLatency] = []
        for rate in throughputOnly ? [] : rates {
            latency.append(latencyAt(rate: rate, workload, region: region.base, clock: clock))
        }
        return WorkloadResult(
            key: workload.key, title: workload.title, description: workload.description,
            commands: workload.commands.count, events: events, executions: counters.executions,
            peakRestingOrders: counters.peakRestingOrders, rejects: counters.rejects,
            opsPerSecond: median(samples), opsPerSecondMin: samples.min()!, opsPerSecondMax: samples.max()!,
            eventsPerSecond: median(samples) * Double(events) / Double(workload.commands.count),
            fillsPerSecond: median(samples) * Double(counters.executions) / Double(workload.commands.count),
            withoutPrefetchOpsPerSecond: median(unprefetched), mallocs: mallocs, latencyByRate: latency,
            headline: latency.last?.latency ?? LatencySummary(makeLatencyHistogram()),
            headlineRate: latency.last?.offeredRate ?? 0)
    }

    /// Latency of each command from its *planned* send time (start + i / rate) to the end of
    /// its processing, so a stall delays and is charged to every command behind it
    /// (coordinated omission counted). The first 10 % is warm-up. Like the engine agent
    /// draining its ring, the loop prefetches only commands that have already arrived
    /// (planned time passed): when it keeps up there is nothing to prefetch.
    func latencyAt(rate: Int, _ workload: Workload, region: UnsafeMutableRawPointer, clock: TSCClock) -> RateLatency {
        var histogram = makeLatencyHistogram()
        var engine = RiskCheckedEngine(engine: MatchingEngine(configuration: workload.configuration, region: region), limits: workload.limits)
        let period = clock.ticks(nanoseconds: 1e9 / Double(rate))
        let warmUp = workload.commands.count / 10
        var behind = 0
        var prefetched = -1
        // Latencies in TSC ticks, recorded into the histogram after the run: the loop itself
        // must stay cheap or it, not the engine, sets the pace.
        let ticks = UnsafeMutablePointer<UInt64>.allocate(capacity: workload.commands.count)
        defer { ticks.deallocate() }
        workload.commands.withUnsafeBufferPointer { stream in
            let start = clock.now() + UInt64(clock.ticksPerSecond / 1_000)
            let periodTicks = UInt64(period)
            // The fractional part of the period, accumulated in 1/2^32 ticks.
            let fraction = UInt64((period - Double(periodTicks)) * 4_294_967_296)
            var planned = start
            var carry: UInt64 = 0
            var arrived = 0
            var nextArrival = start
            // One clock read per command: reading the TSC costs ~21 ns in this VM, so the
            // completion time of one command is the "now" of the next.
            var now = rtes_rdtsc()
            for i in 0..<stream.count {
                if now < planned {
                    while now < planned { rtes_cpu_pause(); now = rtes_rdtsc() }
                } else {
                    behind &+= 1
                }
                // Commands whose planned time has passed have arrived: they may be prefetched.
                while arrived < stream.count - 1 && nextArrival &+ periodTicks <= now {
                    arrived &+= 1
                    nextArrival &+= periodTicks
                }
                let horizon = min(arrived, i &+ lookahead)
                while prefetched < horizon {
                    prefetched &+= 1
                    engine.prefetch(stream[prefetched])
                }
                engine.run(stream[i]) { _ in }
                now = rtes_rdtscp()
                ticks[i] = now &- planned
                carry &+= fraction
                planned &+= periodTicks &+ (carry >> 32)
                carry &= 0xFFFF_FFFF
            }
        }
        for i in warmUp..<workload.commands.count { _ = histogram.record(clock.nanoseconds(ticks[i])) }
        return RateLatency(offeredRate: rate, latency: LatencySummary(histogram),
                           behindSchedulePercent: 100 * Double(behind) / Double(workload.commands.count))
    }

    /// The same prefix of the stream through the naive reference model.
    func compare(_ workload: Workload, clock: TSCClock) -> Comparison {
        let prefix = Array(workload.commands.prefix(referenceCommands))
        var model = ReferenceExchange(configuration: workload.configuration, limits: workload.limits)
        let start = clock.now()
        for command in prefix { _ = model.process(command) }
        let referenceOps = Double(stream: prefix.count) / clock.seconds(clock.now() - start)
        var engine = RiskCheckedEngine(configuration: workload.configuration, limits: workload.limits)
        let fastStart = clock.now()
        prefix.withUnsafeBufferPointer { engine.runBatch($0, lookahead: lookahead) { _ in } }
        let fastPrefixOps = Double(stream: prefix.count) / clock.seconds(clock.now() - fastStart)
        return Comparison(
            referenceCommands: prefix.count, referenceOpsPerSecond: referenceOps, enginePrefixOpsPerSecond: fastPrefixOps,
            engineOverReference: fastPrefixOps / referenceOps)
    }

    func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

extension Double {
    init(stream count: Int) { self.init(count) }
}
