import ExchangeCore
import ExchangeEngine
import ExchangeWire

// Recovery: before `onStart`, a restarted market-data agent is given the day's book events
// (a replaying engine's output for the journaled commands) and ends with the sequence
// number, the re-request history and the book replica (the snapshot service's source) the
// live agent had — the MoldUDP64 session continues without a gap or a repeat.
extension MarketDataAgent {
    /// Publishes a replayed event as the live path did — the day's opening on its start of
    /// day (or its first event), numbered messages into the history and the replica — and
    /// sends nothing: every packet it fills is dropped (its messages stay in the history for
    /// re-requests). Packet boundaries may differ from the live ones; sequence numbers,
    /// message bytes and books do not.
    public mutating func replay(_ event: EngineEvent) {
        publisher.replay(event, dayOpened: &dayOpened, openingTimestamp: &openingTimestamp)
    }
}

extension FeedPublisher {
    /// `MarketDataAgent.replay` on the publisher alone (with the agent's two opening fields),
    /// so that a replica of the feed that is not an agent (the snapshot agent's) numbers every
    /// message as the live agent did.
    public mutating func replay(_ event: EngineEvent, dayOpened: inout Bool, openingTimestamp: inout Timestamp) {
        guard event.isBookEvent else { return }
        if case .opening = phase {
            if !dayOpened {
                dayOpened = true
                openingTimestamp = event.timestamp % ITCHEncoder.nanosecondsPerDay
            }
            while !advanceOpening(timestamp: openingTimestamp) { dropReadyPackets() }
            if case .systemEvent(let e) = event, e.event == .startOfDay { return dropReadyPackets() }
        }
        if !canPublish { dropReadyPackets() }
        publish(event)
        dropReadyPackets()
    }

    /// Closes the open packet and frees every ready one unsent.
    public mutating func dropReadyPackets() {
        flush()
        while let slot = packets.takeReady() { packets.complete(slot) }
    }
}
