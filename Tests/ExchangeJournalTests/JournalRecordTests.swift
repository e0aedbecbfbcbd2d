import CChecksum
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import Testing

/// The record format: every command kind round-trips, the checksum is CRC-32C, and any
/// damage is named.
@Suite struct JournalRecordTests {
    static let token = OrderToken("TOKEN-0000042")!
    static let other = OrderToken("TOKEN-0000043")!
    static let symbol = Symbol("AAPL")!

    /// One command of every kind, with every field away from its default.
    static let commands: [EngineCommand] = [
        .enter(EnterOrder(timestamp: 34_200_000_000_001, client: 7, token: token, side: .sellShort, orderType: .market,
                          shares: 300, symbol: symbol, price: 2_300_100, timeInForce: .seconds(30), firm: Firm("ABCD")!,
                          display: .attributable, capacity: .principal, intermarketSweep: .eligible, minimumQuantity: 100,
                          crossType: .opening, customerType: .retail)),
        .replace(ReplaceOrder(timestamp: 2, client: 8, existingToken: token, replacementToken: other, shares: 200, price: 1_000_000,
                              timeInForce: .immediateOrCancel, display: .nonDisplayed, intermarketSweep: .eligible, minimumQuantity: 5)),
        .cancel(CancelOrder(timestamp: 3, client: 9, token: token, shares: 50)),
        .modify(ModifyOrder(timestamp: 4, client: 10, token: token, side: .sellShortExempt, shares: 10)),
        .cancelAll(ClientAction(timestamp: 5, client: 11)),
        .killClient(ClientAction(timestamp: 6, client: 12)),
        .reinstateClient(ClientAction(timestamp: 7, client: 13)),
        .killExchange(8),
        .reinstateExchange(9),
        .haltInstrument(InstrumentAction(timestamp: 10, symbol: symbol)),
        .resumeInstrument(InstrumentAction(timestamp: 11, symbol: symbol)),
        .advanceTime(12),
        .refuse(Refusal(timestamp: 13, client: 14, token: token, reason: .duplicateToken, asCancelReject: true)),
        .session(SessionEvent(timestamp: 14, client: 15, kind: .disconnect)),
        .startOfDay(15),
        .endOfDay(16),
        .fixSession(FIXSessionFact.outbound(timestamp: 17, client: 16, first: 5, count: 2, execIDs: 1, nextInbound: 9, reset: true)),
        .fixSession(FIXSessionFact.bind(timestamp: 18, client: 17, tokenBase: 30_000_000, execIDPrefix: 3_000_018)),
        .fixSession(Self.clOrdIDFact),
        .fixSession(Self.replyChunk),
        .leadership(LeadershipTerm(timestamp: 19, token: 1_234_567, name: "primary-a:9100")!),
        .leadership(LeadershipTerm(timestamp: 20, token: 1, name: String(repeating: "n", count: LeadershipTerm.maximumNameBytes))!),
        .tradingPhase(PhaseCommand(timestamp: 21, symbol: symbol, action: .closingCross)),
        .tradingPhase(PhaseCommand(timestamp: 22, symbol: .everySymbol, action: .indicateImbalance)),
        .operatorNote(OperatorNote.records(action: .killFirm, subject: UInt64(Firm("ABCD")!.rawValue), who: "ops.1",
                                           reason: String(repeating: "r", count: OperatorNote.maximumReasonBytes), timestamp: 23)!.last!),
        .operatorNote(OperatorNote.records(action: .halt, subject: symbol.rawValue, who: "a", reason: "b", timestamp: 24)![0]),
    ]

    static let clOrdIDFact: FIXSessionFact = Array("ORDER-0123456789-abcdefghij-XYZ!".utf8).withUnsafeBytes {
        FIXSessionFact.clOrdID(timestamp: 19, client: 18, entry: 7, entryKind: 3, link: 5, rejectedAtOnce: true, nextInbound: 12,
                               clOrdID: $0)!
    }
    static let replyChunk: FIXSessionFact = Array("37=NONE\u{01}11=B2\u{01}17=1.2\u{01}150=0\u{01}39=0\u{01}55=AAPL\u{01}".utf8).withUnsafeBytes {
        FIXSessionFact.replyChunk(timestamp: 20, client: 19, sequence: 4, chunk: 2, bytes: $0)
    }

    @Test func aFIXSessionFactKeepsItsClOrdIDAndItsChunk() {
        #expect(String(decoding: Self.clOrdIDFact.clOrdIDBytes, as: UTF8.self) == "ORDER-0123456789-abcdefghij-XYZ!")
        #expect(Self.clOrdIDFact.entry == 7 && Self.clOrdIDFact.link == 5 && Self.clOrdIDFact.rejectedAtOnce)
        #expect(Self.clOrdIDFact.clOrdIDLength == 32 && Self.clOrdIDFact.nextInbound == 12)
        #expect(Self.replyChunk.chunk == 2 && Self.replyChunk.length == 32 && Self.replyChunk.first == 4)
        #expect(MemoryLayout<EngineCommand>.size <= MemoryLayout<EnterOrder>.size + 1, "a FIX fact made every command larger")
    }

    @Test func everyKindIsCovered() {
        #expect(Set(Self.commands.map { JournalRecord.Kind($0) }) == Set(JournalRecord.Kind.allCases))
    }

    @Test func everyCommandRoundTrips() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.maximumBytes, alignment: 8)
        defer { buffer.deallocate() }
        for (i, command) in Self.commands.enumerated() {
            let sequenced = SequencedCommand(sequence: UInt64(1_000 + i), command: command)
            let length = JournalRecord.encode(sequenced, to: buffer)
            #expect(length == JournalRecord.Kind(command).recordBytes)
            #expect(length % 8 == 0)
            let decoded = try JournalRecord.decode(UnsafeRawBufferPointer(start: buffer, count: length)).get()
            #expect(decoded.command == sequenced)
            #expect(decoded.length == length)
        }
    }

    @Test func checksumIsCRC32C() {
        // The standard check value of CRC-32C: "123456789" → 0xE3069283.
        let check = Array("123456789".utf8).withUnsafeBytes { rtes_crc32c(0, $0.baseAddress, $0.count) }
        #expect(check == 0xE306_9283)
        // Extending a checksum equals checksumming the whole.
        let whole = Array("123456789".utf8).withUnsafeBytes { rtes_crc32c(0, $0.baseAddress, 9) }
        let split = Array("123456789".utf8).withUnsafeBytes { rtes_crc32c(rtes_crc32c(0, $0.baseAddress, 4), $0.baseAddress! + 4, 5) }
        #expect(whole == split)
    }

    @Test func everyFlippedBitIsCaught() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.maximumBytes, alignment: 8)
        defer { buffer.deallocate() }
        let length = JournalRecord.encode(SequencedCommand(sequence: 5, command: Self.commands[0]), to: buffer)
        for bit in 0..<(length * 8) {
            let byte = buffer.load(fromByteOffset: bit / 8, as: UInt8.self)
            buffer.storeBytes(of: byte ^ (1 << UInt8(bit % 8)), toByteOffset: bit / 8, as: UInt8.self)
            let result = JournalRecord.decode(UnsafeRawBufferPointer(start: buffer, count: length))
            if case .success = result { Issue.record("bit \(bit) flipped and the record still decoded") }
            buffer.storeBytes(of: byte, toByteOffset: bit / 8, as: UInt8.self)
        }
    }

    @Test func aCutRecordIsTruncated() {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: JournalRecord.maximumBytes, alignment: 8)
        defer { buffer.deallocate() }
        let length = JournalRecord.encode(SequencedCommand(sequence: 5, command: Self.commands[0]), to: buffer)
        for cut in 0..<length {
            let result = JournalRecord.decode(UnsafeRawBufferPointer(start: buffer, count: cut))
            guard case .failure(.truncated) = result else {
                Issue.record("a record cut at \(cut) of \(length) bytes gave \(result)")
                continue
            }
        }
    }

    @Test func segmentHeaderRoundTripsAndNamesDamage() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: JournalSegmentHeader.bytes, alignment: 4_096)
        defer { buffer.deallocate() }
        let header = JournalSegmentHeader(firstSequence: 12_345, segmentIndex: 3, createdAt: 1_765_000_000_000_000_000,
                                          capacity: 64 << 20, day: "2026-12-07")
        header.encode(to: buffer)
        let bytes = UnsafeRawBufferPointer(start: buffer, count: JournalSegmentHeader.bytes)
        #expect(try JournalSegmentHeader.decode(bytes).get() == header)
        // A segment file starts with the ASCII bytes "RTESJRNL" (what `file` and `xxd` show).
        #expect(Array(bytes.prefix(8)) == Array("RTESJRNL".utf8))
        #expect(JournalSegmentHeader.fileName(firstSequence: 12_345) == "00000000000000012345.rtj")
        buffer.storeBytes(of: UInt8(0x33), toByteOffset: 50, as: UInt8.self)
        #expect(JournalSegmentHeader.decode(bytes) == .failure(.checksumMismatch))
        buffer.storeBytes(of: UInt8(0), toByteOffset: 0, as: UInt8.self)
        #expect(JournalSegmentHeader.decode(bytes) == .failure(.badMagic))
    }
}
