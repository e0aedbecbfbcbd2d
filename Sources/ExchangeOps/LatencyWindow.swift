import ExchangeRuntime

/// The admin plane's view of recent latency: a snapshot of the histogram every few seconds,
/// kept for a minute; quantiles are taken over the difference, so one bad moment does not
/// colour the quantiles for the rest of the day.
public struct LatencyWindow: Sendable {
    private var samples: [LatencyHistogram.Snapshot] = []
    private let keep: Int

    /// `keep` samples (at the admin plane's sampling interval) make the window.
    public init(keep: Int = 12) { self.keep = keep }

    public mutating func add(_ snapshot: LatencyHistogram.Snapshot) {
        samples.append(snapshot)
        if samples.count > keep + 1 { samples.removeFirst(samples.count - keep - 1) }
    }

    /// Latency recorded between the oldest kept sample and `now`.
    public func recent(now: LatencyHistogram.Snapshot) -> LatencyHistogram.Snapshot {
        guard let oldest = samples.first else { return now }
        return now.subtracting(oldest)
    }
}
