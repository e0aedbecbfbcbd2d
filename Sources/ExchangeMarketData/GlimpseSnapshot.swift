import ExchangeCore
import ExchangeWire

/// The snapshot a late joiner receives from the snapshot service (Glimpse 5.0 style), as
/// SoupBinTCP Sequenced Data packets after the Login Accepted:
///
/// 1. System Event with the feed's current state (`Q` while the market is open);
/// 2. a Stock Directory (`R`) per instrument, in locate order;
/// 3. a Trading Action (`H`) per instrument with its current state;
/// 4. an Add Order (`A`, or `F` when attributed) for every resting displayed order: each
///    instrument in locate order, bids then asks, each side in priority order (best price
///    first, then oldest first). Its timestamp is the snapshot's, not the order's;
/// 5. End of Snapshot (`G`, 21 bytes: type, then Sequence Number a20, right-justified,
///    space-padded): the MoldUDP64 sequence number of the first multicast message *not*
///    reflected in the snapshot — the one to continue from.
///
/// Every message carries the sequence number of its position in this SoupBinTCP stream
/// (Login Accepted says 1); they are not multicast sequence numbers.
public enum GlimpseSnapshot {
    public static let endOfSnapshotType: UInt8 = 0x47  // G
    public static let endOfSnapshotLength = 21
    public static let sequenceOffset = 1
    public static let sequenceWidth = 20

    /// Bytes a snapshot of `instruments` instruments and `orders` resting orders takes at most.
    public static func maximumBytes(instruments: Int, orders: Int) -> Int {
        let packet = SoupBinTCP.headerLength
        return packet + ITCH.Length.systemEvent
            + instruments * (2 * packet + ITCH.Length.stockDirectory + ITCH.Length.tradingAction)
            + orders * (packet + ITCH.Length.addOrderAttributed)
            + packet + endOfSnapshotLength
    }

    /// Writes the End of Snapshot message (not framed) and returns 21.
    public static func writeEndOfSnapshot(nextSequence: UInt64, to out: UnsafeMutableRawPointer) -> Int {
        BigEndian.write(endOfSnapshotType, to: out, at: 0)
        NumericField.writeRightJustified(nextSequence, width: sequenceWidth, to: out, at: sequenceOffset)
        return endOfSnapshotLength
    }

    /// Reads an End of Snapshot message's sequence number (tolerating spaces either side).
    public static func readEndOfSnapshot(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == endOfSnapshotLength, let p = bytes.baseAddress, p.load(as: UInt8.self) == endOfSnapshotType else { return nil }
        return NumericField.parse(p, at: sequenceOffset, width: sequenceWidth)
    }
}

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
                let sideByte = side == .bid ? ITCH.buy : ITCH.sell
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
