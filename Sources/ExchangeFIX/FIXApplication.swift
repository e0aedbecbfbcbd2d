import ExchangeCore

// FIX application messages ↔ the engine: NewOrderSingle, OrderCancelRequest,
// OrderCancelReplaceRequest, OrderStatusRequest and OrderMassCancelRequest become
// `EngineCommand`s (or an immediate answer); the engine's order events become
// ExecutionReports and OrderCancelRejects. docs/FIX.md is the contract.

/// What an inbound application message asks of the caller.
public struct FIXInbound: Sendable {
    /// For the engine (nil: nothing).
    public var command: EngineCommand?
    /// An answer to send now (body in the caller's body buffer; rawValue 0: none).
    public var replyType = FIXMsgType(rawValue: 0)
    public var replyLength = 0
    /// A session-level Reject (3) to send instead (via `FIXSession.reject`).
    public var reject: FIXFieldProblem?

    @inlinable init() {}
}

public struct FIXApplicationConfiguration: Sendable {
    /// The engine's client of this session.
    public var client: ClientID
    /// The firm every order of this session carries (the account's).
    public var firm: Firm
    /// Makes ExecIDs unique for the day across sessions: ExecID is `<execIDPrefix>.<n>` for the
    /// reports of engine events and `<execIDPrefix>-<n>` for answers given at once.
    public var execIDPrefix: UInt64
    /// The trading day's midnight, UTC, in nanoseconds since the epoch: engine timestamps
    /// (nanoseconds since midnight) + this = TransactTime.
    public var midnight: UInt64
    /// ClOrdIDs a session may use in a day.
    public var maximumClOrdIDs: Int = 1 << 16
    public var timestampPrecision: FIXTimestamp.Precision = .milliseconds

    public init(client: ClientID, firm: Firm, execIDPrefix: UInt64, midnight: UInt64) {
        self.client = client
        self.firm = firm
        self.execIDPrefix = execIDPrefix
        self.midnight = midnight
    }
}

public struct FIXApplication: ~Copyable {
    public internal(set) var configuration: FIXApplicationConfiguration
    public var orders: FIXOrderTable
    /// ExecIDs used by reports of engine events (`<prefix>.<n>`): replay regenerates them in
    /// the engine's order, so n is a function of the journal whatever answers were given at
    /// once in between.
    public internal(set) var execCounter: UInt64 = 0
    /// ExecIDs used by answers given at once (`<prefix>-<n>`: Order Status, rejects of orders
    /// the engine never saw): journaled with the answers (`fix_session` facts), counted apart.
    public internal(set) var answerExecCounter: UInt64 = 0
    /// TransactTime's date and time of day, written once per second.
    @usableFromInline var timestampCache = FIXTimestampCache()

    public init(configuration: FIXApplicationConfiguration) {
        self.configuration = configuration
        orders = FIXOrderTable(capacity: configuration.maximumClOrdIDs)
    }

    /// Hands the application (and its ClOrdID table, sized once) to another client of the
    /// engine: a gateway that preallocates FIX state binds it to the account that logs on.
    /// Forgets the orders and ExecIDs of the previous binding.
    public mutating func rebind(client: ClientID, firm: Firm, execIDPrefix: UInt64) {
        configuration.client = client
        configuration.firm = firm
        configuration.execIDPrefix = execIDPrefix
        orders.reset()
        execCounter = 0
        answerExecCounter = 0
    }

    /// Continues a day after a restart (the next ExecID numbers, from the journal).
    public mutating func restore(execCounter: UInt64, answerExecCounter: UInt64) {
        self.execCounter = execCounter
        self.answerExecCounter = answerExecCounter
    }
}
