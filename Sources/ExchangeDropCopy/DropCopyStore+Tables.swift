import PostgresNIO

/// The trade store's tables (docs/DROPCOPY.md shows them with example queries) and the one
/// transaction that writes a batch: its rows and the progress row that covers them commit
/// together, so after any crash of either side the progress row says exactly which records'
/// rows are stored — all of those up to it, none after it.
///
/// Every row is keyed by what the journal decides (the journal, the sequence and the event's
/// place in it; the order reference; the match number), so even a writer that got progress
/// wrong could not store a row twice: the primary key refuses it and the batch rolls back.
extension DropCopyStore {
    /// Creates the schema and its tables when absent (the same statements each start).
    func createTables() throws(DropCopyStoreError) {
        let s = database.schema
        let statements = [
            "CREATE SCHEMA IF NOT EXISTS \(s)",
            """
            CREATE TABLE IF NOT EXISTS \(s).progress (
                journal     text PRIMARY KEY,
                day         text NOT NULL,
                sequence    bigint NOT NULL,
                updated_at  timestamptz NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE IF NOT EXISTS \(s).orders (
                journal            text NOT NULL,
                day                text NOT NULL,
                reference          bigint NOT NULL,
                sequence           bigint NOT NULL,
                time_ns            bigint NOT NULL,
                previous_reference bigint,
                account            text NOT NULL,
                firm               text NOT NULL,
                token              text NOT NULL,
                symbol             text NOT NULL,
                side               text NOT NULL,
                order_type         text NOT NULL,
                shares             bigint NOT NULL,
                price              numeric(14,4) NOT NULL,
                time_in_force      bigint NOT NULL,
                display            text NOT NULL,
                minimum_quantity   bigint NOT NULL,
                PRIMARY KEY (journal, reference))
            """,
            """
            CREATE TABLE IF NOT EXISTS \(s).executions (
                journal       text NOT NULL,
                day           text NOT NULL,
                sequence      bigint NOT NULL,
                ordinal       integer NOT NULL,
                time_ns       bigint NOT NULL,
                kind          text NOT NULL,
                account       text NOT NULL,
                firm          text NOT NULL,
                token         text NOT NULL,
                reference     bigint,
                symbol        text,
                side          text,
                shares        bigint,
                price         numeric(14,4),
                remaining     bigint,
                match_number  bigint,
                liquidity     text,
                reason        text,
                PRIMARY KEY (journal, sequence, ordinal))
            """,
            """
            CREATE TABLE IF NOT EXISTS \(s).trades (
                journal         text NOT NULL,
                day             text NOT NULL,
                match_number    bigint NOT NULL,
                sequence        bigint NOT NULL,
                time_ns         bigint NOT NULL,
                symbol          text NOT NULL,
                shares          bigint NOT NULL,
                price           numeric(14,4) NOT NULL,
                aggressor       text NOT NULL,
                buy_account     text NOT NULL,
                buy_firm        text NOT NULL,
                buy_token       text NOT NULL,
                buy_reference   bigint NOT NULL,
                sell_account    text NOT NULL,
                sell_firm       text NOT NULL,
                sell_token      text NOT NULL,
                sell_reference  bigint NOT NULL,
                PRIMARY KEY (journal, match_number))
            """,
            "CREATE INDEX IF NOT EXISTS executions_by_order ON \(s).executions (journal, reference)",
            "CREATE INDEX IF NOT EXISTS trades_by_day_symbol ON \(s).trades (day, symbol)",
        ]
        for statement in statements {
            try run(PostgresQuery(unsafeSQL: statement), doing: "creating the trade store's tables")
        }
    }

    /// The sequence through which `journal`'s rows are stored (0: none yet).
    func progress(journal: String) throws(DropCopyStoreError) -> UInt64 {
        let s = database.schema
        let result = try run("SELECT sequence FROM \(unescaped: s).progress WHERE journal = \(journal)", doing: "reading progress")
        guard let row = result.first else { return 0 }
        do {
            return UInt64(try row.decode(Int64.self))
        } catch {
            throw DropCopyStoreError("the progress row of \(journal) does not read as a sequence: \(Self.reason(error))")
        }
    }

    /// The progress rows of trading day `day`: each journal's name and stored sequence.
    func progressRows(day: String) throws(DropCopyStoreError) -> [(journal: String, sequence: UInt64)] {
        let s = database.schema
        let result = try run("SELECT journal, sequence FROM \(unescaped: s).progress WHERE day = \(day) ORDER BY journal",
                             doing: "reading the day's progress rows")
        var rows: [(journal: String, sequence: UInt64)] = []
        for row in result {
            do {
                let (journal, sequence) = try row.decode((String, Int64).self)
                rows.append((journal, UInt64(sequence)))
            } catch {
                throw DropCopyStoreError("a progress row of \(day) does not read: \(Self.reason(error))")
            }
        }
        return rows
    }

    /// Writes `rows` (records after `committed`, through `through`) and moves the progress
    /// row from `committed` to `through`, in one transaction. Throws with `progressMoved` when
    /// the progress row is not at `committed` (nothing is written then).
    func write(_ rows: DropCopyRows, journal: String, day: String, committed: UInt64, through: UInt64) throws(DropCopyStoreError) {
        let s = database.schema
        try run("BEGIN", doing: "beginning a transaction")
        var done = false
        defer { if !done { _ = try? run("ROLLBACK", doing: "rolling back") } }
        let found = try run("SELECT sequence FROM \(unescaped: s).progress WHERE journal = \(journal) FOR UPDATE", doing: "locking progress")
        let at = (try? found.first?.decode(Int64.self)).map { UInt64($0) } ?? 0
        guard at == committed else {
            throw DropCopyStoreError("the progress row of \(journal) is at \(at), not \(committed)", progressMoved: true)
        }
        if rows.orders.count > 0 { try insert(rows.orders, journal: journal, day: day) }
        if rows.executions.count > 0 { try insert(rows.executions, journal: journal, day: day) }
        if rows.trades.count > 0 { try insert(rows.trades, journal: journal, day: day) }
        let sequence = Int64(through)
        try run("""
            INSERT INTO \(unescaped: s).progress (journal, day, sequence) VALUES (\(journal), \(day), \(sequence))
            ON CONFLICT (journal) DO UPDATE SET sequence = EXCLUDED.sequence, updated_at = now()
            """, doing: "moving progress")
        try run("COMMIT", doing: "committing")
        done = true
    }

    func insert(_ o: DropCopyRows.Orders, journal: String, day: String) throws(DropCopyStoreError) {
        let s = database.schema
        try run("""
            INSERT INTO \(unescaped: s).orders (journal, day, reference, sequence, time_ns, previous_reference, account, firm, token,
                symbol, side, order_type, shares, price, time_in_force, display, minimum_quantity)
            SELECT \(journal), \(day), reference, sequence, time_ns, NULLIF(previous, -1), account, firm, token, symbol, side, kind,
                shares, price::numeric / 10000, tif, display, minimum
            FROM unnest(\(o.reference)::int8[], \(o.sequence)::int8[], \(o.timestamp)::int8[], \(o.previousReference)::int8[],
                \(o.account)::text[], \(o.firm)::text[], \(o.token)::text[], \(o.symbol)::text[], \(o.side)::text[],
                \(o.orderType)::text[], \(o.shares)::int8[], \(o.price)::int8[], \(o.timeInForce)::int8[], \(o.display)::text[],
                \(o.minimumQuantity)::int8[])
              AS r(reference, sequence, time_ns, previous, account, firm, token, symbol, side, kind, shares, price, tif, display, minimum)
            """, doing: "inserting \(o.count) orders")
    }

    func insert(_ e: DropCopyRows.Executions, journal: String, day: String) throws(DropCopyStoreError) {
        let s = database.schema
        try run("""
            INSERT INTO \(unescaped: s).executions (journal, day, sequence, ordinal, time_ns, kind, account, firm, token, reference, symbol,
                side, shares, price, remaining, match_number, liquidity, reason)
            SELECT \(journal), \(day), sequence, ordinal, time_ns, kind, account, firm, token, NULLIF(reference, -1), NULLIF(symbol, ''),
                NULLIF(side, ''), NULLIF(shares, -1), NULLIF(price, -1)::numeric / 10000, NULLIF(remaining, -1), NULLIF(match, -1),
                NULLIF(liquidity, ''), NULLIF(reason, '')
            FROM unnest(\(e.sequence)::int8[], \(e.ordinal)::int8[], \(e.timestamp)::int8[], \(e.kind)::text[], \(e.account)::text[],
                \(e.firm)::text[], \(e.token)::text[], \(e.reference)::int8[], \(e.symbol)::text[], \(e.side)::text[],
                \(e.shares)::int8[], \(e.price)::int8[], \(e.remaining)::int8[], \(e.matchNumber)::int8[], \(e.liquidity)::text[],
                \(e.reason)::text[])
              AS r(sequence, ordinal, time_ns, kind, account, firm, token, reference, symbol, side, shares, price, remaining, match,
                   liquidity, reason)
            """, doing: "inserting \(e.count) executions")
    }

    func insert(_ t: DropCopyRows.Trades, journal: String, day: String) throws(DropCopyStoreError) {
        let s = database.schema
        try run("""
            INSERT INTO \(unescaped: s).trades (journal, day, match_number, sequence, time_ns, symbol, shares, price, aggressor,
                buy_account, buy_firm, buy_token, buy_reference, sell_account, sell_firm, sell_token, sell_reference)
            SELECT \(journal), \(day), match, sequence, time_ns, symbol, shares, price::numeric / 10000, aggressor,
                buy_account, buy_firm, buy_token, buy_reference, sell_account, sell_firm, sell_token, sell_reference
            FROM unnest(\(t.matchNumber)::int8[], \(t.sequence)::int8[], \(t.timestamp)::int8[], \(t.symbol)::text[], \(t.shares)::int8[],
                \(t.price)::int8[], \(t.aggressor)::text[], \(t.buyAccount)::text[], \(t.buyFirm)::text[], \(t.buyToken)::text[],
                \(t.buyReference)::int8[], \(t.sellAccount)::text[], \(t.sellFirm)::text[], \(t.sellToken)::text[],
                \(t.sellReference)::int8[])
              AS r(match, sequence, time_ns, symbol, shares, price, aggressor, buy_account, buy_firm, buy_token, buy_reference,
                   sell_account, sell_firm, sell_token, sell_reference)
            """, doing: "inserting \(t.count) trades")
    }
}
