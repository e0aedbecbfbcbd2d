import ExchangeClock
import ExchangeConfig
import ExchangeGateway
import ExchangeTestRig
import Testing

/// The memory plan's figures for the gateway's io_uring and receive-buffer ring against what
/// the running gateway mapped. Tolerance: the io_uring plan may be one page above (it takes
/// the rings' header at its largest), never below; the buffer ring is exact.
@Suite struct GatewayMemory {
    @Test(arguments: [16, 1_024, 3_000])
    func theGatewaysRingsMapWhatThePlanSays(maxConnections: Int) throws {
        var knobs = ExchangeKnobs()
        knobs.maxConnections = maxConnections
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current())
            .configuration
        var rig = try GatewayEngineRig(configuration: configuration, clock: ManualClock())
        let planned = GatewayLayout.ringBytes(settings: configuration.gateway)
        let mapped = rig.gateway.ringMappedBytes
        #expect(planned.ioUring >= mapped.ioUring && planned.ioUring - mapped.ioUring <= 4_096,
                "planned \(planned.ioUring), mapped \(mapped.ioUring)")
        #expect(planned.bufferRing == mapped.bufferRing)
        #expect(GatewayLayout.ringEntries(settings: configuration.gateway) == UInt32(min(4_096, max(256, (2 * maxConnections).nextPowerOf2))))
        rig.turn()
        let memory = rig.memory
        rig.shutDown()
        memory.release()
    }
}

private extension Int {
    var nextPowerOf2: Int {
        var n = 1
        while n < self { n <<= 1 }
        return n
    }
}
