/// The checks a layer in front of the core runs inside the engine's one dispatcher
/// (`MatchingEngine.process(_:checks:)`), at the places docs/MATCHING.md gives them:
/// admission (checks 0–3) before the core's structural checks, limits (14–16) after them,
/// and the kill switches that the supervisory commands turn on and off. ExchangeRisk
/// implements it; the core alone runs with `NoPreTradeChecks`.
///
/// The dispatcher is generic over it and `@inlinable`, so each implementation gets its own
/// specialised copy with the checks inlined: no existential, no closure, no call per check.
public protocol PreTradeChecks {
    /// Checks 0–3 for an enter or replace of `client`, after engine time has moved to the
    /// command's. A non-nil reason rejects the order; nil lets it on to the core's checks.
    mutating func admit(client: ClientID, engine: borrowing MatchingEngine) -> RejectReason?

    /// Checks 14–16 for a new order that passed the core's structural checks.
    func checkLimits(_ order: EnterOrder, plan: EntryPlan, engine: borrowing MatchingEngine) -> RejectReason?

    /// Checks 14–16 for a replace that passed the core's structural checks.
    func checkLimits(_ replace: ReplaceOrder, plan: ReplacePlan, engine: borrowing MatchingEngine) -> RejectReason?

    /// `killClient` (true, before its orders are cancelled) and `reinstateClient` (false).
    mutating func setKilled(_ killed: Bool, client: ClientID)

    /// `killExchange` (true, before every order is cancelled) and `reinstateExchange` (false).
    mutating func setExchangeKilled(_ killed: Bool)
}

/// The core alone: structural checks only, no kill switches, no limits. Every check passes
/// and compiles to nothing.
public struct NoPreTradeChecks: PreTradeChecks {
    @inlinable public init() {}

    @inlinable @inline(__always)
    public mutating func admit(client: ClientID, engine: borrowing MatchingEngine) -> RejectReason? { nil }

    @inlinable @inline(__always)
    public func checkLimits(_ order: EnterOrder, plan: EntryPlan, engine: borrowing MatchingEngine) -> RejectReason? { nil }

    @inlinable @inline(__always)
    public func checkLimits(_ replace: ReplaceOrder, plan: ReplacePlan, engine: borrowing MatchingEngine) -> RejectReason? { nil }

    @inlinable @inline(__always)
    public mutating func setKilled(_ killed: Bool, client: ClientID) {}

    @inlinable @inline(__always)
    public mutating func setExchangeKilled(_ killed: Bool) {}
}
