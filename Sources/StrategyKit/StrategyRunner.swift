import ExchangeClient
import ExchangeCore
import ExchangeFeed
import ExchangeWire

/// The pipeline on the caller's thread: market data (the ITCH feed through `FeedClient`,
/// its MoldUDP64 packets walked in place into the `MarketBook`) → the strategy's signal →
/// the client-side risk → execution (one OUCH session), with fills, positions and PnL kept
/// in the `Portfolio`. `step` waits for the feed, applies it, reads the session, sends what
/// passed the risk. From the packet to the intents nothing allocates.
public final class StrategyRunner<S: Strategy> {
    public let feed: FeedClient
    public let client: OrderEntryClient
    public let instruments: [InstrumentSpec]
    public var strategy: S
    public var risk: RiskGate
    public var book: MarketBook
    public var portfolio: Portfolio
    var intents = IntentBuffer(capacity: 64)
    let clock: () -> UInt64
    /// The next feed sequence number to apply (packets below it are repeats).
    public private(set) var expected: UInt64 = 1
    public private(set) var gaps: UInt64 = 0
    public private(set) var sent: UInt64 = 0
    public private(set) var refused: UInt64 = 0
    public private(set) var rejected: UInt64 = 0
    /// Why the session ended (nil while it runs).
    public private(set) var failure: String?

    public init(feed: FeedClient, client: OrderEntryClient, instruments: [InstrumentSpec], strategy: S, limits: RiskLimits,
                orderCapacity: Int = 1 << 16, clock: @escaping () -> UInt64) {
        self.feed = feed
        self.client = client
        self.instruments = instruments
        self.strategy = strategy
        risk = RiskGate(limits: limits)
        book = MarketBook(instruments: instruments, orderCapacity: orderCapacity)
        portfolio = Portfolio(instrumentCount: instruments.count, orderCapacity: max(limits.maxOpenOrders * 2, 8))
        self.clock = clock
        feed.onPacket = { [unowned self] packet, _ in self.packet(packet) }
        feed.onAnswer = { [unowned self] packet in self.packet(packet) }
    }

    /// One turn: the feed (waiting up to `waitMilliseconds`), then the session.
    public func step(waitMilliseconds: Int32 = 1) {
        feed.poll(timeoutMilliseconds: waitMilliseconds)
        readSession()
    }

    /// A MoldUDP64 packet: its messages from `expected` on, in place.
    public func packet(_ p: UnsafeRawBufferPointer) {
        guard p.count >= 20 else { return }
        let first = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt64.self))
        let count = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt16.self)))
        guard count > 0 && count != 0xFFFF else { return }
        if first > expected { gaps &+= 1 }
        var offset = 20
        var sequence = first
        let now = clock()
        for _ in 0..<count {
            guard offset + 2 <= p.count else { return }
            let length = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            guard offset + 2 + length <= p.count else { return }
            if sequence >= expected {
                expected = sequence &+ 1
                message(UnsafeRawBufferPointer(rebasing: p[(offset + 2)..<(offset + 2 + length)]), now: now)
            }
            offset += 2 + length
            sequence &+= 1
        }
    }

    /// One ITCH message: the book, then the strategy, then what it decided.
    public func message(_ m: UnsafeRawBufferPointer, now: UInt64) {
        guard let event = book.apply(m) else { return }
        strategy.onMarket(event, book: book, portfolio: portfolio, now: now, intents: &intents)
        execute(now: now)
    }

    /// Reads every answer on the session, without waiting.
    public func readSession() {
        guard failure == nil else { return }
        do throws(ClientError) {
            while let packet = try client.poll(timeout: .zero) {
                guard case .sequenced(let m) = packet else {
                    if case .endOfSession = packet { failure = "End of Session" }
                    continue
                }
                let now = clock()
                switch m.message {
                case .accepted(let a):
                    update(.accepted(token: a.token), now: now)
                case .executed(_, let token, let shares, let price, _, _):
                    portfolio.filled(token, shares: shares, price: price)
                    update(.filled(token: token, shares: shares, price: price), now: now)
                case .canceled(_, let token, let decrement, _):
                    portfolio.reduced(token, by: decrement)
                    if portfolio.order(token) == nil { update(.done(token: token), now: now) }
                case .rejected(_, let token, _):
                    rejected &+= 1
                    portfolio.reduced(token, by: .max)
                    update(.done(token: token), now: now)
                default:
                    break
                }
            }
        } catch {
            failure = "\(error)"
        }
    }

    func update(_ u: OrderUpdate, now: UInt64) {
        strategy.onOrder(u, book: book, portfolio: portfolio, now: now, intents: &intents)
        execute(now: now)
    }

    /// The intents through the risk, then out.
    func execute(now: UInt64) {
        guard intents.count > 0 else { return }
        var i = 0
        while i < intents.count {
            let (token, intent) = intents[i]
            i += 1
            let reference: Price
            if case .enter(let n, _, _, _, _) = intent { reference = book.quote(n).mid } else { reference = 0 }
            if let refusal = risk.check(intent, portfolio: portfolio, reference: reference) {
                refused &+= 1
                strategy.onOrder(.refused(token: token, refusal), book: book, portfolio: portfolio, now: now, intents: &intents)
                continue
            }
            send(intent, token: token)
        }
        intents.removeAll()
    }

    func send(_ intent: OrderIntent, token: OrderToken) {
        guard failure == nil else { return }
        do throws(ClientError) {
            switch intent {
            case .enter(let n, let side, let shares, let price, let immediate):
                guard portfolio.opened(token, instrument: n, buy: side == .buy, price: price, shares: shares) else {
                    refused &+= 1
                    return
                }
                try client.enter(token: token, side: side, shares: shares, symbol: instruments[n].symbol, price: price,
                                 timeInForce: immediate ? .immediateOrCancel : .marketHours)
            case .cancel(let t):
                try client.cancel(token: t)
            }
            sent &+= 1
        } catch {
            failure = "\(error)"
        }
    }

    /// Profit and loss of instrument `i`, marked at the mid (else the last trade), in dollars.
    public func pnlDollars(_ i: Int) -> Double {
        Double(portfolio.pnl(i, mark: book.quote(i).mid)) / 10_000
    }
}
