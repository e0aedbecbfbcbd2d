import ExchangeCore

extension BookSide {
    /// The ITCH 5.0 Buy/Sell Indicator: `B` for the bid, `S` for the ask.
    @inlinable public var itchCode: UInt8 { self == .bid ? ITCH.buy : ITCH.sell }

    /// The side an ITCH Buy/Sell Indicator names; nil for anything but `B` and `S`.
    @inlinable public init?(itchCode: UInt8) {
        switch itchCode {
        case ITCH.buy: self = .bid
        case ITCH.sell: self = .ask
        default: return nil
        }
    }
}
