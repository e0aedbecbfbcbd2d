import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeWire

/// Puts `count` resting buy orders on AAPL through one connection (pipelined, `window`
/// outstanding), 100 shares each, spread over 1,300 price levels from 207.00 to 219.99 —
/// inside the collar, below anything a run ever sells — and waits for every Accepted: the
/// big book a snapshot storm reads.
enum BookFill {
    static func run(port: UInt16, account: BenchAccount, count: Int, clock: TSCClock, window: Int = 512) throws(BenchFailure) {
        var connection = try OrderEntryConnection.loggedIn(port: port, account: account, clock: clock)
        var sent = 0
        var accepted = 0
        let deadline = rtes_rdtsc() &+ clock.ticksPerSecond &* 120
        while accepted < count {
            while sent < count && sent - accepted < window && connection.sendRoom >= 64 {
                let token = BenchToken.make(UInt8(ascii: "B"), UInt64(sent + 1))
                let price = Price(2_070_000 + (sent % 1_300) * 100)
                connection.queue { out in
                    let length = OUCHInboundEncoder.enter(token: token, side: .buy, shares: BenchMarket.shares, symbol: BenchMarket.symbol,
                                                          price: price, to: out + SoupBinTCP.headerLength)
                    return SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length
                }
                sent += 1
            }
            try connection.flush()
            while let frame = try connection.poll() {
                guard frame.type == SoupPacketType.sequencedData, let message = frame.payload.baseAddress, frame.payload.count > 0 else { continue }
                switch message.load(as: UInt8.self) {
                case OUCH.OutboundType.accepted: accepted += 1
                case OUCH.OutboundType.rejected:
                    let reason = message.load(fromByteOffset: OUCHLayout.Rejected.reason, as: UInt8.self)
                    throw BenchFailure("book fill: order rejected, reason \(String(UnicodeScalar(reason)))")
                default: continue
                }
            }
            if rtes_rdtsc() > deadline { throw BenchFailure("book fill: \(accepted) of \(count) accepted in 120 s") }
        }
        connection.logout()
    }
}
