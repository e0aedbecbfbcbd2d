/// A unit of work owned by one thread: `doWork()` does whatever is ready and returns how
/// much it did (0 = nothing), never blocking. What a thread does when there was nothing to
/// do is its idle strategy's business, which agent runs on which thread is configuration.
public protocol Agent: ~Copyable {
    /// Does what is ready; returns the amount of work done (0 when idle).
    mutating func doWork() -> Int
    /// Stops taking new work from outside (a gateway stops accepting orders); work already
    /// accepted still flows.
    mutating func beginDrain()
    /// True once everything accepted has been processed and handed on.
    var isDrained: Bool { get }
}

/// Two agents run as one, in order: how the shared mode puts every agent on one thread
/// without existentials or dynamic dispatch.
public struct AgentPair<First: Agent & ~Copyable, Second: Agent & ~Copyable>: Agent, ~Copyable {
    public var first: First
    public var second: Second

    public init(_ first: consuming First, _ second: consuming Second) {
        self.first = first
        self.second = second
    }

    @inlinable
    public mutating func doWork() -> Int { first.doWork() &+ second.doWork() }

    public mutating func beginDrain() {
        first.beginDrain()
        second.beginDrain()
    }

    public var isDrained: Bool { first.isDrained && second.isDrained }
}
