import ExchangeCore
import ExchangeWire

/// Each case's payload, or nil for any other message: `try #require(message.accepted)`
/// fails the test on the wrong message instead of returning from it early.
extension OUCHMessage {
    public var accepted: OUCHAccepted? { if case .accepted(let m) = self { m } else { nil } }
    public var replaced: OUCHReplaced? { if case .replaced(let m) = self { m } else { nil } }

    public var executed: (token: OrderToken, shares: Shares, price: Price, liquidity: UInt8, matchNumber: MatchNumber)? {
        if case .executed(_, let token, let shares, let price, let liquidity, let match) = self {
            (token, shares, price, liquidity, match)
        } else {
            nil
        }
    }

    public var rejected: (token: OrderToken, reason: UInt8)? {
        if case .rejected(_, let token, let reason) = self { (token, reason) } else { nil }
    }
}
