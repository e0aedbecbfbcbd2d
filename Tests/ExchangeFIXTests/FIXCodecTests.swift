import ExchangeCore
@testable import ExchangeFIX
import Testing

@Suite struct FIXCodec {
    func frame(_ bytes: [UInt8], max: Int = 4096) -> FIXFrame {
        bytes.withUnsafeBytes { FIXFrameReader.next($0, maximumLength: max) }
    }

    /// The header-tag bitmap is FIX 4.4's standard header, no more and no less.
    @Test func theHeaderTagBitmapHoldsExactlyTheStandardHeader() {
        let header: Set<FIXTag> = [8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122,
                                   212, 213, 347, 369, 627, 628, 629, 630]
        for tag in FIXTag(0)..<FIXTag(70_000) where FIXMessage.isHeaderTag(tag) != header.contains(tag) {
            Issue.record("tag \(tag): isHeaderTag \(FIXMessage.isHeaderTag(tag))")
        }
    }

    /// A timestamp written through the per-second cache is the one written without it.
    @Test func cachedTimestampsAreTheSameBytes() {
        var cache = FIXTimestampCache()
        var plain = [UInt8](repeating: 0, count: 32)
        var cached = [UInt8](repeating: 0, count: 32)
        var t: UInt64 = 1_796_601_599_000_000_000  // 2026-12-06T23:59:59Z
        var rng = SystemRandomNumberGenerator()
        for i in 0..<20_000 {
            t &+= i % 7 == 0 ? UInt64.random(in: 0..<3_000_000_000, using: &rng) : UInt64.random(in: 0..<2_000_000, using: &rng)
            for precision in [FIXTimestamp.Precision.milliseconds, .microseconds] {
                let n = plain.withUnsafeMutableBytes { FIXTimestamp.write(t, precision: precision, to: $0.baseAddress!) }
                let m = cached.withUnsafeMutableBytes { FIXTimestamp.write(t, precision: precision, to: $0.baseAddress!, cache: &cache) }
                if n != m || plain[0..<n] != cached[0..<m] {
                    Issue.record("\(t): \(String(decoding: plain[0..<n], as: UTF8.self)) written as \(String(decoding: cached[0..<m], as: UTF8.self))")
                    return
                }
            }
        }
    }

    @Test func framesAWholeMessageAndWaitsForAPartialOne() {
        let m = fix("35=0|49=A|56=B|34=1|52=20261207-09:00:00.000|")
        #expect(frame(m) == .message(length: m.count))
        for cut in 0..<m.count { #expect(frame(Array(m[0..<cut])) == .needMore, "cut at \(cut)") }
        #expect(frame(m + m) == .message(length: m.count))
    }

    @Test func aWrongCheckSumOrBodyLengthIsGarbledAndSkipped() {
        let good = fix("35=0|49=A|56=B|34=1|52=20261207-09:00:00.000|")
        let badSum = fix("35=0|49=A|56=B|34=1|52=20261207-09:00:00.000|", checksum: 1)
        #expect(frame(badSum) == .garbled(skip: badSum.count, reason: .checkSumMismatch))
        let badLength = fix("35=0|49=A|56=B|34=1|52=20261207-09:00:00.000|", bodyLength: 10)
        if case .garbled(let skip, .checkSumMissing) = frame(badLength + good) {
            #expect(Array((badLength + good)[skip...]) == good)
        } else {
            Issue.record("expected garbled")
        }
        // No next message in sight: all but the last 5 bytes go (a next `8=FIX` may be arriving).
        #expect(frame(Array("8=FIX.4.4\u{01}9=x1\u{01}".utf8)) == .garbled(skip: 10, reason: .badBodyLength))
        if case .garbled(let skip, .noBeginString) = frame(Array("junk".utf8) + good) { #expect(skip >= 1) } else { Issue.record("junk") }
    }

    @Test func anotherBeginStringOrAnOversizedMessageIsFatal() {
        #expect(frame(Array("8=FIX.4.2\u{01}9=5\u{01}35=0\u{01}10=000\u{01}".utf8)) == .fatal(.wrongBeginString))
        #expect(frame(fix("35=0|58=\(String(repeating: "x", count: 200))|"), max: 100) == .fatal(.messageTooLong))
    }

    func parse(_ fields: String) -> FIXParseFailure? {
        let m = fix(fields)
        var message = FIXMessage()
        return m.withUnsafeBytes { message.parse($0) }
    }

    @Test func mapsEachFieldProblemToItsSessionRejectReason() {
        let h = "49=A|56=B|34=7|52=20261207-09:00:00.000"
        #expect(parse("35=0|\(h)|") == nil)
        #expect(parse("35=0|\(h)|58=a|58=b|") == .reject(FIXFieldProblem(.tagAppearsMoreThanOnce, tag: 58)))
        #expect(parse("35=0|\(h)|58=|") == .reject(FIXFieldProblem(.tagSpecifiedWithoutValue, tag: 58)))
        #expect(parse("35=0|\(h)|5x8=a|") == .reject(FIXFieldProblem(.invalidTagNumber, tag: 0)))
        #expect(parse("35=0|49=A|58=x|56=B|34=7|52=20261207-09:00:00.000|")
            == .reject(FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: 56)))
        #expect(parse("49=A|35=0|56=B|34=7|52=20261207-09:00:00.000|")
            == .reject(FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: 49)))
        #expect(parse("35=0|56=B|34=7|52=20261207-09:00:00.000|") == .reject(FIXFieldProblem(.requiredTagMissing, tag: 49)))
        #expect(parse("35=0|49=A|56=B|34=7|52=20261207-25:00:00|") == .reject(FIXFieldProblem(.incorrectDataFormat, tag: 52)))
        #expect(parse("35=0|49=A|56=B|34=x|52=20261207-09:00:00.000|") == .missingMsgSeqNum)
        #expect(parse("35=0|49=A|56=B|52=20261207-09:00:00.000|") == .missingMsgSeqNum)
        #expect(parse("35=0|\(h)|43=X|") == .reject(FIXFieldProblem(.valueIsIncorrect, tag: 43)))
    }

    @Test func writesBodyLengthAndCheckSumAQuickReaderAccepts() {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { b -> Int in
            var w = FIXWriter(b)
            w.msgType(.heartbeat)
            w.field(Tag.senderCompID, text: "A")
            w.field(Tag.targetCompID, text: "B")
            w.field(Tag.msgSeqNum, 1)
            w.timestamp(Tag.sendingTime, t0, precision: .microseconds)
            return w.finish()!
        }
        let m = Array(buffer[0..<n])
        #expect(m == fix("35=0|49=A|56=B|34=1|52=20261207-09:00:00.000000|"))
        var small = [UInt8](repeating: 0, count: 40)
        let none = small.withUnsafeMutableBytes { b -> Int? in
            var w = FIXWriter(b)
            w.msgType(.heartbeat)
            w.field(Tag.text, text: "a text far too long for forty bytes of buffer")
            return w.finish()
        }
        #expect(none == nil)
    }

    @Test func pricesAreExactBothWays() {
        func p(_ s: String) -> Price? { Array(s.utf8).withUnsafeBytes { FIXNumbers.price($0) } }
        #expect(p("150.25") == 1_502_500)
        #expect(p("150") == 1_500_000)
        #expect(p("150.250000") == 1_502_500)
        #expect(p("0.0001") == 1)
        #expect(p(".5") == 5_000)
        #expect(p("150.00001") == nil)
        #expect(p("-1") == nil)
        #expect(p("1e3") == nil)
        #expect(p(".") == nil)
        #expect(p("") == nil)
        #expect(p("429496.7295") == UInt32.max)
        #expect(p("429496.7296") == nil)
        func w(_ v: UInt64, _ scale: Int) -> String {
            var b = [UInt8](repeating: 0, count: 40)
            let n = b.withUnsafeMutableBytes { FIXNumbers.writeDecimal(v, scale: scale, to: $0.baseAddress!) }
            return String(decoding: b[0..<n], as: UTF8.self)
        }
        #expect(w(1_502_500, 4) == "150.25")
        #expect(w(1_500_000, 4) == "150")
        #expect(w(1, 4) == "0.0001")
        #expect(w(0, 4) == "0")
        for v: UInt64 in [0, 1, 9, 10, 99_999, 1_502_501, UInt64(UInt32.max)] {
            #expect(p(w(v, 4)).map(UInt64.init) == v)
        }
    }

    @Test func timestampsRoundTripWithMillisecondsAndMicroseconds() {
        #expect(stamp(t0) == "20261207-09:00:00.000")
        func parse(_ s: String) -> UInt64? { Array(s.utf8).withUnsafeBytes { FIXTimestamp.parse($0) } }
        #expect(parse("20261207-09:00:00.000") == t0)
        #expect(parse("20261207-09:00:00") == t0)
        #expect(parse("20261207-09:00:00.000123") == t0 + 123_000)
        #expect(parse("20261207-09:00:00.000000123") == t0 + 123)
        #expect(parse("20240229-00:00:00") != nil)
        #expect(parse("20250229-00:00:00") == nil)
        #expect(parse("20261307-00:00:00") == nil)
        #expect(parse("2026120709:00:00.000") == nil)
        var b = [UInt8](repeating: 0, count: 32)
        for ns in [UInt64(0), t0 + 123_456_789, 951_782_400_000_000_000 /* 2000-02-29 */, 4_102_444_799_999_999_999] {
            let n = b.withUnsafeMutableBytes { FIXTimestamp.write(ns, precision: .microseconds, to: $0.baseAddress!) }
            #expect(Array(b[0..<n]).withUnsafeBytes { FIXTimestamp.parse($0) } == ns / 1000 * 1000)
        }
    }
}
