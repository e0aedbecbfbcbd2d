import ExchangeCore

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
