import ExchangeCore

// The ClOrdID ↔ engine token mapping of one FIX session for one day, and what FIX reports
// about each order (OrderQty, CumQty, AvgPx) that the engine's events do not carry.
//
// Every ClOrdID the session accepts — of a NewOrderSingle, a cancel request or a replace —
// takes the next entry; entry i's engine token is `FX` followed by i in 12 digits, so tokens
// are unique per session and day by construction and map back to the entry in a few
// instructions. ClOrdIDs are found through an open-addressing hash table. Both are sized
// once (`capacity` ClOrdIDs a day); when full, new ClOrdIDs are refused (FIX.md).

public enum FIXEntryKind: UInt8, Sendable, BitwiseCopyable {
    case free = 0
    case order
    case cancelRequest
    case replacement
}

/// One ClOrdID's entry (`FIXOrderTable.entry`).
public struct FIXOrderEntry: Sendable, BitwiseCopyable {
    public var kind: FIXEntryKind = .free
    /// FIX OrdStatus (39) as its character.
    public var ordStatus: UInt8 = UInt8(ascii: "A")
    public var side: Side = .buy
    public var ordType: OrderType = .limit
    public var symbol = Symbol(rawValue: 0)
    public var orderQty: Shares = 0
    public var price: Price = 0
    public var cumQty: Shares = 0
    public var leavesQty: Shares = 0
    /// Σ price × shares of the fills (for AvgPx).
    public var notional: UInt64 = 0
    /// The engine's order reference of the chain's first order (FIX OrderID), 0 before accepted.
    public var orderID: OrderReference = 0
    /// For an order: its pending cancel request's entry (0 = none). For a cancel request or
    /// a replacement: the order it acts on.
    public var link: UInt32 = 0
    public init() {}
}

public struct FIXOrderTable: ~Copyable {
    /// Entry 0 is never used (0 means "none").
    public let capacity: Int
    public var count: Int { used }
    @usableFromInline var used = 0
    @usableFromInline let entries: UnsafeMutablePointer<FIXOrderEntry>
    /// ClOrdID bytes per entry: a length byte and 32 bytes.
    @usableFromInline let ids: UnsafeMutablePointer<UInt8>
    @usableFromInline let slots: UnsafeMutablePointer<UInt32>
    @usableFromInline let slotMask: Int
    public static let maximumClOrdIDLength = 32
    @usableFromInline static let idStride = 33
    /// `FX` in the token's top bytes.
    @usableFromInline static let tokenPrefix: UInt64 = 0x4658 << 48

    /// Room for `capacity` ClOrdIDs (1…999_999_999_999).
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity < 1_000_000_000_000)
        self.capacity = capacity
        entries = .allocate(capacity: capacity + 1)
        entries.initialize(repeating: FIXOrderEntry(), count: capacity + 1)
        ids = .allocate(capacity: (capacity + 1) * Self.idStride)
        ids.initialize(repeating: 0, count: (capacity + 1) * Self.idStride)
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        slotMask = size - 1
    }

    deinit {
        entries.deallocate()
        ids.deallocate()
        slots.deallocate()
    }

    /// Forgets the day.
    public mutating func reset() {
        used = 0
        entries.update(repeating: FIXOrderEntry(), count: capacity + 1)
        slots.update(repeating: 0, count: slotMask + 1)
    }

    @inlinable
    static func hash(_ id: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in id { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inlinable
    func idEquals(_ index: Int, _ id: UnsafeRawBufferPointer) -> Bool {
        let p = ids + index * Self.idStride
        guard Int(p[0]) == id.count else { return false }
        for i in 0..<id.count where p[1 + i] != id[i] { return false }
        return true
    }

    /// The entry of `clOrdID`, or nil.
    @inlinable
    public func find(_ clOrdID: UnsafeRawBufferPointer) -> Int? {
        var s = Self.hash(clOrdID) & slotMask
        while true {
            let e = Int(slots[s])
            if e == 0 { return nil }
            if idEquals(e, clOrdID) { return e }
            s = (s + 1) & slotMask
        }
    }

    public enum AddFailure: Error, Equatable { case duplicate, full, invalid }

    /// Takes the next entry for a new ClOrdID (1…32 printable ASCII bytes).
    @inlinable
    public mutating func add(_ clOrdID: UnsafeRawBufferPointer, kind: FIXEntryKind) -> Result<Int, AddFailure> {
        guard clOrdID.count >= 1, clOrdID.count <= Self.maximumClOrdIDLength else { return .failure(.invalid) }
        var s = Self.hash(clOrdID) & slotMask
        while slots[s] != 0 {
            if idEquals(Int(slots[s]), clOrdID) { return .failure(.duplicate) }
            s = (s + 1) & slotMask
        }
        guard used < capacity else { return .failure(.full) }
        used += 1
        let index = used
        slots[s] = UInt32(truncatingIfNeeded: index)
        let p = ids + index * Self.idStride
        p[0] = UInt8(clOrdID.count)
        for i in 0..<clOrdID.count { p[1 + i] = clOrdID[i] }
        var entry = FIXOrderEntry()
        entry.kind = kind
        entries[index] = entry
        return .success(index)
    }

    @inlinable
    public func entry(_ index: Int) -> FIXOrderEntry { entries[index] }

    @inlinable
    public mutating func update(_ index: Int, _ body: (inout FIXOrderEntry) -> Void) { body(&entries[index]) }

    /// The ClOrdID of entry `index`.
    @inlinable
    public func clOrdID(_ index: Int) -> UnsafeRawBufferPointer {
        let p = ids + index * Self.idStride
        return UnsafeRawBufferPointer(start: p + 1, count: Int(p[0]))
    }

    /// The engine token of entry `index` in a table whose `tokenBase` is 0: `FX` and the
    /// index in 12 digits.
    @inlinable
    public static func token(_ index: Int) -> OrderToken {
        OrderToken(prefix: tokenPrefix, prefixLength: 2, number: UInt64(index))
    }

    /// Added to every entry's index in its token: a gateway that starts again in the same day
    /// gives its tables a new base, so that new tokens never name orders of the day before the
    /// restart still resting in the engine (`base + capacity` must stay below 10^12).
    public var tokenBase = 0

    /// The engine token of entry `index`: `FX` and `tokenBase + index` in 12 digits.
    @inlinable
    public func engineToken(_ index: Int) -> OrderToken {
        OrderToken(prefix: Self.tokenPrefix, prefixLength: 2, number: UInt64(tokenBase &+ index))
    }

    /// The entry an engine token names, or nil when it is not one of this table's tokens.
    @inlinable
    public func index(of token: OrderToken) -> Int? {
        guard token.high >> 48 == Self.tokenPrefix >> 48 else { return nil }
        var n = 0
        for shift in stride(from: 40, through: 0, by: -8) {
            let d = Int((token.high >> UInt64(shift)) & 0xFF) &- 0x30
            guard d >= 0, d <= 9 else { return nil }
            n = n &* 10 &+ d
        }
        for shift in stride(from: 56, through: 16, by: -8) {
            let d = Int((token.low >> UInt64(shift)) & 0xFF) &- 0x30
            guard d >= 0, d <= 9 else { return nil }
            n = n &* 10 &+ d
        }
        n &-= tokenBase
        guard n >= 1, n <= count else { return nil }
        return n
    }
}

extension FIXOrderTable {
    /// The heap a table for `capacity` ClOrdIDs allocates (entries, the ClOrdIDs' text, the
    /// hash slots): what the memory plan counts per FIX session.
    public static func heapBytes(capacity: Int) -> Int {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        return (capacity + 1) * MemoryLayout<FIXOrderEntry>.stride + (capacity + 1) * idStride + size * MemoryLayout<UInt32>.stride
    }
}
