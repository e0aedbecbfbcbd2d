/// An IPv4 address in dotted-quad form (`127.0.0.1`).
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    /// The address in host byte order: `127.0.0.1` is `0x7F00_0001`.
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Parses exactly four decimal octets 0–255 separated by dots. Leading zeros are
    /// rejected because some tools read them as octal.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        rawValue = value
    }

    /// 224.0.0.0/4.
    public var isMulticast: Bool { rawValue >> 28 == 0xE }

    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xFF).\(rawValue >> 8 & 0xFF).\(rawValue & 0xFF)"
    }
}
