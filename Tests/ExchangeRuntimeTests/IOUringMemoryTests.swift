import CExchangeShim
import ExchangeRuntime
import Glibc
import Testing

/// The memory plan's figure for an io_uring (`IOUring.plannedBytes`) against what the kernel
/// mapped (liburing's `ring_sz` and the SQE array, in pages). Tolerance: the plan takes the
/// rings' header as 256 bytes at most, so it may be one page above, never below.
@Suite(.enabled(if: IOUringFeatures.probe().ring.isAvailable, "io_uring is not available on this kernel"))
struct IOUringMemoryTests {
    @Test func thePlannedBytesOfARingAreWhatTheKernelMapsWithinAPage() throws {
        for entries in [8, 64, 256, 1_024, 4_096] {
            let ring = try IOUring(entries: UInt32(entries))
            let planned = IOUring.plannedBytes(entries: entries)
            let mapped = ring.mappedBytes
            #expect(planned >= mapped && planned - mapped <= 4_096, "\(entries) entries: planned \(planned), mapped \(mapped)")
            #expect(mapped >= entries * (MemoryLayout<io_uring_sqe>.size + IOUring.completionsPerEntry * MemoryLayout<io_uring_cqe>.size))
        }
    }

    @Test func aBufferRingMapsOneEntryPerBufferInWholePages() {
        #expect(ProvidedBuffers.ringBytes(count: 16) == 4_096)
        #expect(ProvidedBuffers.ringBytes(count: 4_096) == 4_096 * MemoryLayout<io_uring_buf>.stride)
    }
}
