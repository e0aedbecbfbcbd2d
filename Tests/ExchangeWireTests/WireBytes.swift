import ExchangeCore
import ExchangeWire

// Test helpers: hand-built expected bytes and buffers to encode into or decode from.

/// Appends wire fields in order, independently of OUCHLayout: golden bytes are built from
/// the specification's field list, so a wrong offset in the layout shows up as a diff.
struct ByteBuilder {
    var bytes: [UInt8] = []

    mutating func char(_ c: Character) { bytes.append(c.asciiValue!) }
    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func u16(_ v: UInt16) { for s in stride(from: 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt16(s))) } }
    mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    /// Left-justified, space padded.
    mutating func alpha(_ text: String, width: Int) {
        let utf8 = Array(text.utf8)
        precondition(utf8.count <= width)
        bytes += utf8 + [UInt8](repeating: 0x20, count: width - utf8.count)
    }
    /// Right-justified, space padded (numeric alpha).
    mutating func rightJustified(_ text: String, width: Int) {
        let utf8 = Array(text.utf8)
        bytes += [UInt8](repeating: 0x20, count: width - utf8.count) + utf8
    }

    static func build(_ body: (inout ByteBuilder) -> Void) -> [UInt8] {
        var builder = ByteBuilder()
        body(&builder)
        return builder.bytes
    }
}

/// Runs an encoder on a poisoned buffer (so unwritten bytes show) and returns what it wrote.
func written(capacity: Int = 256, _ encode: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: capacity)
    let count = buffer.withUnsafeMutableBytes { encode($0.baseAddress!) }
    precondition(count <= capacity)
    // Nothing past the returned length may have been touched.
    precondition(buffer[count...].allSatisfy { $0 == 0xEE }, "encoder wrote past its returned length")
    return Array(buffer[..<count])
}

/// Calls `body` with the bytes in an allocation of exactly their size.
func withPayload<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { memory.deallocate() }
    bytes.withUnsafeBytes { source in
        if source.count > 0 { memory.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: source.count) }
    }
    return body(UnsafeRawBufferPointer(start: memory.baseAddress, count: bytes.count))
}

/// Readable diff of two byte arrays for #expect messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        (0x21...0x7E).contains(b) ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16, uppercase: true).leftPadded(2)
    }.joined()
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

enum Fixture {
    static let token = OrderToken("ORD00000000001")!
    static let token2 = OrderToken("ORD00000000002")!
    static let makerToken = OrderToken("MAKER0000000A7")!
    static let symbol = Symbol("AAPL")!
    static let firm = Firm("RTES")!
    static let defaultFirm = Firm("DFLT")!
    static let timestamp: Timestamp = 34_200_000_000_123   // 09:30:00.000000123
}
