import ExchangeCore
import ExchangeEngine
import ExchangeRuntime

/// Consumes one of the engine's event rings and counts what it took: what a consumer of
/// that ring does, minus its work. The appliance runs one on the book-events ring while the
/// market-data publisher is not there, so the engine's rings keep flowing.
public struct EventDrainAgent: Agent, ~Copyable {
    public var roleName: String { "event-drain" }

    var events: SPSCRing<SequencedEvent>.Consumer
    let ring: CountersLayout.RingSlot
    let cells: CounterCells

    public init(events: consuming SPSCRing<SequencedEvent>.Consumer, ring: CountersLayout.RingSlot, cells: CounterCells) {
        self.events = events
        self.ring = ring
        self.cells = cells
    }

    public mutating func doWork() -> Int {
        let taken = events.peek(upTo: 1_024).count
        if taken > 0 {
            events.release(taken)
            cells.store(ring.offset + CountersLayout.RingCell.consumed, events.released)
        }
        return taken
    }

    public mutating func beginDrain() {}

    public var isDrained: Bool { events.depth == 0 }
}
