import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeEngine
import ExchangeRisk
import ExchangeRuntime
import ExchangeWire
import Glibc

// Gateway-style mode (issue 16): the recorded stream reaches the engine the way the appliance
// feeds it. Each command is encoded as its OUCH 4.2 message ahead of time; during the run a
// producer thread (the gateway's) decodes each message with the gateway's decoder
// (`OUCHInbound.decode`: tokens, fields, client stamped), wraps it in a `CommandEnvelope` and
// pushes it, one at a time, onto the engine agent's SPSC command ring; the agent runs on its own
// pinned thread (with a sink on its book-event ring), and the producer drains the order-event
// ring as the gateway does. The engine is the workload's (production pool of 1 M orders).

/// The recorded stream as the gateway would receive it.
struct WireStream {
    /// OUCH messages back to back; `offsets[i]..<offsets[i] + lengths[i]` is command i's
    /// (length 0: not an OUCH command, pushed as recorded).
    let bytes: UnsafeMutableRawPointer
    let offsets: [Int]
    let lengths: [UInt8]
    let clients: [ClientID]
    let commands: [EngineCommand]
    /// Commands whose OUCH round trip does not give back the recorded command.
    let mismatches: Int

    init(_ commands: [EngineCommand]) {
        self.commands = commands
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: 64 * commands.count + 64, alignment: 64)
        var offsets: [Int] = []
        var lengths: [UInt8] = []
        var clients: [ClientID] = []
        offsets.reserveCapacity(commands.count)
        var offset = 0
        var mismatches = 0
        for command in commands {
            let client: ClientID
            switch command {
            case .enter(let c): client = c.client
            case .replace(let c): client = c.client
            case .cancel(let c): client = c.client
            case .modify(let c): client = c.client
            default: client = 0
            }
            let length = OUCHInboundEncoder.encode(command, to: bytes + offset) ?? 0
            offsets.append(offset)
            lengths.append(UInt8(length))
            clients.append(client)
            if length > 0 {
                let decoded = OUCHInbound.decode(UnsafeRawBufferPointer(start: bytes + offset, count: length), client: client,
                                                 defaultFirm: WireStream.defaultFirm, timestamp: command.timestamp)
                if case .command(let back) = decoded, back == command {} else { mismatches += 1 }
            }
            offset += length
        }
        self.bytes = bytes
        self.offsets = offsets
        self.lengths = lengths
        self.clients = clients
        self.mismatches = mismatches
    }

    static let defaultFirm = Firm("BNCH")!

    /// What the gateway does with message i: decode it, stamped with the session's client
    /// and the receive time (here the recorded timestamp, so the run reproduces the recording).
    @inline(__always)
    func command(_ i: Int) -> EngineCommand {
        let length = Int(lengths[i])
        let recorded = commands[i]
        guard length > 0 else { return recorded }
        switch OUCHInbound.decode(UnsafeRawBufferPointer(start: bytes + offsets[i], count: length), client: clients[i],
                                  defaultFirm: WireStream.defaultFirm, timestamp: recorded.timestamp) {
        case .command(let command): return command
        default: return recorded
        }
    }
}

/// Sinks book events on the engine's thread (the market-data agent's place in the appliance).
struct BookEventSink: Agent, ~Copyable {
    var roleName: String { "sink" }
    var events: SPSCRing<SequencedEvent>.Consumer
    mutating func doWork() -> Int {
        let n = events.peek(upTo: 1_024).count
        events.release(n)
        return n
    }
    mutating func beginDrain() {}
    var isDrained: Bool { events.depth == 0 }
}

/// One engine agent behind its rings, built fresh for every run.
final class GatewayRig {
    static let ringCapacity = 65_536  // the appliance's default (performance.queue_capacity)

    let countersMemory: UnsafeMutableRawPointer
    let snapshotMemory: UnsafeMutableRawPointer
    let cells: CounterCells
    let runner: AgentRunner
    var commandRing = SPSCRing<CommandEnvelope>(capacity: GatewayRig.ringCapacity)
    var controlRing = SPSCRing<CommandEnvelope>(capacity: 64)
    var orderRing = SPSCRing<SequencedEvent>(capacity: GatewayRig.ringCapacity)
    var bookRing = SPSCRing<SequencedEvent>(capacity: GatewayRig.ringCapacity)

    init() {
        countersMemory = .allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        snapshotMemory = .allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 16), alignment: 128)
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 16))
        cells = CounterCells(base: countersMemory)
        runner = AgentRunner(counters: cells)
    }

    deinit {
        countersMemory.deallocate()
        snapshotMemory.deallocate()
    }

    func start(_ workload: Workload, region: UnsafeMutableRawPointer, cpu: Int?) throws {
        let engine = RiskCheckedEngine(engine: MatchingEngine(configuration: workload.configuration, region: region), limits: workload.limits)
        let agent = EngineAgent(
            engine: engine, commands: commandRing.makeConsumer(), control: controlRing.makeConsumer(),
            orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 16), cells: cells)
        let placement = AgentRunner.Placement(cpus: cpu.map { [$0] } ?? [], idle: IdleStrategy(.busySpin))
        let report = try runner.start(AgentPair(agent, BookEventSink(events: bookRing.makeConsumer())),
                                      name: "bench-engine", slot: .engine, stage: 0, placement: placement)
        if let error = report.pinError { print("warning: engine thread not pinned: errno \(error)") }
    }

    var latency: LatencyHistogram.Snapshot { CountersSnapshot(cells).latency }
}

extension EngineBench {
    /// Flat out: the producer pushes as fast as it decodes and the ring takes; the time runs
    /// from the first push until the agent has released every command and the producer has
    /// drained every order event. Paced: command i is due at start + i / rate, and its
    /// envelope carries that planned time, so the agent's latency (planned send → end of its
    /// batch) charges a stall to everything queued behind it.
    func gatewayStyle(_ workload: Workload, region: UnsafeMutableRawPointer, clock: TSCClock) throws -> GatewayStyleResult {
        let wire = WireStream(workload.commands)
        defer { wire.bytes.deallocate() }
        if wire.mismatches > 0 { print("warning: \(wire.mismatches) commands do not survive the OUCH round trip") }
        var samples: [Double] = []
        var orderEvents = 0
        for _ in 0..<repetitions {
            let run = try gatewayRun(wire, workload, region: region, rate: nil, clock: clock)
            samples.append(Double(wire.commands.count) / clock.seconds(run.ticks))
            orderEvents = run.orderEvents
        }
        var latency: [RateLatency] = []
        for rate in throughputOnly ? [] : rates {
            let run = try gatewayRun(wire, workload, region: region, rate: rate, clock: clock)
            // The agent's histogram (16 sub-buckets per power of two), at bucket midpoints.
            var histogram = makeLatencyHistogram()
            for (bucket, n) in run.latency.buckets.enumerated() where n > 0 {
                let value = max(1, clock.nanoseconds(LatencyHistogram.midpoint(of: bucket)))
                for _ in 0..<n { _ = histogram.record(value) }
            }
            latency.append(RateLatency(
                offeredRate: rate, latency: LatencySummary(histogram),
                behindSchedulePercent: 100 * Double(run.behind) / Double(wire.commands.count)))
        }
        let sorted = samples.sorted()
        return GatewayStyleResult(opsPerSecond: median(samples), opsPerSecondMin: sorted.first!, opsPerSecondMax: sorted.last!,
                                  orderEvents: orderEvents, roundTripMismatches: wire.mismatches, latencyByRate: latency)
    }

    struct GatewayRun {
        var ticks: UInt64
        var orderEvents: Int
        var behind: Int
        var latency: LatencyHistogram.Snapshot
    }

    func gatewayRun(_ wire: WireStream, _ workload: Workload, region: UnsafeMutableRawPointer, rate: Int?,
                    clock: TSCClock) throws -> GatewayRun {
        let rig = GatewayRig()
        try rig.start(workload, region: region, cpu: cpu >= 0 ? cpu : nil)
        var commands = rig.commandRing.makeProducer()
        var orderEvents = rig.orderRing.makeConsumer()
        let total = wire.commands.count
        var drained = 0
        var behind = 0
        let warmUp = total / 10
        var warm = LatencyHistogram.Snapshot(buckets: [], count: 0, sum: 0)
        let period = clock.ticks(nanoseconds: 1e9 / Double(rate ?? 1))
        let start = clock.now() + UInt64(clock.ticksPerSecond / 1_000)
        while clock.now() < start {}
        for i in 0..<total {
            var stamp = rtes_rdtsc()
            if rate != nil {
                let planned = start &+ UInt64(Double(i) * period)
                if stamp < planned {
                    while stamp < planned { rtes_cpu_pause(); stamp = rtes_rdtsc() }
                } else {
                    behind &+= 1
                }
                stamp = planned
                if i == warmUp { warm = rig.latency }
            }
            let envelope = CommandEnvelope(enqueuedAt: stamp, command: wire.command(i))
            while !commands.tryPush(envelope) {
                let n = orderEvents.peek(upTo: 1_024).count
                orderEvents.release(n)
                drained &+= n
            }
            // The gateway reads its answers as they come.
            if i & 15 == 15 {
                let n = orderEvents.peek(upTo: 1_024).count
                orderEvents.release(n)
                drained &+= n
            }
        }
        while rig.commandRing.released < UInt64(total) || rig.orderRing.depth > 0 {
            let n = orderEvents.peek(upTo: 1_024).count
            orderEvents.release(n)
            drained &+= n
        }
        let ticks = clock.now() - start
        rig.runner.drain()
        let h = rig.latency
        return GatewayRun(ticks: ticks, orderEvents: drained, behind: behind,
                          latency: warm.buckets.isEmpty ? h : h.subtracting(warm))
    }
}

struct GatewayStyleResult: Codable {
    var opsPerSecond: Double
    var opsPerSecondMin: Double
    var opsPerSecondMax: Double
    var orderEvents: Int
    var roundTripMismatches: Int
    var latencyByRate: [RateLatency]

    enum CodingKeys: String, CodingKey {
        case opsPerSecond = "ops_per_sec", opsPerSecondMin = "ops_per_sec_min", opsPerSecondMax = "ops_per_sec_max"
        case orderEvents = "order_events", roundTripMismatches = "ouch_round_trip_mismatches"
        case latencyByRate = "latency_by_offered_rate"
    }
}
