import ExchangeCore
import ExchangeMarketData
import ExchangeTestSupport
import ExchangeWire
import Testing

@Suite struct RetransmitHistoryTests {
    func message(_ i: Int) -> [UInt8] {
        // Variable lengths, 12…44 bytes, content from the sequence number.
        let length = [12, 19, 23, 31, 36, 40, 44][i % 7]
        return (0..<length).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) }
    }

    @Test func resendsExactlyTheBlocksThatWerePublishedAcrossTheRingsWrap() {
        var history = RetransmitHistory(capacity: 64)
        for i in 1...1_000 { message(i).withUnsafeBytes { history.append($0.baseAddress!, length: $0.count) } }
        #expect(history.oldestSequence == 1_000 - 64 + 1 && history.nextSequence == 1_001)
        var out = [UInt8](repeating: 0, count: 4_096)
        for start in UInt64(history.oldestSequence)..<1_001 {
            let (count, bytes) = out.withUnsafeMutableBytes { history.copyBlocks(from: start, maxCount: 10, maxBytes: 4_096, to: $0.baseAddress!) }
            #expect(count == min(10, Int(1_001 - start)))
            var expected: [UInt8] = []
            for s in Int(start)..<(Int(start) + count) {
                let m = message(s)
                expected += [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m
            }
            #expect(Array(out[0..<bytes]) == expected)
        }
    }

    @Test func stopsAtTheByteLimitAndAtTheNewestMessageAndRefusesWhatItNoLongerHas() {
        var history = RetransmitHistory(capacity: 16)
        for i in 1...40 { message(i).withUnsafeBytes { history.append($0.baseAddress!, length: $0.count) } }
        var out = [UInt8](repeating: 0, count: 4_096)
        let limited = out.withUnsafeMutableBytes { history.copyBlocks(from: 30, maxCount: 100, maxBytes: 60, to: $0.baseAddress!) }
        #expect(limited.bytes <= 60 && limited.count >= 1)
        let tail = out.withUnsafeMutableBytes { history.copyBlocks(from: 38, maxCount: 100, maxBytes: 4_096, to: $0.baseAddress!) }
        #expect(tail.count == 3)
        #expect(out.withUnsafeMutableBytes { history.copyBlocks(from: 24, maxCount: 5, maxBytes: 4_096, to: $0.baseAddress!) }.count == 0)
        #expect(out.withUnsafeMutableBytes { history.copyBlocks(from: 41, maxCount: 5, maxBytes: 4_096, to: $0.baseAddress!) }.count == 0)
    }

    /// A history that continues a session after a restart holds nothing before its first
    /// sequence number: never a block of zeros, never a position it did not write.
    @Test func aHistoryThatStartsPastOneNeverServesWhatCameBeforeItsFirstMessage() {
        var history = RetransmitHistory(capacity: 64, firstSequence: 5_000)
        let (oldest, next, holds) = (history.oldestSequence, history.nextSequence, history.contains(4_999))
        #expect(oldest == 5_000 && next == 5_000 && !holds)
        for i in 5_000..<5_010 { message(i).withUnsafeBytes { history.append($0.baseAddress!, length: $0.count) } }
        let (oldestNow, nextNow) = (history.oldestSequence, history.nextSequence)
        #expect(oldestNow == 5_000 && nextNow == 5_010)
        var out = [UInt8](repeating: 0, count: 4_096)
        for before in [UInt64(1), 4_937, 4_999] {
            let holds = history.contains(before)
            let copied = out.withUnsafeMutableBytes { history.copyBlocks(from: before, maxCount: 20, maxBytes: 4_096, to: $0.baseAddress!) }
            #expect(!holds && copied.count == 0 && copied.bytes == 0)
        }
        let first = out.withUnsafeMutableBytes { history.copyBlocks(from: 5_000, maxCount: 1, maxBytes: 4_096, to: $0.baseAddress!) }
        let m = message(5_000)
        #expect(first.count == 1 && Array(out[0..<first.bytes]) == [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m)
        // Once it has wrapped, the oldest is the capacity's bound again.
        for i in 5_010..<5_100 { message(i).withUnsafeBytes { history.append($0.baseAddress!, length: $0.count) } }
        let wrapped = history.oldestSequence
        #expect(wrapped == 5_100 - 64)
    }
}

@Suite struct RetransmitPolicyTests {
    func request(_ session: SoupSessionName = testSession, sequence: UInt64, count: UInt16) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        _ = out.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: session, sequence: sequence, count: count, to: $0.baseAddress!) }
        return out
    }

    func decide(_ policy: inout RetransmitPolicy, _ bytes: [UInt8], requester: UInt64 = 1, now: UInt64 = 1_000_000_000) -> RetransmitPolicy.Decision {
        bytes.withUnsafeBytes { policy.decide($0, requester: requester, now: now, oldest: 100, next: 200) }
    }

    @Test func givesEveryKindOfRequestItsDefinedOutcome() {
        var policy = RetransmitPolicy(session: testSession, maxRequestsPerSecond: 1_000)
        #expect(decide(&policy, request(sequence: 150, count: 10)) == .init(outcome: .answer, sequence: 150, count: 10))
        #expect(decide(&policy, request(sequence: 195, count: 10)) == .init(outcome: .answer, sequence: 195, count: 5))
        #expect(decide(&policy, request(sequence: 99, count: 10)).outcome == .beforeHistory)
        #expect(decide(&policy, request(sequence: 200, count: 1)).outcome == .notYetPublished)
        #expect(decide(&policy, request(SoupSessionName("OTHER")!, sequence: 150, count: 1)).outcome == .wrongSession)
        #expect(decide(&policy, request(sequence: 0, count: 1)).outcome == .malformed)
        #expect(decide(&policy, request(sequence: 150, count: 0)).outcome == .malformed)
        #expect(decide(&policy, Array(request(sequence: 150, count: 1).dropLast())).outcome == .malformed)
        #expect(decide(&policy, request(sequence: 150, count: 1) + [0]).outcome == .malformed)
        #expect(decide(&policy, []).outcome == .malformed)
    }

    @Test func limitsOneFlooderToAQuarterOfTheServerAndLeavesTheRestToOthers() {
        var policy = RetransmitPolicy(session: testSession, maxRequestsPerSecond: 400)
        let now: UInt64 = 5_000_000_000
        var flooderAnswered = 0
        for _ in 0..<10_000 where decide(&policy, request(sequence: 150, count: 1), requester: 0x7F00_0001_1111, now: now).outcome == .answer {
            flooderAnswered += 1
        }
        #expect(flooderAnswered == 100)
        // Another requester still gets its own share at the same instant.
        var otherAnswered = 0
        for _ in 0..<50 where decide(&policy, request(sequence: 150, count: 1), requester: 0x7F00_0002_2222, now: now).outcome == .answer {
            otherAnswered += 1
        }
        #expect(otherAnswered == 50)
        // The flooder's bucket refills with time: a tenth of a second gives 10 more.
        var later = 0
        for _ in 0..<1_000 where decide(&policy, request(sequence: 150, count: 1), requester: 0x7F00_0001_1111, now: now + 100_000_000).outcome == .answer {
            later += 1
        }
        #expect(later == 10)
    }

    @Test func neverLetsTheWholeServerAnswerMoreThanItsRate() {
        var policy = RetransmitPolicy(session: testSession, maxRequestsPerSecond: 100)
        var answered = 0
        for requester in 0..<1_000 where decide(&policy, request(sequence: 150, count: 1), requester: UInt64(requester) << 16, now: 9_000_000_000).outcome == .answer {
            answered += 1
        }
        #expect(answered == 100)
    }
}
