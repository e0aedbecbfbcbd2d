import Glibc

/// TotalView-ITCH 5.0 as Nasdaq publishes a day's file: every message preceded by its
/// length (u16, big-endian), the messages back to back, the file plain or gzip-compressed.
/// The lengths of all 23 message types of the 5.0 specification, type byte included: a
/// file's message whose length differs from its type's is refused.
public enum ITCHFileFormat {
    /// The length of every ITCH 5.0 message type (index: the type byte), 0 for a byte that
    /// is no message type.
    public static let lengths: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        let known: [(Character, Int)] = [
            ("S", 12), ("R", 39), ("H", 25), ("Y", 20), ("L", 26), ("V", 35), ("W", 12), ("K", 28), ("J", 35), ("h", 21),
            ("A", 36), ("F", 40), ("E", 31), ("C", 36), ("X", 23), ("D", 19), ("U", 35), ("P", 44), ("Q", 40), ("B", 19),
            ("I", 50), ("N", 20), ("O", 48),
        ]
        for (type, length) in known { table[Int(type.asciiValue!)] = length }
        return table
    }()

    /// Every message type of the specification, in its order.
    public static let types: [UInt8] = Array("SRHYLVWKJhAFECXDUPQBINO".utf8)

    /// The offset of the 6-byte timestamp (nanoseconds since midnight) in every message.
    public static let timestampOffset = 5
}

/// Why a file cannot be replayed, with where: the byte offset of the message's length
/// field in the uncompressed stream and the message's number (from 1).
public enum ITCHFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case readFailed(path: String, why: String)
    /// The stream ended one byte into a length field.
    case truncatedLength(offset: UInt64, message: UInt64)
    /// The stream ended inside a message.
    case truncatedMessage(offset: UInt64, message: UInt64, length: Int, available: Int)
    case zeroLength(offset: UInt64, message: UInt64)
    case unknownType(type: UInt8, offset: UInt64, message: UInt64)
    case wrongLength(type: UInt8, expected: Int, actual: Int, offset: UInt64, message: UInt64)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let e): "\(path): cannot open (\(String(cString: strerror(e))))"
        case .readFailed(let path, let why): "\(path): read failed (\(why))"
        case .truncatedLength(let offset, let n):
            "truncated file: it ends one byte into the length of message #\(n) at byte \(offset) (a message is a 2-byte big-endian length, then the message)"
        case .truncatedMessage(let offset, let n, let length, let available):
            "truncated file: message #\(n) at byte \(offset) says \(length) bytes, only \(available) follow"
        case .zeroLength(let offset, let n): "message #\(n) at byte \(offset) has length 0"
        case .unknownType(let type, let offset, let n):
            "message #\(n) at byte \(offset): unknown ITCH 5.0 message type \(ITCHFileError.text(type)) (is this a TotalView-ITCH 5.0 file with 2-byte lengths?)"
        case .wrongLength(let type, let expected, let actual, let offset, let n):
            "message #\(n) at byte \(offset): type \(ITCHFileError.text(type)) is \(expected) bytes in ITCH 5.0, this one \(actual)"
        }
    }

    static func text(_ byte: UInt8) -> String {
        let hex = "0x" + String(byte, radix: 16, uppercase: true)
        return (0x21...0x7E).contains(byte) ? "'\(Character(UnicodeScalar(byte)))' (\(hex))" : hex
    }
}
