import CMallocCounter
import ExchangeJournal
import Testing

/// Replay allocates nothing per record: records decode in place in the cursor's buffer,
/// and refilling it is a `pread` into the same buffer.
@Suite struct JournalReplayAllocationTests {
    @Test func readingRecordsAllocatesNothing() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        try fixture.writeJournal(count: 4_000, perSegment: 4_000, capacity: 1 << 20)
        let reader = try JournalReader.open(directory: fixture.directory)
        // A small buffer, so that the loop refills it many times.
        var cursor = reader.records(readBytes: 4_096)
        _ = try cursor.next()  // opens the segment
        var count = 1
        var sum: UInt64 = 0
        rtes_malloc_counter_start()
        while let record = try cursor.next() {
            count += 1
            sum &+= record.sequence
        }
        let counts = rtes_malloc_counter_stop()
        #expect(count == 4_000)
        #expect(sum == (2...4_000).reduce(0) { $0 + UInt64($1) })
        #expect(counts.allocations == 0, "\(counts.allocations) allocations, \(counts.bytes) bytes")
    }
}
