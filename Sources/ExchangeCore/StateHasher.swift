/// A 64-bit digest of a sequence of words: the engine's and the risk layer's `stateHash()`.
/// Order-sensitive (each word is mixed into the whole state so far), so two equal digests
/// mean, with overwhelming probability, the same words in the same order. Not a
/// cryptographic hash: it proves recovery, it does not authenticate anything.
public struct StateHasher: Sendable {
    public private(set) var words: UInt64 = 0
    private var state: UInt64 = 0x5254_4553_5354_4154  // "RTESSTAT"

    public init() {}

    @inline(__always)
    public mutating func combine(_ word: UInt64) {
        var h = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        h &*= 0xD6E8_FEB8_6659_FD93
        h ^= h >> 29
        state = h
        words &+= 1
    }

    @inline(__always) public mutating func combine(_ word: UInt32) { combine(UInt64(word)) }
    @inline(__always) public mutating func combine(_ flag: Bool) { combine(UInt64(flag ? 1 : 0)) }

    /// The digest of everything combined (the count of words included).
    public func finalize() -> UInt64 {
        var copy = self
        copy.combine(words)
        return copy.state
    }
}

extension StateHasher {
    /// How a state hash is printed everywhere — the exchange's start-up and shutdown logs,
    /// `rtes-journal replay`, snapshot errors — so that one can be compared with another by
    /// eye or by a test: `0x` and 16 lower-case hex digits.
    public static func text(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
