import ExchangeConfig
import ExchangeCore

/// The rows one batch of journal records gives the trade store, column by column (each
/// table's columns are arrays of one length, so that one `INSERT … SELECT FROM unnest(…)` per
/// table writes the whole batch). Every row carries the journal sequence of the command that
/// caused it, and rows are appended in sequence order: `dropping(through:)` cuts off what a
/// committed progress row already covers. Cold path: the trade store's thread.
///
/// Absent values are sentinels the SQL turns into NULL (`-1` for numbers, `""` for text), so
/// every column is a plain array of one PostgreSQL type.
public struct DropCopyRows: Sendable, Equatable {
    /// orders: one row per order the engine accepted (an Enter, or the new order of a Replace).
    public struct Orders: Sendable, Equatable {
        public var sequence: [Int64] = []
        public var timestamp: [Int64] = []
        public var reference: [Int64] = []
        public var previousReference: [Int64] = []
        public var account: [String] = []
        public var firm: [String] = []
        public var token: [String] = []
        public var symbol: [String] = []
        public var side: [String] = []
        public var orderType: [String] = []
        public var shares: [Int64] = []
        public var price: [Int64] = []
        public var timeInForce: [Int64] = []
        public var display: [String] = []
        public var minimumQuantity: [Int64] = []
        public var count: Int { sequence.count }
    }

    /// executions: one row per order event a client's session receives (an execution twice,
    /// once for each side): what a FIX drop copy carries as Execution Reports.
    public struct Executions: Sendable, Equatable {
        public var sequence: [Int64] = []
        /// The event's place among the command's order events (0, 1, …): with `sequence`, the key.
        public var ordinal: [Int64] = []
        public var timestamp: [Int64] = []
        public var kind: [String] = []
        public var account: [String] = []
        public var firm: [String] = []
        public var token: [String] = []
        public var reference: [Int64] = []
        public var symbol: [String] = []
        public var side: [String] = []
        public var shares: [Int64] = []
        public var price: [Int64] = []
        public var remaining: [Int64] = []
        public var matchNumber: [Int64] = []
        public var liquidity: [String] = []
        public var reason: [String] = []
        public var count: Int { sequence.count }
    }

    /// trades: one row per match, with its buyer and seller.
    public struct Trades: Sendable, Equatable {
        public var sequence: [Int64] = []
        public var timestamp: [Int64] = []
        public var matchNumber: [Int64] = []
        public var symbol: [String] = []
        public var shares: [Int64] = []
        public var price: [Int64] = []
        public var aggressor: [String] = []
        public var buyAccount: [String] = []
        public var buyFirm: [String] = []
        public var buyToken: [String] = []
        public var buyReference: [Int64] = []
        public var sellAccount: [String] = []
        public var sellFirm: [String] = []
        public var sellToken: [String] = []
        public var sellReference: [Int64] = []
        public var count: Int { sequence.count }
    }

    public var orders = Orders()
    public var executions = Executions()
    public var trades = Trades()

    public init() {}

    public var count: Int { orders.count + executions.count + trades.count }
    public var isEmpty: Bool { count == 0 }

    /// The rows of commands after `sequence` (rows are in sequence order).
    public func dropping(through sequence: UInt64) -> DropCopyRows {
        let limit = Int64(bitPattern: sequence)
        var kept = DropCopyRows()
        let o = orders.sequence.firstIndex { $0 > limit } ?? orders.count
        let e = executions.sequence.firstIndex { $0 > limit } ?? executions.count
        let t = trades.sequence.firstIndex { $0 > limit } ?? trades.count
        kept.orders = orders.suffix(from: o)
        kept.executions = executions.suffix(from: e)
        kept.trades = trades.suffix(from: t)
        return kept
    }
}

extension DropCopyRows.Orders {
    func suffix(from i: Int) -> Self {
        Self(sequence: Array(sequence[i...]), timestamp: Array(timestamp[i...]), reference: Array(reference[i...]),
             previousReference: Array(previousReference[i...]), account: Array(account[i...]), firm: Array(firm[i...]),
             token: Array(token[i...]), symbol: Array(symbol[i...]), side: Array(side[i...]), orderType: Array(orderType[i...]),
             shares: Array(shares[i...]), price: Array(price[i...]), timeInForce: Array(timeInForce[i...]),
             display: Array(display[i...]), minimumQuantity: Array(minimumQuantity[i...]))
    }
}

extension DropCopyRows.Executions {
    func suffix(from i: Int) -> Self {
        Self(sequence: Array(sequence[i...]), ordinal: Array(ordinal[i...]), timestamp: Array(timestamp[i...]), kind: Array(kind[i...]),
             account: Array(account[i...]), firm: Array(firm[i...]), token: Array(token[i...]), reference: Array(reference[i...]),
             symbol: Array(symbol[i...]), side: Array(side[i...]), shares: Array(shares[i...]), price: Array(price[i...]),
             remaining: Array(remaining[i...]), matchNumber: Array(matchNumber[i...]), liquidity: Array(liquidity[i...]),
             reason: Array(reason[i...]))
    }
}

extension DropCopyRows.Trades {
    func suffix(from i: Int) -> Self {
        Self(sequence: Array(sequence[i...]), timestamp: Array(timestamp[i...]), matchNumber: Array(matchNumber[i...]),
             symbol: Array(symbol[i...]), shares: Array(shares[i...]), price: Array(price[i...]), aggressor: Array(aggressor[i...]),
             buyAccount: Array(buyAccount[i...]), buyFirm: Array(buyFirm[i...]), buyToken: Array(buyToken[i...]),
             buyReference: Array(buyReference[i...]), sellAccount: Array(sellAccount[i...]), sellFirm: Array(sellFirm[i...]),
             sellToken: Array(sellToken[i...]), sellReference: Array(sellReference[i...]))
    }
}
