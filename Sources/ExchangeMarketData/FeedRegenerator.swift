import ExchangeCore
import ExchangeEngine
import ExchangeWire

/// The feed regenerated from the day's book events, off the live agent: a scratch
/// `FeedPublisher` — the live feed's own encoder, numbering and re-request history — fed the
/// events of a replaying engine exactly as recovery feeds the live agent
/// (`MarketDataAgent.replay`: the day's opening on its start of day, or on its first event;
/// every packet dropped unsent). Its history then holds the messages the live feed published
/// under the same sequence numbers, byte for byte, for the journal archive to answer
/// re-requests older than the live history with.
public struct FeedRegenerator: ~Copyable {
    var publisher: FeedPublisher
    var dayOpened = false
    var openingTimestamp: Timestamp = 0

    /// - Parameter historyMessages: messages kept (a power of two): at least what one answer
    ///   carries plus what one event publishes (the opening: a few per instrument).
    public init(configuration: MarketDataConfiguration, historyMessages: Int) {
        publisher = FeedPublisher(session: configuration.session, maxPayload: configuration.maxPayloadBytes,
                                  instruments: configuration.instruments, packetSlots: 4, historyMessages: historyMessages,
                                  orderCapacity: configuration.orderCapacity, firstSequence: 1)
        publisher.opensMarket = !configuration.scheduledDay
    }

    /// A regenerator that continues from a day snapshot's feed state: its next message gets
    /// the state's next sequence, its book replica holds the state's orders.
    public init(configuration: MarketDataConfiguration, historyMessages: Int, restoring state: FeedDayState) throws(FeedDayStateError) {
        publisher = FeedPublisher(session: configuration.session, maxPayload: configuration.maxPayloadBytes,
                                  instruments: configuration.instruments, packetSlots: 4, historyMessages: historyMessages,
                                  orderCapacity: configuration.orderCapacity, firstSequence: state.nextSequence)
        publisher.opensMarket = !configuration.scheduledDay
        try publisher.restoreDayState(state)
        dayOpened = state.dayOpened
        openingTimestamp = state.openingTimestamp
    }

    /// The history a regenerator for `configuration` needs (see `init`).
    public static func historyMessages(for configuration: MarketDataConfiguration) -> Int {
        var capacity = 4_096
        while capacity < 8 * configuration.instruments.count + 2 * (configuration.maxPayloadBytes / 13) + 64 { capacity <<= 1 }
        return capacity
    }

    /// The sequence number the next regenerated message gets.
    public var nextSequence: UInt64 { publisher.history.nextSequence }
    /// The oldest regenerated message still held.
    public var oldestSequence: UInt64 { publisher.history.oldestSequence }

    /// Publishes a book event as `MarketDataAgent.replay` does (other events are ignored).
    public mutating func publish(_ event: EngineEvent) {
        guard event.isBookEvent else { return }
        if case .opening = publisher.phase {
            if !dayOpened {
                dayOpened = true
                openingTimestamp = event.timestamp % ITCHEncoder.nanosecondsPerDay
            }
            while !publisher.advanceOpening(timestamp: openingTimestamp) { dropReadyPackets() }
            if case .systemEvent(let e) = event, e.event == .startOfDay { return dropReadyPackets() }
        }
        if !publisher.canPublish { dropReadyPackets() }
        publisher.publish(event)
        dropReadyPackets()
    }

    mutating func dropReadyPackets() {
        publisher.flush()
        while let slot = publisher.packets.takeReady() { publisher.packets.complete(slot) }
    }

    /// Copies regenerated messages from `sequence` as MoldUDP64 blocks (`RetransmitHistory.copyBlocks`).
    public func copyBlocks(from sequence: UInt64, maxCount: Int, maxBytes: Int, to out: UnsafeMutableRawPointer) -> (count: Int, bytes: Int) {
        publisher.history.copyBlocks(from: sequence, maxCount: maxCount, maxBytes: maxBytes, to: out)
    }
}
