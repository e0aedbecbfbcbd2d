// What a connection table takes besides the receive buffers its owner places: its tables on
// the heap, and the provided-buffer ring it maps with the kernel.
extension ConnectionTable {
    /// The heap bytes `init(configuration:…)` allocates: per slot the service's session, the
    /// slot and a free-list entry; per receive buffer its parking entry; the per-address counts
    /// when a per-address limit is set.
    public static func heapBytes(configuration c: Configuration) -> Int {
        c.capacity * (MemoryLayout<Session>.stride + MemoryLayout<Slot>.stride + MemoryLayout<Int32>.stride)
            + c.receiveBufferCount * (MemoryLayout<Int32>.stride + MemoryLayout<Int32>.stride)
            + AddressCounts.requiredBytes(maximumCounted: addressesCounted(c))
    }

    /// Connections the per-address table counts at most: the pre-login limit when a
    /// per-address limit below it is set, else none (no table is needed).
    static func addressesCounted(_ c: Configuration) -> Int { c.preLoginPerAddressLimit < c.preLoginLimit ? c.preLoginLimit : 0 }

    /// What the table's provided-buffer ring maps, in whole pages.
    public var bufferRingBytes: Int { buffers.mappedBytes }
}
