/// A unit of work owned by one thread (Agrona's `Agent`): `onStart()` once on that thread,
/// then `doWork()` turns that do whatever is ready and return how much they did (0 =
/// nothing), never blocking, then `onClose()` once on the same thread. What a thread does
/// when there was nothing to do is its idle strategy's business; which agent runs on which
/// thread is configuration.
///
/// A duty cycle has no "first turn" branch: what must happen on the agent's own thread
/// before work (adopting an io_uring as its single issuer, arming accepts) is `onStart`;
/// what must happen after the last turn (cancelling operations in flight, closing
/// descriptors) is `onClose`, not a deinit that repeats it.
public protocol Agent: ~Copyable {
    /// What the agent is ("gateway", "engine", "market-data"), for thread names and reports.
    var roleName: String { get }
    /// Runs once on the agent's own thread before the first `doWork()`. A throw stops the
    /// thread before any work: the runner reports the error and still calls `onClose()`.
    mutating func onStart() throws(AgentStartError)
    /// Does what is ready; returns the amount of work done (0 when idle).
    mutating func doWork() -> Int
    /// Stops taking new work from outside (a gateway stops accepting orders); work already
    /// accepted still flows.
    mutating func beginDrain()
    /// True once everything accepted has been processed and handed on.
    var isDrained: Bool { get }
    /// Runs once on the agent's own thread after the last `doWork()` (or after `onStart()`
    /// failed): releases what the agent holds in the kernel (operations in flight,
    /// descriptors). Memory goes with the agent's deinit.
    mutating func onClose()
    /// Errors the agent met and counted since start (failed submissions, sends that
    /// failed): published by the runner beside its heartbeat.
    var errorCount: UInt64 { get }
}

extension Agent where Self: ~Copyable {
    public mutating func onStart() throws(AgentStartError) {}
    public mutating func onClose() {}
    public var errorCount: UInt64 { 0 }
}

/// Why an agent could not start on its thread.
public struct AgentStartError: Error, Sendable, CustomStringConvertible {
    public var role: String
    public var reason: String
    public init(role: String, reason: String) {
        self.role = role
        self.reason = reason
    }
    public init(role: String, _ error: SystemError) {
        self.init(role: role, reason: error.description)
    }
    public var description: String { "\(role) agent did not start: \(reason)" }
}

/// Two agents run as one, in order: how the shared mode puts every agent on one thread
/// without existentials or dynamic dispatch.
///
/// Each half gets one `onClose()` for its one `onStart()`: the pair starts the first, then
/// the second, and closes in the reverse order only the halves whose start it tried. When
/// the second's start fails, the runner's `onClose()` closes the second (after its failed
/// start, as for any agent) and then the first, so a failed start leaves nothing running.
public struct AgentPair<First: Agent & ~Copyable, Second: Agent & ~Copyable>: Agent, ~Copyable {
    public var first: First
    public var second: Second
    /// How many halves `onStart()` reached (0, 1 or 2): the ones `onClose()` closes.
    var halvesStarted = 0

    public init(_ first: consuming First, _ second: consuming Second) {
        self.first = first
        self.second = second
    }

    public var roleName: String { "\(first.roleName)+\(second.roleName)" }

    /// Starts the first, then the second (not the second when the first failed).
    public mutating func onStart() throws(AgentStartError) {
        halvesStarted = 1
        try first.onStart()
        halvesStarted = 2
        try second.onStart()
    }

    @inlinable
    public mutating func doWork() -> Int { first.doWork() &+ second.doWork() }

    public mutating func beginDrain() {
        first.beginDrain()
        second.beginDrain()
    }

    public var isDrained: Bool { first.isDrained && second.isDrained }

    /// Closes in the reverse order of starting, each half whose start was tried.
    public mutating func onClose() {
        if halvesStarted >= 2 { second.onClose() }
        if halvesStarted >= 1 { first.onClose() }
        halvesStarted = 0
    }

    public var errorCount: UInt64 { first.errorCount &+ second.errorCount }
}
