import ExchangeCore

// Recovery of a FIX session's ClOrdID table from the journal (docs/FIX.md, "Across
// restarts"): a `clOrdID` fact says which ClOrdID took which entry; the engine command that
// followed it (an Enter Order, a Replace) fills the entry as the live mapping did when it
// made that command; the engine's events then update it through `report`, as live. Cold path.

extension FIXApplication {
    /// Binds the application as the journal says the live gateway did (the process that bound
    /// it chose the token base and the ExecID prefix).
    public mutating func replayBind(client: ClientID, firm: Firm, tokenBase: Int, execIDPrefix: UInt64) {
        rebind(client: client, firm: firm, execIDPrefix: execIDPrefix)
        orders.tokenBase = tokenBase
    }

    /// A ClOrdID took entry `entry`: false when the table would give it another entry (the
    /// journal does not match this table: another `fix.max_cl_ord_ids`, or a damaged day).
    public mutating func replayClOrdID(_ clOrdID: [UInt8], entry: Int, kind: FIXEntryKind, link: Int, rejectedAtOnce: Bool) -> Bool {
        let added = clOrdID.withUnsafeBytes { orders.add($0, kind: kind) }
        guard case .success(let index) = added, index == entry else { return false }
        if kind == .cancelRequest || kind == .replacement {
            guard link >= 1, link < index else { return false }
            orders.update(index) { $0.link = UInt32(link) }
        }
        if kind == .cancelRequest { orders.update(link) { $0.link = UInt32(index) } }
        if rejectedAtOnce { orders.update(index) { $0.ordStatus = UInt8(ascii: "8"); $0.leavesQty = 0 } }
        return true
    }

    /// The entry fields the live mapping set when it made `command` (see `newOrder`, `replace`).
    public mutating func replayCommand(_ command: EngineCommand) {
        switch command {
        case .enter(let c) where c.client == configuration.client:
            guard let i = orders.index(of: c.token) else { return }
            orders.update(i) {
                $0.side = c.side
                $0.symbol = c.symbol
                $0.orderQty = c.shares
                $0.leavesQty = c.shares
                $0.ordType = c.orderType
                $0.price = c.price
            }
        case .replace(let c) where c.client == configuration.client:
            guard let i = orders.index(of: c.replacementToken), orders.entry(i).kind == .replacement else { return }
            let old = orders.entry(Int(orders.entry(i).link))
            orders.update(i) {
                $0.side = old.side
                $0.symbol = old.symbol
                $0.orderQty = c.shares &+ old.cumQty
                $0.price = c.price
                $0.ordType = .limit
                $0.cumQty = old.cumQty
                $0.notional = old.notional
                $0.orderID = old.orderID
                $0.leavesQty = c.shares
            }
        default:
            break
        }
    }

    /// ExecIDs that answers given at once (which replay does not regenerate) used.
    public mutating func replayExecIDs(_ count: UInt64) { answerExecCounter &+= count }
}
