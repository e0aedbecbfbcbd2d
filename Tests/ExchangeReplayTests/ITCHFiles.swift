import ExchangeCore
import ExchangeReplay
import Foundation

/// Hand-made ITCH 5.0 messages and files for the replay's tests.
enum ITCHFiles {
    /// A message of `type` with its specification length, the timestamp set, zeros elsewhere.
    static func message(_ type: Character, time: UInt64 = 0, locate: UInt16 = 1) -> [UInt8] {
        let t = type.asciiValue!
        var m = [UInt8](repeating: 0, count: ITCHFileFormat.lengths[Int(t)])
        m[0] = t
        put(&m, 1, UInt64(locate), 2)
        put(&m, 5, time, 6)
        return m
    }

    static func put(_ m: inout [UInt8], _ offset: Int, _ value: UInt64, _ width: Int) {
        for i in 0..<width { m[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - i))) }
    }

    static func alpha(_ m: inout [UInt8], _ offset: Int, _ text: String, _ width: Int) {
        let bytes = Array(text.utf8)
        for i in 0..<width { m[offset + i] = i < bytes.count ? bytes[i] : 0x20 }
    }

    static func add(_ reference: UInt64, _ side: Side, _ shares: UInt32, _ stock: String, _ price: UInt32, time: UInt64, mpid: Bool = false) -> [UInt8] {
        var m = message(mpid ? "F" : "A", time: time)
        put(&m, 11, reference, 8)
        m[19] = side == .buy ? UInt8(ascii: "B") : UInt8(ascii: "S")
        put(&m, 20, UInt64(shares), 4)
        alpha(&m, 24, stock, 8)
        put(&m, 32, UInt64(price), 4)
        if mpid { alpha(&m, 36, "ABCD", 4) }
        return m
    }

    static func executed(_ reference: UInt64, _ shares: UInt32, time: UInt64, withPrice: Bool = false) -> [UInt8] {
        var m = message(withPrice ? "C" : "E", time: time)
        put(&m, 11, reference, 8)
        put(&m, 19, UInt64(shares), 4)
        put(&m, 23, 77, 8)
        return m
    }

    static func cancel(_ reference: UInt64, _ shares: UInt32, time: UInt64) -> [UInt8] {
        var m = message("X", time: time)
        put(&m, 11, reference, 8)
        put(&m, 19, UInt64(shares), 4)
        return m
    }

    static func delete(_ reference: UInt64, time: UInt64) -> [UInt8] {
        var m = message("D", time: time)
        put(&m, 11, reference, 8)
        return m
    }

    static func replace(_ original: UInt64, _ new: UInt64, _ shares: UInt32, _ price: UInt32, time: UInt64) -> [UInt8] {
        var m = message("U", time: time)
        put(&m, 11, original, 8)
        put(&m, 19, new, 8)
        put(&m, 27, UInt64(shares), 4)
        put(&m, 31, UInt64(price), 4)
        return m
    }

    /// The messages framed as a file holds them (2-byte big-endian length before each).
    static func framed(_ messages: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for m in messages {
            bytes.append(UInt8(m.count >> 8))
            bytes.append(UInt8(m.count & 0xFF))
            bytes += m
        }
        return bytes
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "rtes-replay-\(getpid())-\(UUID().uuidString)-\(name)"
    }

    /// Writes `messages` to a new temporary file (gzip when asked) and returns its path.
    static func write(_ messages: [[UInt8]], gzip: Bool, name: String = "day.itch") throws -> String {
        let path = temporaryPath(gzip ? name + ".gz" : name)
        let writer = try ITCHFileWriter(path: path, gzip: gzip)
        for m in messages { try writer.write(m) }
        try writer.close()
        return path
    }
}
