import ExchangeCore

/// What happened to one of the strategy's orders.
public enum OrderUpdate: Equatable, Sendable, BitwiseCopyable {
    case accepted(token: OrderToken)
    case filled(token: OrderToken, shares: Shares, price: Price)
    /// Canceled, expired or rejected: the order (what was left of it) is gone.
    case done(token: OrderToken)
    /// The client-side risk refused an intent before it was sent (its token never went out).
    case refused(token: OrderToken, RiskRefusal)
}

/// Order tokens of one run: a prefix and a counter (allocates nothing).
public struct TokenSource: Sendable {
    let prefix: UInt64
    let length: Int
    var next: UInt64 = 1
    /// `prefix`: up to 6 ASCII letters or digits, different for each run of a day.
    public init(prefix: String) {
        let bytes = Array(prefix.utf8.prefix(6))
        var packed: UInt64 = 0
        for (i, c) in bytes.enumerated() { packed |= UInt64(c) << UInt64(56 - 8 * i) }
        self.prefix = packed
        length = bytes.count
    }

    public mutating func take() -> OrderToken {
        defer { next &+= 1 }
        return OrderToken(prefix: prefix, prefixLength: length, number: next)
    }
}

/// A fixed-capacity list of intents a strategy appends to (no allocation).
public struct IntentBuffer: ~Copyable {
    let storage: UnsafeMutablePointer<(OrderToken, OrderIntent)>
    public let capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 32) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Appends; false when full (the intent is dropped).
    @discardableResult
    public mutating func append(_ intent: OrderIntent, token: OrderToken) -> Bool {
        guard count < capacity else { return false }
        storage[count] = (token, intent)
        count += 1
        return true
    }

    public subscript(_ i: Int) -> (token: OrderToken, intent: OrderIntent) { storage[i] }
    public mutating func removeAll() { count = 0 }
}

/// A strategy: the signal and its orders. It sees every market event and every update of
/// its own orders; what it appends to `intents` goes through the client-side risk, then to
/// the exchange. `now` is CLOCK_MONOTONIC nanoseconds (a test passes its own).
public protocol Strategy {
    mutating func onMarket(_ event: FeedEvent, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                           intents: inout IntentBuffer)
    mutating func onOrder(_ update: OrderUpdate, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                          intents: inout IntentBuffer)
}
