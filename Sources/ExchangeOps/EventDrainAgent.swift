import ExchangeCore
import ExchangeRuntime

/// Consumes the engine's order and book events and counts them: what the order gateway and
/// the market-data publisher do with those rings, minus the network. The appliance runs it
/// in their place until they exist, so the engine's rings keep flowing.
public struct EventDrainAgent: Agent, ~Copyable {
    var orderEvents: SPSCRing<EngineEvent>.Consumer
    var bookEvents: SPSCRing<EngineEvent>.Consumer
    let cells: CounterCells

    public init(orderEvents: consuming SPSCRing<EngineEvent>.Consumer, bookEvents: consuming SPSCRing<EngineEvent>.Consumer,
                cells: CounterCells) {
        self.orderEvents = orderEvents
        self.bookEvents = bookEvents
        self.cells = cells
    }

    public mutating func doWork() -> Int {
        let orders = orderEvents.peek(upTo: 1_024).count
        if orders > 0 {
            orderEvents.release(orders)
            cells.store(CountersLayout.RingSlot.orderEvents.offset + CountersLayout.RingCell.consumed, orderEvents.released)
        }
        let book = bookEvents.peek(upTo: 1_024).count
        if book > 0 {
            bookEvents.release(book)
            cells.store(CountersLayout.RingSlot.bookEvents.offset + CountersLayout.RingCell.consumed, bookEvents.released)
        }
        return orders &+ book
    }

    public mutating func beginDrain() {}

    public var isDrained: Bool { orderEvents.depth == 0 && bookEvents.depth == 0 }
}
