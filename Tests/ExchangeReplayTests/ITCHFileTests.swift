import ExchangeCore
import ExchangeReplay
import Foundation
import Testing

/// The file format: every ITCH 5.0 message type read (the replay's own and the ones it
/// skips), plain and gzip, and every malformation refused with a clear error.
@Suite struct ITCHFileTests {
    static func readAll(_ reader: ITCHFileReader) throws(ITCHFileError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let m = try reader.next() { out.append(Array(m)) }
        return out
    }

    /// One message of every type of the specification, flow messages with real fields.
    static var everyType: [[UInt8]] {
        var messages: [[UInt8]] = []
        for (i, type) in ITCHFileFormat.types.enumerated() {
            let t = UInt64(i + 1) * 1_000
            switch Character(UnicodeScalar(type)) {
            case "A": messages.append(ITCHFiles.add(1, .buy, 100, "AAPL", 2_300_000, time: t))
            case "F": messages.append(ITCHFiles.add(2, .sell, 200, "AAPL", 2_310_000, time: t, mpid: true))
            case "E": messages.append(ITCHFiles.executed(1, 10, time: t))
            case "C": messages.append(ITCHFiles.executed(1, 10, time: t, withPrice: true))
            case "X": messages.append(ITCHFiles.cancel(2, 50, time: t))
            case "U": messages.append(ITCHFiles.replace(2, 3, 120, 2_320_000, time: t))
            case "D": messages.append(ITCHFiles.delete(1, time: t))
            default: messages.append(ITCHFiles.message(Character(UnicodeScalar(type)), time: t))
            }
        }
        return messages
    }

    @Test func readsEveryMessageTypePlainAndGzip() throws {
        for gzip in [false, true] {
            let path = try ITCHFiles.write(Self.everyType, gzip: gzip)
            defer { unlink(path) }
            let reader = try ITCHFileReader(path: path)
            let read = try Self.readAll(reader)
            #expect(read == Self.everyType)
            #expect(reader.compressed == gzip)
            #expect(reader.messages == UInt64(ITCHFileFormat.types.count))
        }
    }

    @Test func decodesTheFlowAndSkipsTheRest() throws {
        var book = ReplayBook(symbols: [Symbol("AAPL")!], maxOrders: 10, tokenPrefix: "T")
        var actions: [ReplayAction] = []
        book.goLive(into: &actions)
        let reader = ITCHFileReader(bytes: ITCHFiles.framed(Self.everyType))
        var times: [UInt64] = []
        while let m = try reader.next() {
            times.append(ReplayEvent.timestamp(m))
            try book.apply(ReplayEvent.decode(m), locate: ReplayEvent.locate(m), into: &actions)
        }
        #expect(times == (1...ITCHFileFormat.types.count).map { UInt64($0) * 1_000 })
        let c = book.counters
        #expect(c.adds == 2 && c.executions == 2 && c.cancels == 1 && c.replaces == 1 && c.deletes == 1)
        let ignored = "SRHYLVWKJhPQBINO".utf8.map { c.ignored[Int($0)] }
        #expect(ignored.allSatisfy { $0 == 1 }, "ignored per type \(ignored)")
        // Enter 1 and 2, 1 down to 90 then 80, 2 down to 150, 1 canceled (D), 2 canceled and 3 entered (U).
        let shapes = actions.map { a -> String in
            switch a {
            case .enter(_, _, let side, let n, let p): "enter \(side) \(n)@\(p)"
            case .cancel(_, let n): "cancel to \(n)"
            }
        }
        #expect(shapes == ["enter buy 100@2300000", "enter sell 200@2310000", "cancel to 90", "cancel to 80", "cancel to 150",
                           "cancel to 0", "cancel to 0", "enter sell 120@2320000"])
        #expect(book.orders.count == 1 && book.order(locate: 1, reference: 3)?.fileOpen == 120)
    }

    @Test func refusesATruncatedLength() throws {
        var bytes = ITCHFiles.framed([ITCHFiles.add(1, .buy, 100, "AAPL", 2_300_000, time: 1)])
        bytes.append(0x00)
        let reader = ITCHFileReader(bytes: bytes)
        #expect(try reader.next() != nil)
        #expect(throws: ITCHFileError.truncatedLength(offset: 38, message: 2)) { try reader.next() }
        #expect(ITCHFileError.truncatedLength(offset: 38, message: 2).description.contains("truncated file"))
    }

    @Test func refusesATruncatedMessage() throws {
        let bytes = Array(ITCHFiles.framed([ITCHFiles.add(1, .buy, 100, "AAPL", 2_300_000, time: 1)]).dropLast(5))
        for gzip in [false, true] {
            let plain = ITCHFiles.temporaryPath("cut")
            let f = fopen(plain, "wb")!
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
            var path = plain
            if gzip {
                // A gzip file whose content ends inside a message, compressed by gzip(1).
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/gzip")
                p.arguments = ["-f", plain]
                try p.run()
                p.waitUntilExit()
                path = plain + ".gz"
            }
            defer { unlink(path) }
            let reader = try ITCHFileReader(path: path)
            #expect(throws: ITCHFileError.truncatedMessage(offset: 0, message: 1, length: 36, available: 31)) { try reader.next() }
            #expect(reader.compressed == gzip)
        }
    }

    @Test func refusesAnUnknownTypeAndAWrongLength() throws {
        var unknown = ITCHFiles.message("A", time: 1)
        unknown[0] = UInt8(ascii: "Z")
        let reader = ITCHFileReader(bytes: ITCHFiles.framed([ITCHFiles.message("S", time: 1), unknown]))
        #expect(try reader.next() != nil)
        #expect(throws: ITCHFileError.unknownType(type: UInt8(ascii: "Z"), offset: 14, message: 2)) { try reader.next() }
        let text = ITCHFileError.unknownType(type: UInt8(ascii: "Z"), offset: 14, message: 2).description
        #expect(text.contains("'Z'") && text.contains("unknown ITCH 5.0 message type"), "\(text)")

        let short = Array(ITCHFiles.message("A", time: 1).prefix(30))
        #expect(throws: ITCHFileError.wrongLength(type: UInt8(ascii: "A"), expected: 36, actual: 30, offset: 0, message: 1)) {
            try ITCHFileReader(bytes: ITCHFiles.framed([short])).next()
        }
        #expect(throws: ITCHFileError.zeroLength(offset: 0, message: 1)) { try ITCHFileReader(bytes: [0, 0]).next() }
        #expect(throws: ITCHFileError.cannotOpen(path: "/nonexistent/day.itch", errno: ENOENT)) {
            try ITCHFileReader(path: "/nonexistent/day.itch")
        }
    }

    @Test func boundsTheOrdersItTracks() throws {
        var book = ReplayBook(symbols: [Symbol("AAPL")!], maxOrders: 2, tokenPrefix: "T")
        var actions: [ReplayAction] = []
        try book.apply(ReplayEvent.add(reference: 1, side: .buy, shares: 1, stock: Symbol("AAPL")!, price: 100), locate: 1, into: &actions)
        try book.apply(ReplayEvent.add(reference: 2, side: .buy, shares: 1, stock: Symbol("AAPL")!, price: 100), locate: 1, into: &actions)
        // Other symbols cost nothing.
        try book.apply(ReplayEvent.add(reference: 3, side: .buy, shares: 1, stock: Symbol("MSFT")!, price: 100), locate: 2, into: &actions)
        book.messageNumber = 4
        #expect(throws: ReplayError.tooManyOrders(limit: 2, message: 4)) {
            try book.apply(ReplayEvent.add(reference: 4, side: .buy, shares: 1, stock: Symbol("AAPL")!, price: 100), locate: 1, into: &actions)
        }
        #expect(ReplayError.tooManyOrders(limit: 2, message: 4).description.contains("--max-orders"))
    }
}
