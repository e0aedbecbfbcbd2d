import CMallocCounter
import ExchangeAccess
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeMarketData
import ExchangeRuntime
import Testing

/// The memory plan's market-data figures against what the agent takes: its heap, counted by
/// the malloc counter while it is built, and what its io_uring and buffer ring map.
@Suite(.serialized) struct MarketDataMemoryTests {
    /// The plan leaves out a few kilobytes (the start-up report's strings, liburing's
    /// `struct io_uring`, the clock): it may be below what is allocated by at most 1 % plus
    /// 64 KiB, and never above.
    @Test(arguments: [(100_000, 1_024), (20_000, 0)])
    func theAgentAllocatesWhatThePlanSays(orderCapacity: Int, workPerTurn: Int) throws {
        var configuration = SnapshotTestRig.defaultConfiguration()
        configuration.orderCapacity = orderCapacity
        configuration.snapshotWorkPerTurn = workPerTurn
        let counters = UnsafeMutableRawPointer.allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        defer { counters.deallocate() }
        counters.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        let cells = CounterCells(base: counters)
        _ = try cells.register(MarketDataCounters.block)  // registered before counting: the registry's own allocations
        var ring = SPSCRing<SequencedEvent>(capacity: 1_024)
        let events = ring.makeConsumer()
        let logins = LoginChannel(service: "snapshot", capacity: 16, rejectCapacity: 1)
        let client = logins.makeClient()
        let clock = ManualClock()

        rtes_malloc_counter_start()
        var agent = try MarketDataAgent(configuration: configuration, clock: clock, events: events, logins: client, cells: cells,
                                        upstreamFinished: { true })
        let counted = rtes_malloc_counter_stop()
        defer { agent.onClose() }

        let planned = MarketDataAgent<ManualClock>.heapBytes(configuration: configuration)
            + RetransmitHistory.requiredBytes(capacity: configuration.retransmitHistoryMessages)
        let allocated = Int(counted.bytes)
        #expect(allocated >= planned, "planned \(planned) bytes, allocated \(allocated)")
        #expect(allocated - planned <= planned / 100 + 65_536, "planned \(planned) bytes, allocated \(allocated)")

        let plannedRings = MarketDataAgent<ManualClock>.ringBytes(configuration: configuration)
        let mapped = agent.ringMappedBytes
        #expect(plannedRings.ioUring >= mapped.ioUring && plannedRings.ioUring - mapped.ioUring <= 4_096)
        #expect(plannedRings.bufferRing == mapped.bufferRing)
    }
}
