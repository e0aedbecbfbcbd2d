import CClock
import ExchangeCore
import ExchangeTLS

/// What `LoadGenerator` runs: which accounts, how requests are paced, what they are, and
/// when to stop.
public struct LoadPlan: Sendable {
    /// How sends are paced.
    public enum Pacing: Sendable, Equatable, CustomStringConvertible {
        /// Each connection keeps `window` requests outstanding (1: one at a time). Latency is
        /// measured from the actual send.
        case closedLoop(window: Int)
        /// Requests at a fixed total rate, spread evenly over the connections, each due at a
        /// planned time. Latency is measured from the planned time, so a stall (in the
        /// exchange, the network or this process) is counted in every request it delays:
        /// coordinated omission is accounted for.
        case openLoop(requestsPerSecond: Double)

        public var description: String {
            switch self {
            case .closedLoop(let window): "closed loop, window \(window) per connection"
            case .openLoop(let rate): "open loop at \(Int(rate)) requests/s offered"
            }
        }
    }

    /// How the polling thread waits when a turn found nothing to do.
    public enum Idle: String, Sendable, CaseIterable {
        /// Busy-poll every socket (lowest latency; one core at 100 %).
        case spin
        /// Block in select until a reply arrives or the next request is due.
        case block
    }

    public var host: String
    public var port: Int
    /// More order-entry addresses (a standby's) tried in order, each connection logging in
    /// at the first that accepts, when `host`:`port` does not; with `failover`, a connection
    /// lost during the run fails over to them.
    public var backups: [ExchangeAddress] = []
    /// With backups: how a connection that is lost mid-run fails over to the next address and
    /// resumes its session there (nil: a lost connection is a failure of the run).
    /// docs/FAILOVER.md, "rtes-loadgen".
    public var failover: FailoverPolicy?
    /// `host`:`port`, then the backups.
    public var addresses: [ExchangeAddress] { [ExchangeAddress(host: host, port: port)] + backups }
    /// One connection per account.
    public var accounts: [LoadAccount]
    /// TLS: each account's client context by username (empty: plain TCP; with TLS, every
    /// account needs one).
    public var tls: [String: TLSContext] = [:]
    public var pacing: Pacing
    /// Stop sending after this many requests (orders and cancels) in all; nil: no limit.
    public var requests: Int?
    /// Stop sending after this long; nil: no limit. One of `requests` and `duration` is needed.
    public var duration: Duration?
    /// The first requests (this many in all) are not recorded in the histograms.
    public var warmupRequests: Int
    public var symbols: [LoadSymbol]
    public var mix: LoadMix
    /// Resting orders per connection at most; a request that would exceed it cancels the
    /// oldest resting order instead (keeps the book and the account's open notional bounded).
    public var maxResting: Int
    /// Shares of a resting order; takers take 1–3 times this.
    public var lotShares: Shares
    /// Resting orders sit 1…`levels` ticks away from the reference price; takers cross up to
    /// `levels` ticks through it.
    public var levels: Int
    public var seed: UInt64
    /// The Firm stamped on taking orders (nil: the account's own). Self-trade prevention
    /// compares firms, so a firm of their own lets a single connection trade with itself.
    public var takerFirm: Firm?
    /// Four characters that begin every order token of the run (tokens are day-unique per
    /// account, so each run needs its own).
    public var tokenPrefix: String
    public var idle: Idle
    /// After the last request: how long to wait for outstanding replies, and for the
    /// cancels of the cleanup.
    public var drainTimeout: Duration
    /// Cancel every order still resting at the end.
    public var cleanup: Bool

    public init(
        host: String = "127.0.0.1", port: Int, accounts: [LoadAccount], pacing: Pacing = .closedLoop(window: 1),
        requests: Int? = nil, duration: Duration? = nil, warmupRequests: Int = 0,
        symbols: [LoadSymbol] = [LoadSymbol(symbol: Symbol("AAPL")!, referencePrice: 2_300_000, tick: 100)],
        mix: LoadMix = LoadMix(), maxResting: Int = 100, lotShares: Shares = 100, levels: Int = 10, seed: UInt64 = 1,
        takerFirm: Firm? = nil, tokenPrefix: String = LoadPlan.defaultTokenPrefix(), idle: Idle = .block,
        drainTimeout: Duration = .seconds(5), cleanup: Bool = true
    ) {
        self.host = host
        self.port = port
        self.accounts = accounts
        self.pacing = pacing
        self.requests = requests
        self.duration = duration
        self.warmupRequests = warmupRequests
        self.symbols = symbols
        self.mix = mix
        self.maxResting = maxResting
        self.lotShares = lotShares
        self.levels = levels
        self.seed = seed
        self.takerFirm = takerFirm
        self.tokenPrefix = tokenPrefix
        self.idle = idle
        self.drainTimeout = drainTimeout
        self.cleanup = cleanup
    }

    /// The accounts `LOAD1`…`LOADn` of configs/api_keys.dev.json (passwords `loadNpass`).
    public static func devAccounts(_ count: Int) -> [LoadAccount] {
        (1...max(1, count)).map { LoadAccount(username: "LOAD\($0)", password: "load\($0)pass") }
    }

    /// Four base-36 characters from the wall clock (tenths of a second, repeating every
    /// 46 hours): a fresh prefix for each run.
    public static func defaultTokenPrefix() -> String {
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var value = Int((rtes_realtime_ns() / 100_000_000) % 1_679_616)
        var text = ""
        for _ in 0..<4 {
            text = String(digits[value % 36]) + text
            value /= 36
        }
        return text
    }

    /// Why the plan cannot run, or nil.
    public func problem() -> String? {
        if accounts.isEmpty { return "no accounts to connect with" }
        if requests == nil && duration == nil { return "give a request count, a duration, or both" }
        if let requests, requests < 1 { return "the request count must be at least 1" }
        if symbols.isEmpty { return "no symbols" }
        if case .closedLoop(let window) = pacing, window < 1 || window > 4_096 { return "the window must be 1...4096" }
        if case .openLoop(let rate) = pacing, !(rate > 0) { return "the rate must be above 0" }
        if mix.rest + mix.take + mix.cancel == 0 { return "the mix is all zero" }
        if maxResting < 1 || maxResting > 16_384 { return "max resting must be 1...16384" }
        if levels < 1 { return "levels must be at least 1" }
        if lotShares == 0 { return "shares must be at least 1" }
        if LoadTokenCodec(prefix: tokenPrefix) == nil { return "the token prefix must be 4 characters A-Z or 0-9" }
        for s in symbols where UInt64(s.tick) * UInt64(levels) >= UInt64(s.referencePrice) {
            return "\(s.symbol): \(levels) ticks below the reference price is not a price"
        }
        return nil
    }
}

/// An account the load generator logs in with.
public struct LoadAccount: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// A symbol to trade, around its reference price (both in price units: 4 implied decimals).
public struct LoadSymbol: Sendable, Equatable {
    public var symbol: Symbol
    public var referencePrice: Price
    public var tick: Price

    public init(symbol: Symbol, referencePrice: Price, tick: Price) {
        self.symbol = symbol
        self.referencePrice = referencePrice
        self.tick = tick
    }
}

/// Relative weights of the three kinds of request.
public struct LoadMix: Sendable, Equatable, CustomStringConvertible {
    /// A day limit order 1…levels ticks away from the reference price: rests.
    public var rest: Int
    /// An immediate-or-cancel order crossing the reference price: trades with what rests.
    public var take: Int
    /// Cancels the connection's oldest resting order.
    public var cancel: Int

    public init(rest: Int = 60, take: Int = 25, cancel: Int = 15) {
        self.rest = rest
        self.take = take
        self.cancel = cancel
    }

    public var description: String { "rest \(rest) : take \(take) : cancel \(cancel)" }
}
