import ExchangeCore
@testable import ExchangeGateway
import Testing

@Suite struct SessionLogTests {
    /// A log of `messages` in fresh memory, with the memory to free.
    static func log(messages: Int) -> (SessionLog, UnsafeMutableRawPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: SessionLog.requiredBytes(messages: messages), alignment: 64)
        return (SessionLog(messages: messages, memory: memory), memory)
    }

    /// A packet of `length` bytes whose every byte names its sequence number.
    static func packet(_ sequence: UInt64, length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: sequence &* 31 &+ UInt64($0)) }
    }

    /// The bytes from `offset` to the end, reading across the wrap.
    static func bytes(_ log: SessionLog, from offset: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var at = offset
        while at < log.writeOffset {
            let piece = log.contiguousBytes(from: at, limit: .max)
            out += piece
            at += UInt64(piece.count)
        }
        return out
    }

    @Test func numbersPacketsFromOneAndFindsEachByItsSequence() {
        var (log, memory) = Self.log(messages: 64)
        defer { memory.deallocate() }
        var expected: [[UInt8]] = []
        for sequence in 1...40 as ClosedRange<UInt64> {
            let p = Self.packet(sequence, length: 10 + Int(sequence % 70))
            p.withUnsafeBytes { log.append($0.baseAddress!, count: $0.count) }
            expected.append(p)
        }
        #expect(log.nextSequence == 41 && log.oldestSequence == 1)
        for sequence in 1...40 {
            let offset = log.offset(ofSequence: UInt64(sequence))!
            #expect(Self.bytes(log, from: offset) == Array(expected[(sequence - 1)...].joined()))
        }
        #expect(log.offset(ofSequence: 41) == log.writeOffset)
        #expect(log.offset(ofSequence: 42) == nil)
        #expect(log.offset(ofSequence: 0) == nil)
    }

    @Test func keepsTheLastMessagesAcrossManyWrapsOfTheByteRing() {
        var (log, memory) = Self.log(messages: 64)
        defer { memory.deallocate() }
        var lengths: [Int] = []
        for sequence in 1...10_000 as ClosedRange<UInt64> {
            let length = SessionLog.maximumPacketBytes - Int(sequence % 7) * 9
            Self.packet(sequence, length: length).withUnsafeBytes { log.append($0.baseAddress!, count: $0.count) }
            lengths.append(length)
        }
        #expect(log.oldestSequence == 10_001 - 64)
        #expect(log.offset(ofSequence: log.oldestSequence - 1) == nil)
        // Every kept packet reads back intact, including those split by the wrap.
        var offset = log.offset(ofSequence: log.oldestSequence)!
        for sequence in log.oldestSequence..<log.nextSequence {
            #expect(log.offset(ofSequence: sequence) == offset)
            let length = lengths[Int(sequence) - 1]
            let read = Array(Self.bytes(log, from: offset).prefix(length))
            #expect(read == Self.packet(sequence, length: length))
            offset += UInt64(length)
        }
    }

    @Test func holdsAtLeastItsMessageCapacityOfTheLargestPackets() {
        for messages in [64, 1_024, 65_536] {
            let (log, memory) = Self.log(messages: messages)
            #expect(log.byteCapacity >= messages * SessionLog.maximumPacketBytes)
            #expect(log.byteCapacity & (log.byteCapacity - 1) == 0)
            memory.deallocate()
        }
    }
}

@Suite struct TokenHistoryTests {
    static func history(capacity: Int) -> (TokenHistory, UnsafeMutableRawPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: TokenHistory.requiredBytes(capacity: capacity), alignment: 64)
        return (TokenHistory(capacity: capacity, memory: memory), memory)
    }

    @Test func remembersEveryTokenPerAccountForTheDay() {
        var (tokens, memory) = Self.history(capacity: 10_000)
        defer { memory.deallocate() }
        for n in 0..<5_000 as Range<UInt64> {
            #expect(tokens.insert(OrderToken(number: n), account: 1) == .inserted)
        }
        for n in 0..<5_000 as Range<UInt64> {
            #expect(tokens.insert(OrderToken(number: n), account: 1) == .duplicate)
            #expect(tokens.contains(OrderToken(number: n), account: 1))
            // The same token is another account's own.
            #expect(!tokens.contains(OrderToken(number: n), account: 2))
        }
        #expect(tokens.insert(OrderToken(number: 7), account: 2) == .inserted)
        #expect(tokens.count == 5_001)
    }

    @Test func reportsFullInsteadOfForgetting() {
        var (tokens, memory) = Self.history(capacity: 1_024)
        defer { memory.deallocate() }
        for n in 0..<1_024 as Range<UInt64> { #expect(tokens.insert(OrderToken(number: n), account: 0) == .inserted) }
        #expect(tokens.insert(OrderToken(number: 5_000), account: 0) == .full)
        #expect(tokens.insert(OrderToken(number: 3), account: 0) == .duplicate)
    }

    @Test func aTokenOfZeroBytesIsATokenLikeAnyOther() {
        var (tokens, memory) = Self.history(capacity: 1_024)
        defer { memory.deallocate() }
        let zero = OrderToken(high: 0, low: 0)
        #expect(!tokens.contains(zero, account: 0))
        #expect(tokens.insert(zero, account: 0) == .inserted)
        #expect(tokens.insert(zero, account: 0) == .duplicate)
        #expect(tokens.insert(zero, account: 1) == .inserted)
    }
}
