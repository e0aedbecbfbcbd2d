import ExchangeBookReplica
import ExchangeCore
import ExchangeWire

extension FeedPublisher {
    /// Writes the whole snapshot, as SoupBinTCP Sequenced Data packets, into `out` (at least
    /// `GlimpseSnapshot.maximumBytes(instruments:orders:)` for the replica's order count)
    /// and returns the bytes written and the messages (SoupBinTCP sequence numbers) used.
    /// Consistent as of `nextSequence`: call it between two batches of events.
    public func writeSnapshot(timestamp: Timestamp, to out: UnsafeMutableRawPointer) -> (bytes: Int, messages: Int) {
        var offset = 0
        var messages = 0
        func put(_ message: ITCHMessage) {
            let length = message.length
            offset += SoupBinTCP.sequencedDataHeader(payloadLength: length, to: out + offset)
            offset += ITCHEncoder.write(message, to: out + offset)
            messages += 1
        }
        let state: ITCH.EventCode = switch phase {
        case .opening: .startOfSystemHours
        case .live: .startOfMarketHours
        case .closing, .ended: .endOfMarketHours
        }
        put(.systemEvent(.init(timestamp: timestamp, code: state)))
        for i in 0..<instrumentCount {
            put(.stockDirectory(.init(locate: UInt16(i + 1), timestamp: timestamp, instrument: instruments[i])))
        }
        for i in 0..<instrumentCount {
            put(tradingAction(instrument: i, timestamp: timestamp, halted: replica.isHalted(InstrumentIndex(i))))
        }
        for i in 0..<instrumentCount {
            let symbol = instruments[i].symbol
            for rawSide: UInt8 in 0...1 {
                let side = BookSide(rawValue: rawSide)!
                let sideByte = side.itchCode
                replica.forEachOrder(instrument: InstrumentIndex(i), side: side) { order in
                    put(.addOrder(.init(locate: UInt16(i + 1), timestamp: timestamp, reference: order.reference, side: sideByte,
                                        shares: order.shares, symbol: symbol, price: order.price, attribution: order.attribution)))
                }
            }
        }
        offset += SoupBinTCP.sequencedDataHeader(payloadLength: GlimpseSnapshot.endOfSnapshotLength, to: out + offset)
        offset += GlimpseSnapshot.writeEndOfSnapshot(nextSequence: nextSequence, to: out + offset)
        messages += 1
        return (offset, messages)
    }
}
