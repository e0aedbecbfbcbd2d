import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeFIX

/// The FIX sessions of a trading day kept apart from the gateway, for the snapshot agent's
/// replica (`DayReplica`, ExchangeOps): a FIX port of its own (no connection, one connection's
/// buffers) fed the journal's commands and the engine's order events as the recovering
/// gateway is fed them (`GatewayAgent.replayCommand`, `replayOrderEvent`), through the same
/// code (FIXPort+Replay.swift) — each session's binding, MsgSeqNums, ClOrdID table, ExecIDs
/// and resend store, the drop copies' sessions and book. Its state is a day snapshot's `fix`
/// section (FIXPort+DayState.swift). Cold path (it allocates at start and when encoding).
public struct FIXDayReplica: ~Copyable {
    var port: FIXPort
    let firms: UnsafeMutablePointer<Firm>
    let symbols: [Symbol]
    /// Whether the FIX port is configured (`fix.port`); without it the journal has no facts.
    public let enabled: Bool

    /// - Parameter epochMidnight: the gateway's (`GatewayAgent.fixEpochMidnight`): the
    ///   SendingTime of a report is it plus the event's time, so a replica of another midnight
    ///   would keep other bytes than the gateway does.
    public init(settings: FIXSettings?, keys: APIKeys, symbols: [Symbol], epochMidnight: UInt64) {
        enabled = settings != nil
        var own = settings
        own?.maxConnections = 1
        port = FIXPort(settings: own, accounts: keys, sendQueueBytes: 0, epochMidnight: epochMidnight, startNanoseconds: 0)
        firms = .allocate(capacity: max(1, keys.accounts.count))
        for (i, account) in keys.accounts.enumerated() { (firms + i).initialize(to: account.firm) }
        self.symbols = symbols
    }

    deinit {
        port.deallocate()
        firms.deallocate()
    }

    /// A journaled command, before the engine's events of it (`GatewayAgent.replayCommand`).
    public mutating func apply(_ command: EngineCommand) {
        if case .fixSession(let fact) = command { return port.replay(fact, firms: firms) }
        port.replayCommand(command)
    }

    /// An order event, in the engine's order (`GatewayAgent.replayOrderEvent`).
    public mutating func route(_ event: EngineEvent) {
        // Without a FIX port there are no sessions (nor drop copies) to route to.
        guard enabled, event.isOrderEvent else { return }
        port.replayRoute(event, symbols: symbols)
    }

    /// The midnight a `fix` section was written for (nil: too short to say).
    public static func epochMidnight(ofSection bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 24 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    }

    public var epochMidnight: UInt64 { port.epochMidnight }

    /// The `fix` section of a day snapshot now (allocates).
    public func encoded() -> [UInt8] { port.encodeDayState() }

    /// Puts a day snapshot's `fix` section into a replica that has applied nothing.
    public mutating func restore(_ bytes: UnsafeRawBufferPointer) throws(DayStateError) {
        try port.restoreDayState(bytes, firms: firms)
    }

    /// Order-entry sessions bound, and facts that did not fit their session (0 when the
    /// journal and the configuration agree).
    public var sessionsBound: Int { port.sessionsBound }
    public var replayMismatches: Int { port.replayMismatches }

    /// `account`'s order-entry session: its next MsgSeqNums (ours, the counterparty's) and
    /// ExecIDs used; nil when it has none.
    public func sessionState(account: Int) -> (nextOutbound: UInt64, nextInbound: UInt64, execIDs: UInt64)? {
        guard account < port.accountCount, port.sessionOfAccount[account] >= 0 else { return nil }
        let session = Int(port.sessionOfAccount[account])
        return (port.sessions[session].nextOutbound, port.sessions[session].nextInbound, port.applications[session].execCounter)
    }
}

extension GatewayAgent {
    /// UTC midnight of the day as the FIX port counts it: a report's SendingTime is this plus
    /// the event's time (`FIXDayReplica` must be given the same).
    public var fixEpochMidnight: UInt64 { fix.epochMidnight }
}
