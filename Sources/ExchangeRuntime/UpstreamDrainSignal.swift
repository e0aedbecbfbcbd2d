import Synchronization

/// Tells a downstream agent (market data) that the agents upstream of it can publish nothing more, so
/// the session may close (System Events M, E, C, then End of Session) after the last event.
///
/// Shared mode (every agent on one thread): wrap the upstream agents in
/// `UpstreamDrainReporter`, which raises the signal the first time, while draining, they did
/// no work and report themselves drained — on one thread nothing can reach them after that.
/// Dedicated mode needs no signal: the runner knows when every thread of the earlier stages
/// has left (`AgentRunner.upstreamFinished(before:)`, with acquire ordering).
public final class UpstreamDrainSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    public init() {}
    public func raise() { raised.store(true, ordering: .releasing) }
    public var isRaised: Bool { raised.load(ordering: .acquiring) }
}

/// Runs `upstream` and raises `signal` once it is drained (see `UpstreamDrainSignal`).
public struct UpstreamDrainReporter<Upstream: Agent & ~Copyable>: Agent, ~Copyable {
    public var upstream: Upstream
    @usableFromInline let signal: UpstreamDrainSignal
    @usableFromInline var draining = false

    public init(_ upstream: consuming Upstream, signal: UpstreamDrainSignal) {
        self.upstream = upstream
        self.signal = signal
    }

    @inlinable
    public mutating func doWork() -> Int {
        let work = upstream.doWork()
        if work == 0 && draining && upstream.isDrained { raise() }
        return work
    }

    @usableFromInline
    func raise() { if !signal.isRaised { signal.raise() } }

    public mutating func beginDrain() {
        draining = true
        upstream.beginDrain()
    }

    public var isDrained: Bool { upstream.isDrained }

    public var roleName: String { upstream.roleName }
    public mutating func onStart() throws(AgentStartError) { try upstream.onStart() }
    public mutating func onClose() { upstream.onClose() }
    public var errorCount: UInt64 { upstream.errorCount }
}
