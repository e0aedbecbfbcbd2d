import ExchangeRuntime
import Glibc

// What the market-data agent allocates, computed from the same settings and sizes its parts
// use, for the exchange's memory plan (`trading_exchange --check`): the heap (the feed
// publisher's packet slots and replica, the snapshot service's own copy of the books, chunk,
// table and buffers, the re-request and answer buffers), and what its io_uring and the
// snapshot service's buffer ring map with the kernel. The retransmit history is planned on
// its own (`RetransmitHistory.requiredBytes`).
extension MarketDataAgent {
    /// Completions taken from the ring in one go.
    static var completionBatch: Int { 128 }

    /// The heap bytes `init(configuration:…)` allocates, the retransmit history aside.
    public static func heapBytes(configuration c: Configuration) -> Int {
        let publisher = FeedPublisher.requiredBytes(maxPayload: c.maxPayloadBytes, instrumentCount: c.instruments.count,
                                                    packetSlots: c.packetSlots, orderCapacity: c.orderCapacity)
        let snapshots = SnapshotService.requiredBytes(
            capacity: c.maxSnapshotConnections, preLoginLimit: c.maxSnapshotPreLoginConnections,
            preLoginPerAddressLimit: c.maxSnapshotPreLoginPerAddress, instrumentCount: c.instruments.count,
            orderCapacity: c.orderCapacity, workPerTurn: c.snapshotWorkPerTurn, tls: c.snapshotTLS != nil)
        let answers = PacketSlots.requiredBytes(count: c.answerSlots, slotBytes: c.maxPayloadBytes)
            + c.answerSlots * (MemoryLayout<msghdr>.stride + MemoryLayout<iovec>.stride + MemoryLayout<sockaddr_in>.stride)
        let requests = c.retransmitReceives
            * (MemoryLayout<msghdr>.stride + MemoryLayout<sockaddr_in>.stride + requestBufferBytes + MemoryLayout<iovec>.stride)
        return publisher + snapshots + answers + requests + RetransmitPolicy.requiredBytes
            + completionBatch * MemoryLayout<Completion>.stride
    }

    /// What its io_uring and the snapshot service's receive-buffer ring map, in whole pages.
    public static func ringBytes(configuration c: Configuration) -> (ioUring: Int, bufferRing: Int) {
        let table = SnapshotService.tableConfiguration(capacity: c.maxSnapshotConnections, preLoginLimit: c.maxSnapshotPreLoginConnections,
                                                       preLoginPerAddressLimit: c.maxSnapshotPreLoginPerAddress)
        return (IOUring.plannedBytes(entries: Int(c.ringEntries)), ProvidedBuffers.ringBytes(count: table.receiveBufferCount))
    }

    /// What its io_uring and the snapshot service's buffer ring map now (for the plan's test).
    public var ringMappedBytes: (ioUring: Int, bufferRing: Int) { (ring.mappedBytes, snapshots.table.bufferRingBytes) }
}
