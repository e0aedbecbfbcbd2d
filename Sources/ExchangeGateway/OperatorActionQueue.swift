import ExchangeCore
import Synchronization

/// Operator actions (a halt, a resume: `PhaseAction` for a symbol or every symbol) on their
/// way from the admin plane to the gateway, which sends them to the engine as phase commands
/// (journaled like any command). Bounded: `offer` refuses when `capacity` actions wait.
///
/// Producers (the admin plane's threads) take a lock among themselves; the gateway's `take`
/// takes none and allocates nothing.
public final class OperatorActionQueue: @unchecked Sendable {
    public struct Action: Sendable, Equatable {
        public var symbol: Symbol
        public var action: PhaseAction

        public init(symbol: Symbol, action: PhaseAction) {
            self.symbol = symbol
            self.action = action
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
        slots.initialize(repeating: Action(symbol: .everySymbol, action: .halt), count: self.capacity)
    }

    deinit { slots.deallocate() }

    /// Queues `action`; false when the queue is full (the gateway has not taken the earlier ones).
    public func offer(_ action: Action) -> Bool {
        producers.withLock { _ in
            let h = head.load(ordering: .relaxed)
            guard h - tail.load(ordering: .acquiring) < capacity else { return false }
            slots[h % capacity] = action
            head.store(h + 1, ordering: .releasing)
            return true
        }
    }

    /// The oldest action waiting, if any (the gateway: its only consumer).
    public func take() -> Action? {
        let t = tail.load(ordering: .relaxed)
        guard t != head.load(ordering: .acquiring) else { return nil }
        let action = slots[t % capacity]
        tail.store(t + 1, ordering: .releasing)
        return action
    }

    /// Actions waiting.
    public var depth: Int { head.load(ordering: .acquiring) - tail.load(ordering: .acquiring) }
}
