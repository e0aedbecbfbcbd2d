/// Anything that processes engine commands resumably: the bare core and the risk-checked
/// engine. Agents drive it step by step; tools and tests use `run`.
public protocol CommandProcessing: ~Copyable {
    mutating func process(_ command: EngineCommand) -> ProcessStatus
    mutating func resume() -> ProcessStatus
    var events: UnsafeBufferPointer<EngineEvent> { get }
    mutating func clearEvents()
    /// Hints that `command` comes soon, so its memory is loaded by then (changes nothing else).
    func prefetch(_ command: EngineCommand)
}

extension CommandProcessing where Self: ~Copyable {
    /// Runs the command to completion, handing each batch of events to `body` before
    /// clearing it.
    @inlinable
    public mutating func run(_ command: EngineCommand, _ body: (UnsafeBufferPointer<EngineEvent>) -> Void) {
        var status = process(command)
        while true {
            body(events)
            clearEvents()
            if status == .completed { return }
            status = resume()
        }
    }

    /// Runs a batch of commands in order, each to completion, prefetching `lookahead`
    /// commands ahead: how an agent drains a batch from its command ring.
    @inlinable
    public mutating func runBatch(
        _ commands: UnsafeBufferPointer<EngineCommand>, lookahead: Int = 8,
        _ body: (UnsafeBufferPointer<EngineEvent>) -> Void
    ) {
        for i in 0..<min(lookahead, commands.count) { prefetch(commands[i]) }
        for i in 0..<commands.count {
            if i &+ lookahead < commands.count { prefetch(commands[i &+ lookahead]) }
            run(commands[i], body)
        }
    }

    /// Runs the command to completion and returns its events (allocates: not for hot paths).
    public mutating func runCollecting(_ command: EngineCommand) -> [EngineEvent] {
        var collected: [EngineEvent] = []
        run(command) { collected.append(contentsOf: $0) }
        return collected
    }
}

