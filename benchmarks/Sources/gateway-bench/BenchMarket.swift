import ExchangeConfig
import ExchangeCore
import ExchangeRisk
import ExchangeWire

/// The market every server in a run trades, so that RTES and the SwiftNIO server run the
/// same engine on the same instruments and limits, and the client sends them the same orders.
enum BenchMarket {
    /// Instruments as the exchange configuration states them: symbol, reference price in
    /// dollars; tick 0.01, lot 1, collar 10 %.
    static let instruments: [(symbol: String, referenceDollars: Int)] = [("AAPL", 230), ("MSFT", 420)]

    static var specs: [InstrumentSpec] {
        instruments.map {
            InstrumentSpec(symbol: Symbol($0.symbol)!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000,
                           referencePrice: Price($0.referenceDollars) * 10_000)
        }
    }

    static let priceLevels = 65_536
    static let maxClients = 64
    static let orderPoolSize = 1_000_000

    /// Risk on (collars, size and notional checks run) with limits no benchmark order reaches.
    static let maxOrderShares: Shares = 1_000_000
    static let maxOpenNotionalDollars: UInt64 = 1_000_000_000_000
    static let maxOrdersPerSecond: UInt32 = 100_000_000
    static var limits: RiskLimits {
        RiskLimits(maxOrderShares: maxOrderShares, maxOpenNotional: maxOpenNotionalDollars * 10_000,
                   maxOrdersPerSecond: maxOrdersPerSecond, priceCollarsEnabled: true)
    }

    /// Every order: buy 100 AAPL at 220.00, day order. It rests 4.3 % below the reference
    /// (inside the collar, far from any touch: nothing in a run ever sells) until its cancel.
    static let symbol = Symbol("AAPL")!
    static let shares: Shares = 100
    static let price: Price = 2_200_000

    /// Bytes on the wire: Enter Order in Unsequenced Data, Cancel Order in Unsequenced Data.
    static let enterPacketBytes = SoupBinTCP.headerLength + OUCHLayout.EnterOrder.length
    static let cancelPacketBytes = SoupBinTCP.headerLength + OUCHLayout.CancelOrder.length
    static let acceptedPacketBytes = SoupBinTCP.headerLength + OUCHLayout.Accepted.length
    static let canceledPacketBytes = SoupBinTCP.headerLength + OUCHLayout.Canceled.length

    /// Writes Unsequenced Data + Enter Order for `token` at `out`; returns the bytes written.
    @inline(__always)
    static func writeEnter(token: OrderToken, to out: UnsafeMutableRawPointer) -> Int {
        let length = OUCHInboundEncoder.enter(token: token, side: .buy, shares: shares, symbol: symbol, price: price,
                                              to: out + SoupBinTCP.headerLength)
        return SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length
    }

    /// Writes Unsequenced Data + Cancel Order (cancel all) for `token` at `out`.
    @inline(__always)
    static func writeCancel(token: OrderToken, to out: UnsafeMutableRawPointer) -> Int {
        let length = OUCHInboundEncoder.cancel(token: token, to: out + SoupBinTCP.headerLength)
        return SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length
    }
}

/// Order tokens unique for the exchange's day: a letter naming the phase that sent the
/// order, then 13 decimal digits.
enum BenchToken {
    @inline(__always)
    static func make(_ prefix: UInt8, _ number: UInt64) -> OrderToken {
        OrderToken(prefix: UInt64(prefix) << 56, prefixLength: 1, number: number)
    }
}

/// A trading account from the API keys file that the exchange reads (`RTES_API_KEYS_FILE`).
struct BenchAccount: Sendable {
    var clientID: ClientID
    var username: SoupUsername
    var password: SoupPassword
    /// The password's text (FIX's Password field; `SoupPassword` does not show its own).
    var passwordText: String
    var firm: Firm

    /// Every account in the file, client IDs in file order (as the exchange assigns them).
    static func load(path: String) throws -> [BenchAccount] {
        try APIKeys.load(path: path, allowPlainPasswords: true).keys.accounts.enumerated().map { index, account in
            // The file holds scrypt hashes; the development accounts' passwords are the README's
            // (LOADn: loadnpass), plain entries are used as they are.
            let text = switch account.credential {
            case .plain(let secret): secret.reveal()
            case .scrypt: account.username.lowercased() + "pass"
            }
            guard let username = SoupUsername(account.username), let password = SoupPassword(text) else {
                throw BenchFailure("\(path): account \(index) does not fit the SoupBinTCP username/password fields")
            }
            return BenchAccount(clientID: ClientID(index), username: username, password: password, passwordText: text,
                                firm: account.firm)
        }
    }
}

/// Why a measurement could not be made.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
