import ArgumentParser
import BenchSupport
import CExchangeShim
import CRingBaseline
import ExchangeRuntime
import Foundation
import Histogram

/// The runtime's SPSC ring against the same ring written in C, side by side in one run:
/// throughput of single pushes and pops, throughput of batches, and one-way latency, between
/// a producer thread and a consumer thread pinned to two CPUs.
@main
struct RingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring-bench", abstract: "Compare the Swift SPSC ring with the same ring in C; writes results/ring.json.")

    @Option(help: "Messages per throughput run.") var messages: Int = 10_000_000
    @Option(help: "Messages per latency run (the first 10 % are warm-up).") var latencyMessages: Int = 300_000
    @Option(help: "Latency runs: nanoseconds between two sends (the schedule).") var intervalNs: Double = 1_000
    @Option(help: "Slots per claim and per peek in the batched runs.") var batch: Int = 32
    @Option(parsing: .upToNextOption, help: ArgumentHelp(
        "Ring capacities for the throughput runs (powers of two); latency runs use the first.",
        discussion: "65536 is performance.queue_capacity in production: the producer can run far ahead of the consumer. In a 1024-slot ring the two sides work in lockstep, sharing the index and slot lines on every message: the worst case."))
    var capacities: [Int] = [65_536, 1_024]
    @Option(parsing: .upToNextOption, help: "Message sizes in bytes: 64 (one cache line) and/or 80 (the engine's command envelope).")
    var messageBytes: [Int] = [64, 80]
    @Option(help: "Repetitions of each measurement (the median is reported).") var repetitions: Int = 7
    @Option(help: "CPU of the producer thread.") var producerCPU: Int = 0
    @Option(help: "CPU of the consumer thread.") var consumerCPU: Int = 1
    @Flag(inversion: .prefixedNo, help: "Execute `pause` in each turn of the spin loops (as the runtime's busy-spin idle strategy does).")
    var pause = true
    @Option(help: ArgumentHelp(
        "Run the two threads under SCHED_FIFO at this priority (0: the normal scheduler).",
        discussion: "On a shared host this keeps other work off the two CPUs. The kernel lets real-time threads run 950 ms of every second (sched_rt_runtime_us): runs are kept shorter than that and followed by a 0.6 s pause."))
    var realtimePriority: Int = 0
    @Option(parsing: .upToNextOption, help: "Rings to run (Swift, C); the table needs both.") var rings: [RingKind] = RingKind.allCases
    @Flag(help: "Skip the latency runs.") var noLatency = false
    @Flag(help: "Skip the throughput runs.") var noThroughput = false
    @Option(help: "Where to write the JSON results.") var output: String = "results/ring.json"
    @Option(help: ArgumentHelp(
        "Only move this many messages through each ring on one thread, `--batch` at a time (1: single pushes and pops), and exit.",
        discussion: "For instruction counts (valgrind cannot read the binary's debug information: strip -g a copy): valgrind --tool=callgrind --toggle-collect='*swiftOneThread*' --toggle-collect='rtes_cring_one_thread*' ./ring-bench-stripped --one-thread 1000000 --batch 1 --message-bytes 64"))
    var oneThread: Int?

    mutating func run() throws {
        if let count = oneThread {
            for bytes in messageBytes {
                let sums = bytes == 64 ? OneThread.run(Message64.self, count: UInt64(count), batch: batch)
                    : OneThread.run(Message80.self, count: UInt64(count), batch: batch)
                print("\(bytes) B, \(count) messages on one thread, batch \(batch): sums \(sums)")
            }
            return
        }
        precondition(capacities.allSatisfy(SPSCRingLayout.isValidCapacity), "capacities must be powers of two")
        precondition(messageBytes.allSatisfy { $0 == 64 || $0 == 80 }, "message sizes are 64 and 80 bytes")
        let clock = TSCClock()
        let host = BenchmarkHost.current(pinnedCPU: nil, clock: clock)
        let tsc = TSCReadCost.measure(clock: clock)
        let scheduling = realtimePriority > 0 ? "SCHED_FIFO \(realtimePriority)" : "SCHED_OTHER"
        print("ring-bench on \(host.summary)")
        print("producer pinned to CPU \(producerCPU), consumer to CPU \(consumerCPU), \(scheduling), pause in spin loops: \(pause); " +
              "\(repetitions) repetitions, median reported")
        print(String(format: "reading the TSC costs %.1f ns (rdtscp) / %.1f ns (rdtsc) here; each latency sample includes one read",
                     tsc.rdtscpNanoseconds, tsc.rdtscNanoseconds))

        let memory = RingMemory(maximumCapacity: capacities.max()!)
        let runner = Runner(rings: memory, clock: clock, producerCPU: producerCPU, consumerCPU: consumerCPU,
                            realtimePriority: realtimePriority, pause: pause)
        let latencyBuffers = LatencyBuffers(count: latencyMessages)
        let plan = Plan(messages: UInt64(messages), latencyMessages: latencyMessages, intervalNanoseconds: intervalNs,
                        capacities: capacities, batches: [nil, batch], rings: rings, throughput: !noThroughput, latency: !noLatency)
        var results = Results()
        for bytes in messageBytes {
            switch bytes {
            case 64: plan.measure(Message64.self, bytes: bytes, repetitions: repetitions, runner: runner, buffers: latencyBuffers, into: &results)
            default: plan.measure(Message80.self, bytes: bytes, repetitions: repetitions, runner: runner, buffers: latencyBuffers, into: &results)
            }
        }

        let report = RingReport(
            host: host, command: CommandLine.arguments.joined(separator: " "),
            pinning: "producer CPU \(producerCPU), consumer CPU \(consumerCPU), \(scheduling)",
            capacities: capacities, batch: batch, messages: messages, latencyMessages: latencyMessages,
            latencyIntervalNanoseconds: intervalNs, repetitions: repetitions, pauseInSpinLoops: pause, tscReadNanoseconds: tsc,
            throughput: results.throughput, latency: results.latency)
        print(report.table())
        try writeJSON(report, to: output)
        print("wrote \(output)")
    }
}

enum RingKind: String, CaseIterable, Codable, ExpressibleByArgument {
    case swift = "Swift"
    case c = "C"
}

struct Results {
    var throughput: [ThroughputResult] = []
    var latency: [LatencyResult] = []
}

/// What to measure, for each message type in turn.
struct Plan {
    var messages: UInt64
    var latencyMessages: Int
    var intervalNanoseconds: Double
    var capacities: [Int]
    var batches: [Int?]  // nil: single messages
    var rings: [RingKind]
    var throughput: Bool
    var latency: Bool

    func measure<M: BenchMessage>(_: M.Type, bytes: Int, repetitions: Int, runner: Runner, buffers: LatencyBuffers,
                                  into results: inout Results) {
        precondition(MemoryLayout<M>.stride == bytes)
        // Warm-up: both sides reach their loops once, caches and TLBs hold the rings.
        for kind in rings where throughput {
            for batch in batches {
                _ = runner.throughput(kind, M.self, capacity: capacities[0], count: min(messages, 1_000_000), batch: batch)
            }
        }
        var rates: [ThroughputKey: [ThroughputRun]] = [:]
        var latencies: [RingKind: [LatencyRun]] = [:]
        for repetition in 0..<repetitions {
            // Alternate which ring goes first, so that drift in the host is shared.
            let order = repetition % 2 == 0 ? rings : rings.reversed()
            for capacity in capacities where throughput {
                for batch in batches {
                    for kind in order {
                        rates[ThroughputKey(kind: kind, capacity: capacity, batch: batch), default: []].append(
                            runner.throughput(kind, M.self, capacity: capacity, count: messages, batch: batch))
                    }
                }
            }
            for kind in order where latency {
                latencies[kind, default: []].append(
                    runner.latency(kind, M.self, capacity: capacities[0], count: latencyMessages,
                                   intervalNanoseconds: intervalNanoseconds, buffers: buffers))
            }
        }
        for capacity in capacities where throughput {
            for batch in batches {
                for kind in rings {
                    results.throughput.append(ThroughputResult(
                        ring: kind.rawValue, messageBytes: bytes, capacity: capacity, batch: batch ?? 1,
                        runs: rates[ThroughputKey(kind: kind, capacity: capacity, batch: batch)]!))
                }
            }
        }
        for kind in rings where latency {
            results.latency.append(LatencyResult(ring: kind.rawValue, messageBytes: bytes, runs: latencies[kind]!))
        }
    }
}

/// Both rings' ends on one thread, for instruction counts.
enum OneThread {
    static func run<M: BenchMessage>(_: M.Type, count: UInt64, batch: Int) -> [UInt64] {
        let memory = RingMemory(maximumCapacity: 1_024)
        var ring = memory.swiftRing(M.self, capacity: 1_024)
        var producer = ring.makeProducer()
        var consumer = ring.makeConsumer()
        var ends = memory.cRing(capacity: 1_024)
        let loops = M.cLoops
        let mode = batch == 1 ? 0 : batch
        return [swiftOneThread(&producer, &consumer, count: count, batch: mode),
                loops.oneThread(&ends.producer, &ends.consumer, count, UInt64(mode))]
    }
}

struct ThroughputKey: Hashable {
    var kind: RingKind
    var capacity: Int
    var batch: Int?
}
