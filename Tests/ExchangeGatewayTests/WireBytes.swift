import ExchangeGateway
import ExchangeRuntime
import ExchangeTestRig
import Foundation

// SoupBinTCP 3.0 and OUCH 4.2 bytes written and read by hand from the published layouts
// (../shared/PROTOCOLS.md), independently of Sources/ExchangeWire: what a client of the
// gateway would write without our codecs.

/// Client → server packets.
enum Client {
    /// A SoupBinTCP packet: u16 length (type + payload), type, payload.
    static func packet(_ type: Character, _ payload: [UInt8] = []) -> [UInt8] {
        let length = payload.count + 1
        return [UInt8(length >> 8), UInt8(length & 0xFF), type.asciiValue!] + payload
    }

    /// `L` Login Request: username a6, password a10, session a10, sequence a20 (right-justified).
    static func login(_ credentials: Credentials, session: String = "", sequence: UInt64 = 0) -> [UInt8] {
        packet("L", alpha(credentials.username, 6) + alpha(credentials.password, 10) + alpha(session, 10)
            + numeric(sequence, 20))
    }

    static func unsequenced(_ message: [UInt8]) -> [UInt8] { packet("U", message) }
    static let heartbeat = packet("R")
    static let logout = packet("O")
    static func debug(_ text: String) -> [UInt8] { packet("+", Array(text.utf8)) }

    // OUCH 4.2, client → exchange.

    /// `O` Enter Order, 49 bytes.
    static func enter(_ token: String, _ side: Character, _ shares: UInt32, _ stock: String, _ price: UInt32,
                      timeInForce: UInt32 = 99_999, firm: String = "", display: Character = "Y", capacity: Character = "A",
                      iso: Character = "N", minimumQuantity: UInt32 = 0, crossType: Character = "N",
                      customerType: Character = "R") -> [UInt8] {
        var m: [UInt8] = [ascii("O")]
        m += alpha(token, 14) + [ascii(side)] + u32(shares) + alpha(stock, 8) + u32(price) + u32(timeInForce)
        m += alpha(firm, 4) + [ascii(display), ascii(capacity), ascii(iso)] + u32(minimumQuantity)
        m += [ascii(crossType), ascii(customerType)]
        return m
    }

    /// `U` Replace Order, 47 bytes.
    static func replace(_ existing: String, _ replacement: String, _ shares: UInt32, _ price: UInt32,
                        timeInForce: UInt32 = 99_999, display: Character = "Y", iso: Character = "N",
                        minimumQuantity: UInt32 = 0) -> [UInt8] {
        [ascii("U")] + alpha(existing, 14) + alpha(replacement, 14) + u32(shares) + u32(price) + u32(timeInForce)
            + [ascii(display), ascii(iso)] + u32(minimumQuantity)
    }

    /// `X` Cancel Order, 19 bytes (shares: the new open size, 0 cancels all).
    static func cancel(_ token: String, shares: UInt32 = 0) -> [UInt8] { [ascii("X")] + alpha(token, 14) + u32(shares) }

    /// `M` Modify Order, 20 bytes.
    static func modify(_ token: String, _ side: Character, _ shares: UInt32) -> [UInt8] {
        [ascii("M")] + alpha(token, 14) + [ascii(side)] + u32(shares)
    }

    /// Enter Order wrapped in Unsequenced Data: what a client sends most.
    static func order(_ token: String, _ side: Character, _ shares: UInt32, _ stock: String, _ price: UInt32,
                      timeInForce: UInt32 = 99_999) -> [UInt8] {
        unsequenced(enter(token, side, shares, stock, price, timeInForce: timeInForce))
    }
}

func ascii(_ c: Character) -> UInt8 { c.asciiValue! }

/// Left-justified, space-padded (cut to `width`).
func alpha(_ text: String, _ width: Int) -> [UInt8] {
    let bytes = Array(text.utf8.prefix(width))
    return bytes + [UInt8](repeating: 0x20, count: width - bytes.count)
}

/// Right-justified, space-padded decimal.
func numeric(_ value: UInt64, _ width: Int) -> [UInt8] {
    let digits = Array(String(value).utf8)
    return [UInt8](repeating: 0x20, count: width - digits.count) + digits
}

func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

/// Prices: 4 implied decimals.
func price(_ dollars: Double) -> UInt32 { UInt32((dollars * 10_000).rounded()) }

/// A packet from the server: its type, its payload, and the bytes it came as.
struct ServerPacket: Equatable, CustomStringConvertible {
    var type: UInt8
    var payload: [UInt8]
    var bytes: [UInt8] { [UInt8((payload.count + 1) >> 8), UInt8((payload.count + 1) & 0xFF), type] + payload }

    var isSequenced: Bool { type == ascii("S") }
    var isHeartbeat: Bool { type == ascii("H") }
    var isDebug: Bool { type == ascii("+") }
    var isEndOfSession: Bool { type == ascii("Z") }
    var text: String { String(decoding: payload, as: UTF8.self) }

    /// Login Accepted: the session (trimmed) and the next sequence number.
    var loginAccepted: (session: String, sequence: UInt64)? {
        guard type == ascii("A"), payload.count == 30 else { return nil }
        let session = String(decoding: payload[0..<10], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let sequence = UInt64(String(decoding: payload[10..<30], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return (session, sequence)
    }

    /// Login Rejected: its reason code.
    var loginRejected: Character? {
        guard type == ascii("J"), payload.count == 1 else { return nil }
        return Character(UnicodeScalar(payload[0]))
    }

    /// The OUCH message a Sequenced Data packet carries.
    var ouch: OUCHReply? { isSequenced && !payload.isEmpty ? OUCHReply(bytes: payload) : nil }

    var description: String {
        if isSequenced, let m = ouch { return "S[\(m)]" }
        if isDebug { return "+\"\(text)\"" }
        return "\(Character(UnicodeScalar(type)))\(payload.isEmpty ? "" : "(\(payload.count) B)")"
    }
}


/// An exchange → client OUCH 4.2 message, read field by field at the documented offsets.
struct OUCHReply: Equatable, CustomStringConvertible {
    var bytes: [UInt8]

    var type: Character { Character(UnicodeScalar(bytes[0])) }
    var length: Int { bytes.count }
    /// Every exchange → client message has the u64 timestamp at offset 1.
    var timestamp: UInt64 { u64(at: 1) }
    /// The order token at offset 9 (Accepted, Replaced, Canceled, Executed, Rejected, …).
    var token: String { alphaField(at: 9, 14) }

    func byte(at offset: Int) -> Character { Character(UnicodeScalar(bytes[offset])) }
    func u32(at offset: Int) -> UInt32 { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) } }
    func u64(at offset: Int) -> UInt64 { bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) } }
    func alphaField(at offset: Int, _ width: Int) -> String {
        String(decoding: bytes[offset..<offset + width], as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// The lengths of OUCH 4.2 (PROTOCOLS.md).
    static let lengths: [Character: Int] = ["S": 10, "A": 66, "U": 80, "C": 28, "E": 40, "J": 24, "B": 32, "P": 23, "I": 23, "M": 28]

    var description: String {
        switch type {
        case "A": "A \(token) \(byte(at: 23)) \(u32(at: 24))@\(u32(at: 36)) ref \(u64(at: 49)) \(byte(at: 64))"
        case "E": "E \(token) \(u32(at: 23))@\(u32(at: 27)) \(byte(at: 31)) #\(u64(at: 32))"
        case "J": "J \(token) \(byte(at: 23))"
        case "C": "C \(token) -\(u32(at: 23)) \(byte(at: 27))"
        case "S": "S \(byte(at: 9))"
        case "U": "U \(token) (was \(alphaField(at: 65, 14))) \(u32(at: 24))@\(u32(at: 36)) \(byte(at: 64))"
        case "M": "M \(token) \(byte(at: 23)) \(u32(at: 24))"
        case "I", "P": "\(type) \(token)"
        default: "\(type) \(bytes.count) B"
        }
    }
}

extension ServerPacket {
    static func debug(_ text: String) -> ServerPacket { ServerPacket(type: ascii("+"), payload: Array(text.utf8)) }
    static func loginRejected(_ reason: Character) -> ServerPacket { ServerPacket(type: ascii("J"), payload: [ascii(reason)]) }
    static let endOfSession = ServerPacket(type: ascii("Z"), payload: [])
}

extension DisconnectReason {
    /// The Debug packet the gateway promises to send before closing for this reason.
    var debugPacket: ServerPacket { .debug(String(describing: debugText)) }
}
