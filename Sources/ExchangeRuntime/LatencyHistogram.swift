import Synchronization

/// A fixed, log-linear latency histogram laid over the counters region: values below 16
/// get a bucket each, then every power of two is split into 16 buckets (at most 6.25 %
/// relative error). One writer (the agent that measures) increments buckets with relaxed
/// stores; readers in other processes compute quantiles from a snapshot.
public enum LatencyHistogram {
    public static let subBucketBits = 4
    public static let subBuckets = 1 << subBucketBits
    public static let bucketCount = subBuckets + (64 - subBucketBits) * subBuckets
    /// Cells a histogram takes in the counters region: the buckets, then count and sum.
    public static let cellCount = bucketCount + 2

    /// The bucket a value falls in.
    @inlinable
    public static func bucket(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let mantissa = Int(truncatingIfNeeded: value >> UInt64(exponent - subBucketBits)) & (subBuckets - 1)
        return subBuckets + (exponent - subBucketBits) * subBuckets + mantissa
    }

    /// The smallest value that falls in `bucket`.
    public static func lowerBound(of bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let exponent = (bucket - subBuckets) / subBuckets + subBucketBits
        let mantissa = UInt64((bucket - subBuckets) % subBuckets)
        return (1 << UInt64(exponent)) | (mantissa << UInt64(exponent - subBucketBits))
    }

    /// A representative value for `bucket` (the middle of its range).
    public static func midpoint(of bucket: Int) -> UInt64 {
        let low = lowerBound(of: bucket)
        let high = bucket + 1 < bucketCount ? lowerBound(of: bucket + 1) : UInt64.max
        return low + (high - low) / 2
    }

    /// A copy of the buckets taken by a reader.
    public struct Snapshot: Sendable {
        public var buckets: [UInt64]
        public var count: UInt64
        public var sum: UInt64

        public init(buckets: [UInt64], count: UInt64, sum: UInt64) {
            self.buckets = buckets
            self.count = count
            self.sum = sum
        }

        /// The value at quantile `q` (0…1), or 0 when empty.
        public func quantile(_ q: Double) -> UInt64 {
            let total = buckets.reduce(0, +)
            guard total > 0 else { return 0 }
            let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
            var seen: UInt64 = 0
            for (i, n) in buckets.enumerated() {
                seen += n
                if seen >= rank { return LatencyHistogram.midpoint(of: i) }
            }
            return LatencyHistogram.midpoint(of: buckets.count - 1)
        }

        /// The difference from an earlier snapshot (for a recent window).
        public func subtracting(_ earlier: Snapshot) -> Snapshot {
            Snapshot(buckets: zip(buckets, earlier.buckets).map { $0 &- $1 }, count: count &- earlier.count,
                     sum: sum &- earlier.sum)
        }
    }
}

/// The writing side: owned by the one agent that records.
public struct LatencyRecorder {
    @usableFromInline let cells: UnsafeMutablePointer<Atomic<UInt64>>

    /// `base` is the histogram's start in the counters region.
    public init(base: UnsafeMutableRawPointer) {
        cells = base.bindMemory(to: Atomic<UInt64>.self, capacity: LatencyHistogram.bucketCount + 2)
    }

    /// Records one value. Single writer: relaxed load and store, no read-modify-write.
    @inlinable
    public func record(_ value: UInt64) {
        let b = LatencyHistogram.bucket(of: value)
        cells[b].store(cells[b].load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        let count = LatencyHistogram.bucketCount
        cells[count].store(cells[count].load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        cells[count + 1].store(cells[count + 1].load(ordering: .relaxed) &+ value, ordering: .relaxed)
    }
}
