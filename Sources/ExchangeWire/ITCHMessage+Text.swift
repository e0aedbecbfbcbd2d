import ExchangeCore

/// One readable line per message, for tools and test failures: the ITCH type letter, what
/// it is, then its fields in the units people read (prices with 4 decimals, sides as B/S).
/// Timestamps are left out (`timestamp` has them).
extension ITCHMessage: CustomStringConvertible {
    public var description: String {
        switch self {
        case .systemEvent(let m):
            return "S system event \(Self.letter(m.code))"
        case .stockDirectory(let m):
            return "R stock directory \(m.symbol) locate \(m.locate) round lot \(m.roundLotSize)"
        case .tradingAction(let m):
            return "H trading action \(m.symbol) locate \(m.locate) state \(Self.letter(m.state))"
                + (m.reason == ITCH.Reason.luldPause ? " reason LUDP" : "")
        case .addOrder(let m):
            let kind = m.attribution.map { "F add order (MPID \($0))" } ?? "A add order"
            return "\(kind) ref \(m.reference) \(Self.letter(m.side)) \(m.shares) \(m.symbol) @ \(PriceText.format(m.price))"
        case .orderExecuted(let m):
            return "E executed ref \(m.reference) \(m.shares) shares match \(m.matchNumber)"
        case .orderExecutedWithPrice(let m):
            return "C executed ref \(m.reference) \(m.shares) shares @ \(PriceText.format(m.price)) match \(m.matchNumber) printable \(Self.letter(m.printable))"
        case .orderCancel(let m):
            return "X cancel ref \(m.reference) \(m.canceledShares) shares"
        case .orderDelete(let m):
            return "D delete ref \(m.reference)"
        case .orderReplace(let m):
            return "U replace ref \(m.originalReference) → \(m.newReference) \(m.shares) @ \(PriceText.format(m.price))"
        case .trade(let m):
            return "P trade \(Self.letter(m.side)) \(m.shares) \(m.symbol) @ \(PriceText.format(m.price)) match \(m.matchNumber)"
        case .crossTrade(let m):
            return "Q cross trade \(Self.letter(m.crossType)) \(m.shares) \(m.symbol) @ \(PriceText.format(m.price)) match \(m.matchNumber)"
        case .luldAuctionCollar(let m):
            return "J LULD auction collar \(m.symbol) locate \(m.locate) reference \(PriceText.format(m.referencePrice)) upper \(PriceText.format(m.upperPrice)) lower \(PriceText.format(m.lowerPrice)) extensions \(m.extensions)"
        case .imbalance(let m):
            return "I imbalance \(Self.letter(m.crossType)) \(m.symbol) paired \(m.pairedShares) imbalance \(m.imbalanceShares) \(Self.letter(m.direction)) near \(PriceText.format(m.nearPrice)) far \(PriceText.format(m.farPrice)) reference \(PriceText.format(m.referencePrice))"
        }
    }

    static func letter(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16)
    }
}
