import ExchangeConfig
import ExchangeCore
import ExchangeWire
import Glibc

/// Order entry to a sharded exchange (docs/SHARDS.md): one `OrderEntryClient` session per
/// shard of a `ShardMap`, each logged in at its shard's order-entry addresses (primary first)
/// with the same account and its own `FailoverPolicy`; orders are routed by symbol. Tokens and
/// sequence numbers stay per session: each shard's exchange knows only the orders sent to it.
///
/// ```
/// let map = try ShardMap.load(path: "configs/shards.dev.json")
/// let client = try ShardedClient.connect(map: map, username: "DEMO1", password: "demo1pass", failover: FailoverPolicy())
/// try client.enter(token: OrderToken("B1")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
/// let (shard, packet) = try client.receive(timeout: .seconds(1))   // alpha, #1 Accepted token=B1 …
/// ```
///
/// Synchronous on the caller's thread, as `OrderEntryClient` is: a shard failing over blocks
/// the call that noticed the loss until that shard's session is resumed (at most its policy's
/// bound) — the other shards' exchanges keep trading meanwhile, but this client's calls wait.
/// A caller that must keep trading one shard while another fails over uses one client (or
/// one session) per thread.
public final class ShardedClient {
    public let map: ShardMap
    /// One session per shard, in `map.shards` order.
    public let sessions: [OrderEntryClient]
    /// The shard each token was entered on (Cancel, Replace and Modify go there).
    private var tokenShard: [OrderToken: Int] = [:]
    /// The next session `poll` reads first, so that no shard starves the others.
    private var nextToRead = 0

    /// `sessions[i]` is shard `map.shards[i]`'s.
    public init(map: ShardMap, sessions: [OrderEntryClient]) throws(ClientError) {
        guard sessions.count == map.shards.count else {
            throw ClientError.invalidArgument("\(sessions.count) sessions for \(map.shards.count) shards")
        }
        self.map = map
        self.sessions = sessions
    }

    /// Logs in to every shard (its `order_entry` addresses, in order) as `username`; `sequence`
    /// is asked of every session. A shard that cannot be reached fails the whole call with its
    /// error (the sessions already open are closed).
    public static func connect(
        map: ShardMap, username: String, password: String, sequence: UInt64 = 0, options: OrderEntryClient.Options = .init(),
        failover: FailoverPolicy? = nil, timeout: Duration = .seconds(5)
    ) throws(ClientError) -> ShardedClient {
        var sessions: [OrderEntryClient] = []
        for shard in map.shards {
            do throws(ClientError) {
                sessions.append(try OrderEntryClient.connect(
                    addresses: addresses(of: shard), username: username, password: password, sequence: sequence, options: options,
                    failover: failover, timeout: timeout))
            } catch {
                for session in sessions { session.close() }
                throw error
            }
        }
        return try ShardedClient(map: map, sessions: sessions)
    }

    /// A shard's order-entry addresses as a client dials them.
    public static func addresses(of shard: ShardMap.Shard) -> [ExchangeAddress] {
        shard.orderEntry.map { ExchangeAddress(host: "\($0.address)", port: Int($0.port)) }
    }

    // MARK: Routing

    /// The index (in `map.shards`) of the shard that owns `symbol`; a symbol no shard owns is
    /// an error naming the shards' symbols.
    public func shardIndex(of symbol: Symbol) throws(ClientError) -> Int {
        guard let index = map.shardIndex(of: symbol) else {
            throw ClientError.invalidArgument("no shard of the shard map owns \(symbol) (symbols: "
                + map.symbols.map(\.description).joined(separator: ", ") + ")")
        }
        return index
    }

    /// The session of the shard that owns `symbol`.
    public func session(for symbol: Symbol) throws(ClientError) -> OrderEntryClient { sessions[try shardIndex(of: symbol)] }

    /// The shard a token was entered on through this client, if any.
    public func shardIndex(ofToken token: OrderToken) -> Int? { tokenShard[token] }

    private func shardIndex(ofKnown token: OrderToken) throws(ClientError) -> Int {
        guard let index = tokenShard[token] else {
            throw ClientError.invalidArgument("token \(token) was not entered through this client: name its symbol "
                + "(cancel(token:symbol:)) so that it goes to the right shard")
        }
        return index
    }

    // MARK: Orders

    /// `O` Enter Order, on the shard that owns `symbol`.
    public func enter(
        token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price, orderType: OrderType = .limit,
        timeInForce: TimeInForce = .marketHours, firm: Firm = .blank, display: Display = .anonymous, minimumQuantity: Shares = 0
    ) throws(ClientError) {
        let index = try shardIndex(of: symbol)
        try sessions[index].enter(token: token, side: side, shares: shares, symbol: symbol, price: price, orderType: orderType,
                                  timeInForce: timeInForce, firm: firm, display: display, minimumQuantity: minimumQuantity)
        tokenShard[token] = index
    }

    /// `U` Replace Order, on the shard `existing` was entered on.
    public func replace(
        existing: OrderToken, replacement: OrderToken, shares: Shares, price: Price, timeInForce: TimeInForce = .marketHours,
        display: Display = .anonymous, minimumQuantity: Shares = 0
    ) throws(ClientError) {
        let index = try shardIndex(ofKnown: existing)
        try sessions[index].replace(existing: existing, replacement: replacement, shares: shares, price: price,
                                    timeInForce: timeInForce, display: display, minimumQuantity: minimumQuantity)
        tokenShard[replacement] = index
    }

    /// `X` Cancel Order, on the shard `token` was entered on.
    public func cancel(token: OrderToken, shares: Shares = 0) throws(ClientError) {
        try sessions[try shardIndex(ofKnown: token)].cancel(token: token, shares: shares)
    }

    /// `X` Cancel Order on the shard that owns `symbol` (a token entered before this client).
    public func cancel(token: OrderToken, symbol: Symbol, shares: Shares = 0) throws(ClientError) {
        try sessions[try shardIndex(of: symbol)].cancel(token: token, shares: shares)
    }

    /// `M` Modify Order, on the shard `token` was entered on.
    public func modify(token: OrderToken, side: Side, shares: Shares) throws(ClientError) {
        try sessions[try shardIndex(ofKnown: token)].modify(token: token, side: side, shares: shares)
    }

    // MARK: Receiving

    /// The next packet from any shard (each read in turn), with the index of its shard; nil
    /// when none arrives within `timeout`. Heartbeats are sent on every session while polling.
    public func poll(timeout: Duration) throws(ClientError) -> (shard: Int, packet: ServerPacket)? {
        let deadline = Monotonic.deadline(after: timeout)
        var descriptors = [pollfd](repeating: pollfd(), count: sessions.count)
        while true {
            for offset in 0..<sessions.count {
                let index = (nextToRead + offset) % sessions.count
                if let packet = try sessions[index].poll(timeout: .zero) {
                    nextToRead = (index + 1) % sessions.count
                    return (index, packet)
                }
            }
            let now = Monotonic.now()
            guard now < deadline else { return nil }
            for (index, session) in sessions.enumerated() {
                descriptors[index] = pollfd(fd: session.connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
            }
            // At most 100 ms, so that heartbeats go out on idle sessions while waiting.
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 100))
            _ = descriptors.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), milliseconds) }
        }
    }

    /// The next packet from any shard; throws `.timedOut` when none comes within `timeout`.
    public func receive(timeout: Duration) throws(ClientError) -> (shard: Int, packet: ServerPacket) {
        guard let received = try poll(timeout: timeout) else {
            throw ClientError.timedOut(waitingFor: "a packet from any shard", seconds: Monotonic.seconds(timeout))
        }
        return received
    }

    /// Logs out of every shard (errors ignored) and closes.
    public func logout(timeout: Duration = .seconds(2)) {
        for session in sessions { _ = try? session.logout(timeout: timeout) }
        close()
    }

    public func close() {
        for session in sessions { session.close() }
    }
}
