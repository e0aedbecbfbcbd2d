import CMallocCounter
import ExchangeTLS
import Testing

/// What a TLS record costs the heap once the handshake is done: encrypting a message,
/// moving its ciphertext through the BIO pair, and decrypting it on the other side. Counted
/// on this thread by the malloc interposer (CShims/CMallocCounter), which sees OpenSSL's
/// allocations too (OPENSSL_malloc is malloc).
///
/// Measured with Debian's OpenSSL 3.0.19: the channel's own code allocates nothing, but
/// OpenSSL allocates and frees per record operation — 2 blocks per TLS 1.3 record encrypted
/// or decrypted, 1 per TLS 1.2 record, each freed before the call returns (the AEAD's
/// per-record parameter handling in its provider layer). The test holds that budget: every
/// block freed (nothing accumulates per record) and no more per record than measured, so a
/// change that adds heap work on this path fails here.
@Suite(.serialized) struct TLSHeapAllocations {
    @Test(arguments: [(TLSVersions.only13, 2), (.only12, 1)])
    func recordsInTheSteadyStateAllocateOnlyOpenSSLsPerRecordBlocks(versions: TLSVersions, perRecord: Int) throws {
        let server = try TLSContext.server(certificateFile: DevCertificates.path("server.pem"), keyFile: DevCertificates.path("server.key"))
        let client = try TLSContext.client(caFile: DevCertificates.path("ca.pem"), versions: versions)
        let pair = ChannelPair(client: client, server: server)
        #expect(pair.handshake().server == .complete)
        let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 49, alignment: 8)
        let received = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { message.deallocate(); received.deallocate() }
        message.initializeMemory(as: UInt8.self, repeating: 0x4F)

        func roundTrip() -> Int {
            var total = 0
            _ = pair.client.writePlaintext(UnsafeRawBufferPointer(message))
            pair.move()
            if case .bytes(let n) = pair.server.readPlaintext(into: received) { total += n }
            _ = pair.server.writePlaintext(UnsafeRawBufferPointer(message))
            pair.move()
            if case .bytes(let n) = pair.client.readPlaintext(into: received) { total += n }
            return total
        }
        // Warm up: the first records allocate OpenSSL's record buffers.
        for _ in 0..<8 { #expect(roundTrip() == 2 * message.count) }
        rtes_malloc_counter_start()
        var bytes = 0
        for _ in 0..<1000 { bytes += roundTrip() }
        let counts = rtes_malloc_counter_stop()
        #expect(bytes == 2000 * message.count)
        // 2 000 records, each encrypted once and decrypted once.
        let operations: UInt64 = 4_000
        #expect(counts.allocations == counts.frees, "\(counts.allocations) allocations, \(counts.frees) frees for \(operations) record operations")
        #expect(counts.allocations <= operations * UInt64(perRecord),
                "\(counts.allocations) allocations (\(counts.bytes) bytes) for \(operations) record operations")
    }
}
