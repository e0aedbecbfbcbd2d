import ExchangeRuntime

/// An agent that may be absent: present, it is run as itself; absent (e.g. the journal
/// agent with `durability.mode` none), it does nothing and is always drained. Lets a thread's
/// agents be assembled as one type whatever the configuration leaves out.
struct OptionalAgent<Wrapped: Agent & ~Copyable>: Agent, ~Copyable {
    var wrapped: Wrapped?

    init(_ wrapped: consuming Wrapped?) { self.wrapped = wrapped }

    var roleName: String {
        switch wrapped {
        case .some(let agent): agent.roleName
        case .none: "none"
        }
    }

    mutating func onStart() throws(AgentStartError) { try wrapped?.onStart() }

    @inline(__always)
    mutating func doWork() -> Int { wrapped?.doWork() ?? 0 }

    mutating func beginDrain() { wrapped?.beginDrain() }

    var isDrained: Bool {
        switch wrapped {
        case .some(let agent): agent.isDrained
        case .none: true
        }
    }

    mutating func onClose() { wrapped?.onClose() }

    var errorCount: UInt64 {
        switch wrapped {
        case .some(let agent): agent.errorCount
        case .none: 0
        }
    }
}
