import ExchangeCore

/// Every order token each account has used today, so that none is used twice (OUCH 4.2:
/// tokens are day-unique per account). The matching engine only knows the tokens of live
/// orders; this remembers the dead ones too.
///
/// An open-addressing hash set with linear probing, allocated once: a key is the 14-byte
/// token with the account (< 65,536) in the two bytes `OrderToken.low` leaves zero. The
/// table has at least 1.5 × `capacity` slots so probes stay short; when `capacity` tokens
/// are held, `insert` reports `.full` and the gateway rejects new orders.
public struct TokenHistory {
    public enum Outcome: Equatable {
        case inserted
        case duplicate
        case full
    }

    let slots: UnsafeMutablePointer<Key>
    let mask: Int
    public let capacity: Int
    public private(set) var count = 0
    /// The key (0, 0) marks an empty slot; a real key of all zero bytes is kept aside.
    var holdsZeroKey = false

    struct Key: Equatable {
        var high: UInt64
        var low: UInt64
    }

    public static func requiredBytes(capacity: Int) -> Int { slotCount(capacity: capacity) * MemoryLayout<Key>.stride }

    static func slotCount(capacity: Int) -> Int {
        var slots = 16
        while slots < capacity + capacity / 2 { slots <<= 1 }
        return slots
    }

    /// - Parameter memory: `requiredBytes(capacity:)` bytes, 16-byte aligned.
    public init(capacity: Int, memory: UnsafeMutableRawPointer) {
        self.capacity = capacity
        let count = Self.slotCount(capacity: capacity)
        mask = count - 1
        slots = memory.bindMemory(to: Key.self, capacity: count)
        slots.initialize(repeating: Key(high: 0, low: 0), count: count)
    }

    /// Records `token` for `account`; `.duplicate` when it was recorded before.
    public mutating func insert(_ token: OrderToken, account: Int) -> Outcome {
        let key = Key(high: token.high, low: token.low | UInt64(truncatingIfNeeded: account & 0xFFFF))
        if key.high == 0 && key.low == 0 {
            if holdsZeroKey { return .duplicate }
            guard count < capacity else { return .full }
            holdsZeroKey = true
            count &+= 1
            return .inserted
        }
        var i = Self.hash(key) & mask
        while true {
            let slot = slots[i]
            if slot == key { return .duplicate }
            if slot.high == 0 && slot.low == 0 { break }
            i = (i &+ 1) & mask
        }
        guard count < capacity else { return .full }
        slots[i] = key
        count &+= 1
        return .inserted
    }

    /// Whether `token` was recorded for `account`.
    public func contains(_ token: OrderToken, account: Int) -> Bool {
        let key = Key(high: token.high, low: token.low | UInt64(truncatingIfNeeded: account & 0xFFFF))
        if key.high == 0 && key.low == 0 { return holdsZeroKey }
        var i = Self.hash(key) & mask
        while true {
            let slot = slots[i]
            if slot == key { return true }
            if slot.high == 0 && slot.low == 0 { return false }
            i = (i &+ 1) & mask
        }
    }

    /// A 64-bit mix of both words (the finaliser of SplitMix64): tokens are often counters
    /// that differ only in their last characters.
    @inline(__always)
    static func hash(_ key: Key) -> Int {
        var z = key.high &* 0x9E37_79B9_7F4A_7C15 ^ key.low
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31))
    }
}
