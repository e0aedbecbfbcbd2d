/// The primary's replication lag in time (`lag_us`): when the durable position reached each
/// sequence, a sample per advance, dropped once the standby acknowledged it. Bounded: when
/// full, later advances are not sampled, so the lag reads high, never low.
struct LagSamples {
    var sequences: [UInt64]
    var times: [UInt64]
    var head = 0
    var count = 0

    init(capacity: Int) {
        sequences = Array(repeating: 0, count: capacity)
        times = Array(repeating: 0, count: capacity)
    }

    mutating func append(sequence: UInt64, at time: UInt64) {
        guard count < sequences.count else { return }
        let slot = (head + count) % sequences.count
        sequences[slot] = sequence
        times[slot] = time
        count += 1
    }

    /// Forgets the samples the standby has acknowledged.
    mutating func dropThrough(_ acknowledged: UInt64) {
        while count > 0 && sequences[head] <= acknowledged {
            head = (head + 1) % sequences.count
            count -= 1
        }
    }

    /// When the oldest unacknowledged record became durable.
    var oldest: UInt64? { count > 0 ? times[head] : nil }
}
