import ExchangeCore

/// The load generator's order tokens: a 4-character run prefix, then the order's number
/// in 10 digits (`K3ZQ0000000042`). Made and read back without allocating.
struct LoadTokenCodec {
    /// The prefix's four characters in the top half of `OrderToken.high`.
    let prefix: UInt64
    static let maximumNumber: UInt64 = 9_999_999_999

    init?(prefix text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 4, bytes.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }) else { return nil }
        prefix = bytes.reduce(0) { $0 << 8 | UInt64($1) } << 32
    }

    @inline(__always)
    func token(_ number: UInt64) -> OrderToken { OrderToken(prefix: prefix, prefixLength: 4, number: number) }

    /// The number in one of this run's tokens; nil for any other token.
    @inline(__always)
    func number(_ token: OrderToken) -> UInt64? {
        guard token.high & 0xFFFF_FFFF_0000_0000 == prefix else { return nil }
        var n: UInt64 = 0
        var shift: UInt64 = 24  // characters 4 to 7
        while true {
            let digit = (token.high >> shift) & 0xFF &- 0x30
            guard digit < 10 else { return nil }
            n = n &* 10 &+ digit
            if shift == 0 { break }
            shift &-= 8
        }
        shift = 56  // characters 8 to 13
        while shift >= 16 {
            let digit = (token.low >> shift) & 0xFF &- 0x30
            guard digit < 10 else { return nil }
            n = n &* 10 &+ digit
            shift &-= 8
        }
        return n
    }
}
