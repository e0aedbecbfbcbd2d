import ExchangeCore
import Synchronization

/// Operator actions on their way from the admin plane to the gateway, which sends them to the
/// engine (journaled like any command): a halt or a resume (a phase command for a symbol or
/// every symbol), a kill switch or its reinstatement, a mass cancel, the start or end of the
/// day, and the `OperatorNote` records that say who took the action and why. Bounded: `offer`
/// refuses when the actions would not fit beside those waiting.
///
/// Producers (the admin plane's threads) take a lock among themselves; the gateway's `peek`,
/// `drop` and `take` take none and allocate nothing.
public final class OperatorActionQueue: @unchecked Sendable {
    /// One engine command; its timestamp is the gateway's when it sends it.
    public struct Action: Sendable, Equatable {
        public var command: EngineCommand

        public init(_ command: EngineCommand) {
            self.command = command
        }

        /// A phase action (halt, resume, …) for `symbol` (`.everySymbol`: the whole market).
        public init(symbol: Symbol, action: PhaseAction) {
            command = .tradingPhase(PhaseCommand(timestamp: 0, symbol: symbol, action: action))
        }
    }

    public let capacity: Int
    /// Written by a producer before it publishes `head` (release), read by the gateway after
    /// it loads `head` (acquire).
    private let slots: UnsafeMutablePointer<Action>
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let producers = Mutex(())

    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        slots = .allocate(capacity: self.capacity)
        slots.initialize(repeating: Action(.advanceTime(0)), count: self.capacity)
    }

    deinit { slots.deallocate() }

    /// Queues `action`; false when the queue is full (the gateway has not taken the earlier ones).
    public func offer(_ action: Action) -> Bool { offer([action]) }

    /// Queues `actions` one after the other, all or none (the gateway sends them in this order,
    /// with no other operator's between them); false when they do not fit.
    public func offer(_ actions: [Action]) -> Bool {
        producers.withLock { _ in
            let h = head.load(ordering: .relaxed)
            guard h - tail.load(ordering: .acquiring) + actions.count <= capacity else { return false }
            for (i, action) in actions.enumerated() { slots[(h + i) % capacity] = action }
            head.store(h + actions.count, ordering: .releasing)
            return true
        }
    }

    /// The oldest action waiting, left in the queue (the gateway: its only consumer), so that
    /// one the engine's ring has no room for now is sent next time.
    public func peek() -> Action? {
        let t = tail.load(ordering: .relaxed)
        guard t != head.load(ordering: .acquiring) else { return nil }
        return slots[t % capacity]
    }

    /// Removes the action `peek` answered.
    public func drop() {
        let t = tail.load(ordering: .relaxed)
        guard t != head.load(ordering: .acquiring) else { return }
        tail.store(t + 1, ordering: .releasing)
    }

    /// The oldest action waiting, if any, removed.
    public func take() -> Action? {
        guard let action = peek() else { return nil }
        drop()
        return action
    }

    /// Actions waiting.
    public var depth: Int { head.load(ordering: .acquiring) - tail.load(ordering: .acquiring) }
}
