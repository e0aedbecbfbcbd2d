import CMallocCounter
import ExchangeConfig
@testable import ExchangeGateway
import ExchangeTestRig
import Testing

/// The memory plan's figure for the FIX port (`FIXMemory`, what `--check` prints) is what the
/// port allocates at start, within a few percent — with and without drop copies.
@Suite(.serialized) struct FIXMemoryTests {
    static func allocated(_ settings: FIXSettings, sendQueueBytes: Int) -> Int {
        rtes_malloc_counter_start()
        let port = FIXPort(settings: settings, accounts: devKeys, sendQueueBytes: sendQueueBytes, epochMidnight: 0, startNanoseconds: 0)
        let counted = rtes_malloc_counter_stop()
        port.deallocate()
        return Int(counted.bytes)
    }

    @Test(arguments: [(8, 64, 8_192, 65_536, UInt16(0)), (4, 16, 1_024, 4_096, UInt16(9879)), (32, 256, 16_384, 100_000, UInt16(9879))])
    func thePlanCountsWhatThePortAllocates(sessions: Int, connections: Int, store: Int, clOrdIDs: Int, dropCopyPort: UInt16) {
        var settings = FIXSettings()
        settings.port = 9878
        settings.maxSessions = sessions
        settings.maxConnections = connections
        settings.resendStoreMessages = store
        settings.maxClOrdIDs = clOrdIDs
        settings.dropCopyPort = dropCopyPort
        let entitled = devKeys.accounts.filter(\.dropCopy).count
        let planned = FIXMemory.heapBytes(settings: settings, dropCopyAccounts: entitled, sendQueueBytes: 1 << 20)
        let measured = Self.allocated(settings, sendQueueBytes: 1 << 20)
        #expect(measured > 0)
        let ratio = Double(planned) / Double(measured)
        #expect(ratio > 0.95 && ratio < 1.05, "planned \(planned) B, allocated \(measured) B")
    }
}
