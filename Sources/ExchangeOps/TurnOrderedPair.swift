import ExchangeRuntime

/// Two agents run as one, in an order fixed at start: the first then the second, or with
/// `secondRunsFirst` the second then the first. Starting and closing are `AgentPair`'s (the
/// first starts first, closes last, whatever the turn's order), so only where each does its
/// work within a turn changes.
///
/// The shared mode puts the journal agent with it: in `durability.mode` sync the journal
/// works before the gateway (a chain is submitted as soon as the engine made its records, and
/// what completed is published before the gateway looks at the durable position); in async
/// after the gateway (the answers leave before the journal's `io_uring_enter`, which may do the
/// block layer's work for an O_DIRECT write inline: docs/DURABILITY.md, "The shared thread").
struct TurnOrderedPair<First: Agent & ~Copyable, Second: Agent & ~Copyable>: Agent, ~Copyable {
    var pair: AgentPair<First, Second>
    let secondRunsFirst: Bool

    init(_ first: consuming First, _ second: consuming Second, secondRunsFirst: Bool) {
        pair = AgentPair(first, second)
        self.secondRunsFirst = secondRunsFirst
    }

    var roleName: String { pair.roleName }

    mutating func onStart() throws(AgentStartError) { try pair.onStart() }

    @inline(__always)
    mutating func doWork() -> Int {
        if secondRunsFirst {
            let work = pair.second.doWork()
            return work &+ pair.first.doWork()
        }
        let work = pair.first.doWork()
        return work &+ pair.second.doWork()
    }

    mutating func beginDrain() { pair.beginDrain() }

    var isDrained: Bool { pair.isDrained }

    mutating func onClose() { pair.onClose() }

    var errorCount: UInt64 { pair.errorCount }
}
