/// The small exchange the journal-replay, day-snapshot and trade-store tests replay a day
/// through: three symbols (AAPL, MSFT and the never-traded QUIET) on a small engine, and four
/// accounts with plain passwords (`allow_unhashed_accounts`), BOB limited to 3 shares an order.
public enum ThreeSymbolDay {
    /// The configuration, named `name` (`exchange.name`).
    public static func configurationJSON(name: String) -> String {
        """
        {
          "exchange": { "name": "\(name)" },
          "symbols": [
            { "symbol": "AAPL", "tick_size": 0.01, "lot_size": 1, "price_collar_pct": 10, "reference_price": 230.00 },
            { "symbol": "MSFT", "tick_size": 0.01, "lot_size": 1, "price_collar_pct": 10, "reference_price": 420.00 },
            { "symbol": "QUIET", "tick_size": 0.01, "lot_size": 1, "price_collar_pct": 10, "reference_price": 50.00 }
          ],
          "risk": { "max_order_size": 5000, "max_notional_per_client": 40000000, "max_orders_per_second": 100000,
                    "price_collar_enabled": true, "self_trade_prevention": "cancel_newest" },
          "performance": { "order_pool_size": 20000, "max_clients": 16, "price_levels": 16384,
                           "enable_cpu_pinning": false, "threading_mode": "shared", "idle_strategy": "backoff" },
          "auth": { "allow_unhashed_accounts": true }
        }
        """
    }

    /// ALICE, BOB (at most 3 shares an order), CAROL (at most `carolOrdersPerSecond` orders a
    /// second, when given) and DAVE, each of a firm of their own.
    public static func keysJSON(carolOrdersPerSecond: Int? = nil) -> String {
        let carolLimit = carolOrdersPerSecond.map { #", "max_orders_per_second": \#($0)"# } ?? ""
        return """
            { "accounts": [
                { "username": "ALICE", "password": "alicepass1", "firm": "ALCE" },
                { "username": "BOB", "password": "bobpass123", "firm": "BOBS", "max_order_size": 3 },
                { "username": "CAROL", "password": "carolpass1", "firm": "CARL"\(carolLimit) },
                { "username": "DAVE", "password": "davepass12", "firm": "DAVE" } ] }
            """
    }
}
