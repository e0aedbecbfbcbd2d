/// Which price levels of one book side hold orders, as a three-level bitmap:
/// bit i of `words` is level i; bit w of `summary` says `words[w] != 0`; bit s of `top`
/// says `summary[s] != 0`. Finding the best, worst or next occupied level is three
/// count-leading/trailing-zero instructions whatever the ladder size (up to 64³ levels).
@_spi(Benchmarks) public struct OccupancyBitmap {
    @usableFromInline var words: UnsafeMutablePointer<UInt64>
    @usableFromInline var summary: UnsafeMutablePointer<UInt64>
    @usableFromInline var top: UInt64 = 0

    /// Words of level 0 and level 1 for `levels` price levels.
    public static func wordCounts(levels: Int) -> (words: Int, summary: Int) {
        let words = max(1, levels / 64)
        return (words, max(1, words / 64))
    }

    public init(words: UnsafeMutablePointer<UInt64>, summary: UnsafeMutablePointer<UInt64>) {
        self.words = words
        self.summary = summary
    }

    @inline(__always) public var isEmpty: Bool { top == 0 }

    @inline(__always) public func contains(_ level: UInt32) -> Bool {
        words[Int(level >> 6)] & (1 << UInt64(level & 63)) != 0
    }

    @inline(__always) public mutating func insert(_ level: UInt32) {
        let w = Int(level >> 6)
        words[w] |= 1 << UInt64(level & 63)
        let s = w >> 6
        summary[s] |= 1 << UInt64(w & 63)
        top |= 1 << UInt64(s)
    }

    @inline(__always) public mutating func remove(_ level: UInt32) {
        let w = Int(level >> 6)
        words[w] &= ~(1 << UInt64(level & 63))
        if words[w] == 0 {
            let s = w >> 6
            summary[s] &= ~(1 << UInt64(w & 63))
            if summary[s] == 0 { top &= ~(1 << UInt64(s)) }
        }
    }

    /// Highest occupied level. Precondition: not empty.
    @inline(__always) public func highest() -> UInt32 {
        let s = 63 - top.leadingZeroBitCount
        let w = s << 6 | (63 - summary[s].leadingZeroBitCount)
        return UInt32(w << 6 | (63 - words[w].leadingZeroBitCount))
    }

    /// Lowest occupied level. Precondition: not empty.
    @inline(__always) public func lowest() -> UInt32 {
        let s = top.trailingZeroBitCount
        let w = s << 6 | summary[s].trailingZeroBitCount
        return UInt32(w << 6 | words[w].trailingZeroBitCount)
    }

    /// Highest occupied level strictly below `level`, or -1.
    public func highest(below level: UInt32) -> Int32 {
        let w = Int(level >> 6)
        let inWord = words[w] & ((1 << UInt64(level & 63)) &- 1)
        if inWord != 0 { return Int32(w << 6 | (63 - inWord.leadingZeroBitCount)) }
        let s = w >> 6
        let inSummary = summary[s] & ((1 << UInt64(w & 63)) &- 1)
        if inSummary != 0 {
            let w2 = s << 6 | (63 - inSummary.leadingZeroBitCount)
            return Int32(w2 << 6 | (63 - words[w2].leadingZeroBitCount))
        }
        let inTop = top & ((1 << UInt64(s)) &- 1)
        if inTop == 0 { return -1 }
        let s2 = 63 - inTop.leadingZeroBitCount
        let w2 = s2 << 6 | (63 - summary[s2].leadingZeroBitCount)
        return Int32(w2 << 6 | (63 - words[w2].leadingZeroBitCount))
    }

    /// Lowest occupied level strictly above `level`, or -1.
    public func lowest(above level: UInt32) -> Int32 {
        let w = Int(level >> 6)
        let bit = level & 63
        let inWord = bit == 63 ? 0 : words[w] & ~((2 << UInt64(bit)) &- 1)
        if inWord != 0 { return Int32(w << 6 | inWord.trailingZeroBitCount) }
        let s = w >> 6
        let wbit = w & 63
        let inSummary = wbit == 63 ? 0 : summary[s] & ~((2 << UInt64(wbit)) &- 1)
        if inSummary != 0 {
            let w2 = s << 6 | inSummary.trailingZeroBitCount
            return Int32(w2 << 6 | words[w2].trailingZeroBitCount)
        }
        let inTop = s == 63 ? 0 : top & ~((2 << UInt64(s)) &- 1)
        if inTop == 0 { return -1 }
        let s2 = inTop.trailingZeroBitCount
        let w2 = s2 << 6 | summary[s2].trailingZeroBitCount
        return Int32(w2 << 6 | words[w2].trailingZeroBitCount)
    }
}
