import ExchangeCore
import ExchangeJournal
import ExchangeRisk

/// The engine's books, per symbol in configuration order: each side's price levels best first
/// (total shares and order count, every resting order — displayed or not — included), and,
/// when asked, the resting orders of each level in time priority.
struct BookReport {
    struct Level {
        var price: Price
        var shares: UInt64
        var orderCount: Int
        /// The level's resting orders, oldest first (empty unless orders were asked for).
        var orders: [RestingOrder]
    }

    struct Book {
        var symbol: Symbol
        var halted: Bool
        var bids: [Level]
        var asks: [Level]
    }

    var books: [Book]

    init(_ engine: borrowing RiskCheckedEngine, orders: Bool) {
        var books: [Book] = []
        for index in 0..<engine.engine.instrumentCount {
            let instrument = InstrumentIndex(index)
            func side(_ side: BookSide) -> [Level] {
                var levels = engine.engine.depth(instrument: instrument, side: side).map {
                    Level(price: $0.price, shares: $0.shares, orderCount: $0.orders, orders: [])
                }
                guard orders else { return levels }
                // Resting orders come best price first, then oldest first: the levels' order.
                var level = 0
                for order in engine.engine.restingOrders(instrument: instrument, side: side) {
                    while level < levels.count && levels[level].price != order.price { level += 1 }
                    guard level < levels.count else { break }
                    levels[level].orders.append(order)
                }
                return levels
            }
            books.append(Book(symbol: engine.engine.symbol(of: instrument), halted: engine.engine.isHalted(instrument),
                              bids: side(.bid), asks: side(.ask)))
        }
        self.books = books
    }

    // MARK: Text

    /// One block per symbol: a heading, then the asks highest first down to the best ask,
    /// then the bids from the best down — the ladder as traders read it.
    var text: String {
        var lines: [String] = []
        for book in books {
            let resting = (book.bids + book.asks).reduce(0) { $0 + $1.orderCount }
            var heading = "\(Self.symbolText(book.symbol)): \(resting) resting order\(resting == 1 ? "" : "s"), "
                + "\(book.bids.count) bid level\(book.bids.count == 1 ? "" : "s"), \(book.asks.count) ask level\(book.asks.count == 1 ? "" : "s")"
            if book.halted { heading += ", halted" }
            lines.append(heading)
            for level in book.asks.reversed() { lines += Self.levelLines("ask", level) }
            for level in book.bids { lines += Self.levelLines("bid", level) }
        }
        return lines.joined(separator: "\n")
    }

    static func levelLines(_ side: String, _ level: Level) -> [String] {
        let price = PriceText.format(level.price)
        var lines = ["  \(side) \(String(repeating: " ", count: max(0, 12 - price.count)))\(price)  "
            + "\(level.shares) shares  \(level.orderCount) order\(level.orderCount == 1 ? "" : "s")"]
        for order in level.orders {
            lines.append("      ref=\(order.reference) client=\(order.client) token=\(JournalRecord.tokenText(order.token)) "
                + "side=\(order.side) shares=\(order.shares) firm=\(Self.firmText(order.firm)) display=\(order.display)")
        }
        return lines
    }

    /// Text fields as `rtes-journal dump` writes them: trailing spaces trimmed, any byte that
    /// is not printable ASCII as `\xNN` (a journal's bytes are external input).
    static func symbolText(_ symbol: Symbol) -> String { JournalRecord.alphaText(symbol.rawValue, width: 8) }
    static func firmText(_ firm: Firm) -> String { JournalRecord.alphaText(UInt64(firm.rawValue), width: 4) }

    // MARK: JSON

    /// `[{"symbol": …, "halted": …, "bids": [levels], "asks": [levels]}, …]`, each level
    /// `{"price": "230.1500", "shares": …, "orders": …}` and, with orders, `"resting": [orders]`.
    var json: String {
        "[" + books.map { book in
            "{\"symbol\":\(JSONText.field(Self.symbolText(book.symbol))),\"halted\":\(book.halted),"
                + "\"bids\":[\(book.bids.map(Self.levelJSON).joined(separator: ","))],"
                + "\"asks\":[\(book.asks.map(Self.levelJSON).joined(separator: ","))]}"
        }.joined(separator: ",") + "]"
    }

    static func levelJSON(_ level: Level) -> String {
        var text = "{\"price\":\"\(PriceText.format(level.price))\",\"shares\":\(level.shares),\"orders\":\(level.orderCount)"
        if !level.orders.isEmpty {
            text += ",\"resting\":[" + level.orders.map { order in
                "{\"reference\":\(order.reference),\"client\":\(order.client),"
                    + "\"token\":\(JSONText.field(JournalRecord.tokenText(order.token))),"
                    + "\"side\":\(JSONText.string("\(order.side)")),\"shares\":\(order.shares),"
                    + "\"firm\":\(JSONText.field(firmText(order.firm))),"
                    + "\"display\":\(JSONText.string("\(order.display)"))}"
            }.joined(separator: ",") + "]"
        }
        return text + "}"
    }
}
