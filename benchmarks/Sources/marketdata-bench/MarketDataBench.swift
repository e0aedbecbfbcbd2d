import ArgumentParser
import BenchSupport
import CExchangeShim
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeFeed
import ExchangeMarketData
import ExchangeRuntime
import ExchangeWire
import Foundation
import Histogram
import OrderFlow

/// The market-data benchmark, side by side in one run:
///
/// - **Tick to wire**: commands offered at fixed rates from the planned schedule (each
///   command's timestamp is its planned send time, so a stall counts against the exchange);
///   the engine and the market-data agent share one pinned, busy-spinning thread; a receiver
///   on the other CPU reads the loopback multicast group with kernel receive timestamps
///   (SO_TIMESTAMPNS, taken as the datagram is delivered on `lo`: the time the packet is on
///   the wire). Tick to wire = that timestamp − the command's planned time, for the first
///   ITCH message each command causes. The same run gives the order path's latency with
///   market data on, and again with it off (a sink on the book-event ring).
/// - **Throughput**: a pre-filled command ring drained flat out, market data off, then on —
///   on the engine's thread (shared mode), and on a thread of its own on the other CPU
///   (dedicated mode). One receiver joined on loopback, not reading.
@main
struct MarketDataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketdata-bench",
        abstract: "Benchmark the RTES market-data publisher; writes benchmarks/results/marketdata.json.")

    @Option(help: "CPU of the engine (and, in shared mode, market data).") var engineCPU: Int = 1
    @Option(help: "CPU of the load generator and receiver (and of market data in dedicated mode).") var loadCPU: Int = 0
    @Option(help: "Offered rates for tick to wire, commands per second.") var rates: [Int] = [20_000, 100_000]
    @Option(help: "Seconds per offered rate.") var seconds: Double = 3
    @Option(help: "Commands per flat-out throughput run (long enough that start-up and the first fills of the book do not decide it).")
    var throughputCommands: Int = 2_000_000
    @Option(help: "Flat-out repetitions; the median is reported.") var repetitions: Int = 5
    @Option(help: "Threading modes for the flat-out runs: shared, dedicated.") var modes: [String] = ["shared", "dedicated"]
    @Flag(help: "Only the flat-out runs (for profiling).") var throughputOnly = false
    @Flag(help: "Only the paced tick-to-wire runs (for profiling).") var latencyOnly = false
    @Option(help: "When the snapshot copy of the books catches up: idle (duty cycles that published nothing, or a quarter of the history behind: the exchange's rule, the default) or eager (every duty cycle: the rule before issue 17).")
    var snapshotCatchUp: String = "idle"
    @Option(help: "Where to write the results.") var output: String = "results/marketdata.json"

    func run() throws {
        guard snapshotCatchUp == "idle" || snapshotCatchUp == "eager" else {
            throw ValidationError("--snapshot-catch-up: idle or eager, not \(snapshotCatchUp)")
        }
        MarketDataRig.catchUpWhenIdle = snapshotCatchUp == "idle"
        print("snapshot copy catch-up: \(snapshotCatchUp)")
        let clock = BenchSupport.TSCClock()
        guard rtes_pin_current_thread(Int32(loadCPU)) == 0 else { throw ValidationError("cannot pin to CPU \(loadCPU)") }
        let host = BenchmarkHost.current(pinnedCPU: engineCPU, clock: clock)
        print(host.summary)
        let wall = ExchangeClock.TSCClock(ticksPerSecond: clock.ticksPerSecond)
        let longest = Int(Double(rates.max() ?? 0) * seconds)
        let stream = MarketDataRig.stream(count: max(longest, throughputCommands), seed: 5)
        print("stream: \(stream.count) commands over \(MarketDataRig.instruments.count) instruments")

        var latencyRows: [LatencyResult] = []
        for rate in throughputOnly ? [] : rates {
            let count = Int(Double(rate) * seconds)
            let off = try latencyRun(stream: Array(stream.prefix(count)), rate: rate, marketData: false, clock: clock, wall: wall)
            let on = try latencyRun(stream: Array(stream.prefix(count)), rate: rate, marketData: true, clock: clock, wall: wall)
            latencyRows.append(LatencyResult(rate: rate, orderLatencyOff: off.order, orderLatencyOn: on.order, tickToWire: on.wire!,
                                             packets: on.packets, messages: on.messages, pushLatenessOff: off.late, pushLatenessOn: on.late,
                                             receiverGaps: on.gaps))
        }
        var throughputRows: [ThroughputResult] = []
        for mode in latencyOnly ? [] : modes {
            guard mode == "shared" || mode == "dedicated" else { throw ValidationError("--modes: shared or dedicated, not \(mode)") }
            var off: [Double] = []
            var on: [Double] = []
            for _ in 0..<repetitions {
                off.append(try throughputRun(stream: Array(stream.prefix(throughputCommands)), marketData: false, shared: mode == "shared",
                                             clock: clock, wall: wall))
                on.append(try throughputRun(stream: Array(stream.prefix(throughputCommands)), marketData: true, shared: mode == "shared",
                                            clock: clock, wall: wall))
            }
            let medianOff = off.sorted()[off.count / 2], medianOn = on.sorted()[on.count / 2]
            throughputRows.append(ThroughputResult(mode: mode, commandsPerSecondOff: medianOff, commandsPerSecondOn: medianOn,
                                                   cost: 1 - medianOn / medianOff))
        }
        report(host: host, latency: latencyRows, throughput: throughputRows)
        try writeJSON(Results(host: host, engineCPU: engineCPU, loadCPU: loadCPU, tickToWire: latencyRows, throughput: throughputRows),
                      to: output)
        print("wrote \(output)")
    }

    /// One paced run; returns the order latency and, with market data, tick to wire.
    func latencyRun(stream: [EngineCommand], rate: Int, marketData: Bool, clock: BenchSupport.TSCClock, wall: ExchangeClock.TSCClock) throws
        -> (order: LatencySummary, wire: LatencySummary?, packets: UInt64, messages: UInt64, late: LatencySummary, gaps: UInt64) {
        let rig = MarketDataRig(commandCapacity: 65_536)
        var producer = rig.commandRing.makeProducer()
        let placement = AgentRunner.Placement(cpus: [engineCPU], idle: IdleStrategy(.busySpin))
        var receiver: FeedClient?
        let wire = Box(makeLatencyHistogram())
        if marketData {
            let md = try rig.marketDataAgent(ticksPerSecond: clock.ticksPerSecond)
            receiver = try FeedClient(group: rig.group, port: rig.port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                      retransmitPort: rig.retransmitPort, instrumentCount: MarketDataRig.instruments.count,
                                      orderCapacity: MarketDataRig.orderPool)
            // First ITCH message of each command: timestamps rise with the planned schedule.
            var lastSeen: UInt64 = 0
            receiver!.onPacket = { packet, received in
                guard case .success(let p) = MoldUDP64.readPacket(packet) else { return }
                let arrival = received % Clocks.nanosecondsPerDay
                p.forEachMessage { _, message in
                    guard message.count >= 11, message[0] != ITCH.MessageType.systemEvent, message[0] != ITCH.MessageType.stockDirectory else { return }
                    let ts = UInt64(message[5]) << 40 | UInt64(message[6]) << 32 | UInt64(message[7]) << 24 | UInt64(message[8]) << 16
                        | UInt64(message[9]) << 8 | UInt64(message[10])
                    guard ts > lastSeen else { return }
                    lastSeen = ts
                    if arrival > ts { wire.value.record(arrival - ts) }
                }
            }
            try rig.runner.start(AgentPair(AgentPair(rig.engineAgent(), RingSink(events: rig.orderRing.makeConsumer())), md),
                                 name: "bench-engine-md", slot: .engine, stage: 0, placement: placement)
        } else {
            try rig.runner.start(AgentPair(AgentPair(rig.engineAgent(), RingSink(events: rig.orderRing.makeConsumer())),
                                           RingSink(events: rig.bookRing.makeConsumer())),
                                 name: "bench-engine", slot: .engine, stage: 0, placement: placement)
        }
        // Warm-up a moment, then the schedule: command i is due at start + i / rate (realtime ns).
        usleep(200_000)
        let interval = 1e9 / Double(rate)
        let start = rtes_realtime_ns() + 1_000_000
        // The generator's own lateness: when each command was pushed against its planned time
        // (a late push counts against tick to wire, not against the order path).
        var late = makeLatencyHistogram()
        for (i, command) in stream.enumerated() {
            let planned = start + UInt64(Double(i) * interval)
            while rtes_realtime_ns() < planned {
                if let receiver { receiver.poll(timeoutMilliseconds: 0) }
            }
            let stamped = command.rebased(timestamp: planned % Clocks.nanosecondsPerDay, clientOffset: 0)
            while !producer.tryPush(CommandEnvelope(enqueuedAt: rtes_rdtsc(), command: stamped)) { rtes_cpu_pause() }
            late.record(max(1, rtes_realtime_ns() &- planned))
        }
        let deadline = Date().addingTimeInterval(5)
        while rig.commandsConsumed < UInt64(stream.count) && Date() < deadline {
            if let receiver { receiver.poll(timeoutMilliseconds: 1) } else { usleep(1_000) }
        }
        if let receiver { for _ in 0..<50 { receiver.poll(timeoutMilliseconds: 2) } }
        rig.runner.drain()
        let order = rig.orderLatency
        let nsPerTick = clock.nanosecondsPerTick
        var orderHistogram = makeLatencyHistogram()
        for (bucket, count) in order.buckets.enumerated() where count > 0 {
            orderHistogram.record(UInt64(Double(LatencyHistogram.midpoint(of: bucket)) * nsPerTick), count: count)
        }
        let m = CountersSnapshot(rig.cells).marketData
        return (LatencySummary(orderHistogram), marketData ? LatencySummary(wire.value) : nil, m["packets"] ?? 0, m["messages"] ?? 0,
                LatencySummary(late), receiver?.handler.counters.gaps ?? 0)
    }

    /// One flat-out run over a pre-filled command ring; returns commands per second.
    func throughputRun(stream: [EngineCommand], marketData: Bool, shared: Bool, clock: BenchSupport.TSCClock, wall: ExchangeClock.TSCClock) throws -> Double {
        var capacity = 1
        while capacity < stream.count { capacity <<= 1 }
        let rig = MarketDataRig(commandCapacity: capacity)
        var producer = rig.commandRing.makeProducer()
        let now = wall.nanoseconds(atTicks: rtes_rdtsc())
        for command in stream {
            precondition(producer.tryPush(CommandEnvelope(enqueuedAt: 0, command: command.rebased(timestamp: now, clientOffset: 0))))
        }
        // A member on the group, so loopback delivery happens as it would with a receiver.
        let member = try FeedClient(group: rig.group, port: rig.port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                    retransmitPort: 1, instrumentCount: 1, orderCapacity: 1)
        let engine = AgentRunner.Placement(cpus: [engineCPU], idle: IdleStrategy(.busySpin))
        let other = AgentRunner.Placement(cpus: [loadCPU], idle: IdleStrategy(.busySpin))
        // Everything is built before the clock starts (the market-data agent's history and
        // snapshot buffers are tens of MB, zero-filled: not part of the order path's rate).
        let front = AgentPair(rig.engineAgent(), RingSink(events: rig.orderRing.makeConsumer()))
        var marketDataAgent = marketData ? try rig.marketDataAgent(ticksPerSecond: clock.ticksPerSecond) : nil
        var sink = marketData ? nil : RingSink(events: rig.bookRing.makeConsumer())
        let t0 = clock.now()
        if shared {
            if let agent = marketDataAgent.take() {
                try rig.runner.start(AgentPair(front, agent), name: "bench-shared", slot: .engine, stage: 0, placement: engine)
            } else {
                try rig.runner.start(AgentPair(front, sink.take()!), name: "bench-shared", slot: .engine, stage: 0, placement: engine)
            }
        } else {
            try rig.runner.start(front, name: "bench-engine", slot: .engine, stage: 0, placement: engine)
            if let agent = marketDataAgent.take() {
                try rig.runner.start(agent, name: "bench-md", slot: .marketData, stage: 1, placement: other)
            } else {
                try rig.runner.start(sink.take()!, name: "bench-sink", slot: .marketData, stage: 1, placement: other)
            }
        }
        while rig.commandsConsumed < UInt64(stream.count) { usleep(50) }
        let elapsed = Double(clock.now() - t0) * clock.nanosecondsPerTick / 1e9
        rig.runner.drain()
        _ = member
        return Double(stream.count) / elapsed
    }

    func report(host: BenchmarkHost, latency: [LatencyResult], throughput: [ThroughputResult]) {
        var table = TextTable("offered/s", "tick-to-wire p50", "p99", "p99.9", "max", "order p50 off", "order p50 on", "on/off",
                              "order p99 off", "order p99 on", "msgs/packet", "push late p99 off/on", "receiver gaps")
        for r in latency {
            table.add("\(r.rate)", formatNanoseconds(r.tickToWire.p50), formatNanoseconds(r.tickToWire.p99), formatNanoseconds(r.tickToWire.p999),
                      formatNanoseconds(r.tickToWire.max),
                      formatNanoseconds(r.orderLatencyOff.p50), formatNanoseconds(r.orderLatencyOn.p50),
                      String(format: "%.2f×", Double(r.orderLatencyOn.p50) / Double(max(1, r.orderLatencyOff.p50))),
                      formatNanoseconds(r.orderLatencyOff.p99), formatNanoseconds(r.orderLatencyOn.p99),
                      String(format: "%.1f", Double(r.messages) / Double(max(1, r.packets))),
                      "\(formatNanoseconds(r.pushLatenessOff.p99)) / \(formatNanoseconds(r.pushLatenessOn.p99))", "\(r.receiverGaps)")
        }
        print(table.render())
        var flat = TextTable("mode", "off (cmd/s)", "on (cmd/s)", "on/off", "cost")
        for r in throughput {
            flat.add(r.mode, String(format: "%.0f", r.commandsPerSecondOff), String(format: "%.0f", r.commandsPerSecondOn),
                     String(format: "%.2f", r.commandsPerSecondOn / r.commandsPerSecondOff), String(format: "%.1f %%", r.cost * 100))
        }
        print(flat.render())
    }
}

final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

struct LatencyResult: Codable {
    var rate: Int
    var orderLatencyOff: LatencySummary
    var orderLatencyOn: LatencySummary
    var tickToWire: LatencySummary
    var packets: UInt64
    var messages: UInt64
    /// The load generator's push − planned time (its own lateness), market data off and on.
    var pushLatenessOff: LatencySummary
    var pushLatenessOn: LatencySummary
    /// Gaps the receiver saw in the feed (datagrams it lost).
    var receiverGaps: UInt64
    enum CodingKeys: String, CodingKey {
        case rate = "offered_per_second", orderLatencyOff = "order_latency_market_data_off", orderLatencyOn = "order_latency_market_data_on"
        case tickToWire = "tick_to_wire", packets, messages, pushLatenessOff = "push_lateness_market_data_off"
        case pushLatenessOn = "push_lateness_market_data_on", receiverGaps = "receiver_gaps"
    }
}

struct ThroughputResult: Codable {
    var mode: String
    var commandsPerSecondOff: Double
    var commandsPerSecondOn: Double
    var cost: Double
    enum CodingKeys: String, CodingKey {
        case mode, commandsPerSecondOff = "commands_per_second_market_data_off", commandsPerSecondOn = "commands_per_second_market_data_on"
        case cost = "throughput_cost"
    }
}

struct Results: Codable {
    var host: BenchmarkHost
    var engineCPU: Int
    var loadCPU: Int
    var tickToWire: [LatencyResult]
    var throughput: [ThroughputResult]
    enum CodingKeys: String, CodingKey {
        case host, engineCPU = "engine_cpu", loadCPU = "load_cpu", tickToWire = "tick_to_wire", throughput
    }
}
