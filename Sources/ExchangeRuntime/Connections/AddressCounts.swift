/// How many connections each source IPv4 address holds, in a fixed-capacity table sized at
/// start (open addressing, linear probing, backward-shift deletion): nothing allocates
/// after `init`. An address is in the table only while its count is above zero, so a table
/// sized for the most connections that can be counted at once (`ConnectionTable`'s
/// pre-login limit) never fills: it holds twice that many entries (a power of two, at
/// least 16), so probes stay short.
public struct AddressCounts: ~Copyable {
    @usableFromInline let addresses: UnsafeMutablePointer<UInt32>
    /// 0: the entry is empty.
    @usableFromInline let counts: UnsafeMutablePointer<UInt32>
    @usableFromInline let mask: Int
    /// Addresses with a count above zero.
    @usableFromInline var used = 0

    /// - Parameter maximumCounted: the most connections counted at once.
    public init(maximumCounted: Int) {
        let size = Self.tableSize(maximumCounted: maximumCounted)
        addresses = .allocate(capacity: size)
        addresses.initialize(repeating: 0, count: size)
        counts = .allocate(capacity: size)
        counts.initialize(repeating: 0, count: size)
        mask = size - 1
    }

    static func tableSize(maximumCounted: Int) -> Int {
        var size = 16
        while size < 2 * maximumCounted { size <<= 1 }
        return size
    }

    /// The heap bytes `init(maximumCounted:)` allocates.
    public static func requiredBytes(maximumCounted: Int) -> Int {
        tableSize(maximumCounted: maximumCounted) * 2 * MemoryLayout<UInt32>.stride
    }

    deinit {
        addresses.deallocate()
        counts.deallocate()
    }

    /// Entries in the table.
    @inlinable public var size: Int { mask &+ 1 }
    /// Addresses counted (with a count above zero).
    @inlinable public var addressCount: Int { used }

    @inlinable
    func home(_ address: UInt32) -> Int {
        // Fibonacci hashing: consecutive addresses (10.0.0.1, 10.0.0.2, …) spread out.
        Int(truncatingIfNeeded: (UInt64(address) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The entry holding `address`, or the empty entry where it would go.
    @inlinable
    func find(_ address: UInt32) -> Int {
        var i = home(address)
        while counts[i] != 0 && addresses[i] != address { i = (i &+ 1) & mask }
        return i
    }

    /// Connections counted for `address`.
    @inlinable
    public func count(of address: UInt32) -> Int { Int(counts[find(address)]) }

    /// Counts one more connection from `address`. False (nothing counted) when the table
    /// is full — which a table sized as `init` says never is.
    @inlinable @discardableResult
    public mutating func add(_ address: UInt32) -> Bool {
        let i = find(address)
        if counts[i] == 0 {
            guard used < mask else { return false }  // keep one entry empty: probes end
            used &+= 1
            addresses[i] = address
        }
        counts[i] &+= 1
        return true
    }

    /// Counts one connection from `address` fewer (nothing when none is counted).
    @inlinable
    public mutating func remove(_ address: UInt32) {
        var i = find(address)
        guard counts[i] != 0 else { return }
        counts[i] &-= 1
        guard counts[i] == 0 else { return }
        used &-= 1
        // Backward-shift deletion: move later entries of the probe run into the hole when
        // the hole lies between their home and where they are.
        var j = i
        while true {
            j = (j &+ 1) & mask
            guard counts[j] != 0 else { return }
            let k = home(addresses[j])
            let movable = i <= j ? (k <= i || k > j) : (k <= i && k > j)
            if movable {
                addresses[i] = addresses[j]
                counts[i] = counts[j]
                counts[j] = 0
                i = j
            }
        }
    }
}
