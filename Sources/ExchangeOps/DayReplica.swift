import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeMarketData
import ExchangeRisk
import ExchangeWire

/// The state of the trading day that a day snapshot holds, kept apart from the live agents
/// by applying the journal's records to a copy: an engine built exactly as the exchange
/// builds it, the gateway's day state (each session's next sequence, the day's tokens) and
/// market data's (a `FeedPublisher` that numbers and drops its packets, with its book
/// replica). The engine is deterministic, so after the record of sequence S this is the
/// live exchange's state after S — the snapshot agent takes snapshots from it without ever
/// stopping the engine's thread, and `rtes-journal`-style tools and tests use it offline.
///
/// The gateway part mirrors `GatewayAgent.replayCommand` and the routing of order events
/// into session logs (`GatewayAgent.route`): one Sequenced Data message per order event to its
/// client (an execution to both sides), a System Event to every account on the start and the
/// end of the day. `SnapshotRecoveryTests` checks it against the exchange itself: every
/// session's next sequence and the feed's after recovery from a snapshot equal those after a
/// full replay through the gateway and market-data agents. Cold path.
public struct DayReplica: ~Copyable {
    public private(set) var engine: RiskCheckedEngine
    public private(set) var gateway: GatewayDayState
    var tokenSet: Set<GatewayDayState.UsedToken>
    /// The FIX sessions (and drop copies) as the gateway keeps them: replay of the journal's
    /// `fix_session` facts and of the order events, through the gateway's own code
    /// (`FIXDayReplica`). Disabled (holding nothing) when the replica was made without the
    /// gateway's FIX settings; its snapshots then have no `fix` section.
    public var fix: FIXDayReplica
    /// Market data's publisher (made even when market data is disabled, then never fed).
    var feed: FeedPublisher
    public let feedEnabled: Bool
    var dayOpened = false
    var openingTimestamp: Timestamp = 0
    /// The sequence of the last record applied (0: none).
    public private(set) var sequence: UInt64 = 0
    public private(set) var lastDayEvent: DayEvent?
    /// The highest fencing token of the leadership records applied (0: none): the journal's
    /// epoch (a replica restored from a snapshot knows only those after it).
    public private(set) var epoch: Int64 = 0

    /// A replica of a day that has processed nothing, built from the configuration and the
    /// API keys as `trading_exchange` builds its agents.
    /// `feedFirstSequence`: the MoldUDP64 sequence of the feed's next message (1 for a new
    /// day; a snapshot's when the replica is restored from one).
    /// `fix`, `fixEpochMidnight`: the gateway's FIX settings (nil: no FIX port) and its
    /// midnight (`GatewayAgent.fixEpochMidnight`), for the replica to keep the FIX sessions.
    public init(configuration: ExchangeConfiguration, keys: APIKeys, feedSession: SoupSessionName, feedFirstSequence: UInt64 = 1,
                fix fixSettings: FIXSettings? = nil, fixEpochMidnight: UInt64 = 0) {
        engine = configuration.makeRiskCheckedEngine(keys: keys)
        fix = FIXDayReplica(settings: fixSettings, keys: keys, symbols: configuration.symbols.map(\.symbol), epochMidnight: fixEpochMidnight)
        gateway = GatewayDayState(accounts: keys.accounts.count)
        tokenSet = []
        feedEnabled = configuration.marketData.enabled
        let m = MarketDataConfiguration(configuration: configuration, session: feedSession)
        feed = FeedPublisher(session: feedSession, maxPayload: m.maxPayloadBytes, instruments: m.instruments, packetSlots: 4,
                             historyMessages: 64, orderCapacity: m.orderCapacity, firstSequence: feedFirstSequence)
        feed.opensMarket = !m.scheduledDay
    }

    /// A replica restored from a day snapshot: the state after its covered sequence. Throws
    /// when a section does not fit this configuration.
    public init(configuration: ExchangeConfiguration, keys: APIKeys, feedSession: SoupSessionName,
                snapshot: DaySnapshot.Loaded, fix fixSettings: FIXSettings? = nil, fixEpochMidnight: UInt64 = 0) throws(DaySnapshotError) {
        self.init(configuration: configuration, keys: keys, feedSession: feedSession,
                  feedFirstSequence: snapshot.feed?.nextSequence ?? 1, fix: fixSettings, fixEpochMidnight: fixEpochMidnight)
        do throws(EngineSnapshotError) {
            try engine.restoreSnapshot(engine: snapshot.engineBytes, risk: snapshot.riskBytes)
        } catch {
            throw DaySnapshotError(path: snapshot.file.path, reason: "its engine does not restore: \(error)")
        }
        guard snapshot.gateway.nextSequences.count == gateway.nextSequences.count else {
            throw DaySnapshotError(path: snapshot.file.path, reason: "it has \(snapshot.gateway.nextSequences.count) accounts, "
                + "the API keys file \(gateway.nextSequences.count)")
        }
        gateway = snapshot.gateway
        tokenSet = Set(snapshot.gateway.tokens)
        if fix.enabled && snapshot.gateway.fixSessions > 0 {
            guard let bytes = snapshot.fixBytes else {
                throw DaySnapshotError(path: snapshot.file.path, reason: "it has FIX sessions but no fix section")
            }
            do throws(DayStateError) {
                try fix.restore(bytes)
            } catch {
                throw DaySnapshotError(path: snapshot.file.path, reason: "its FIX sessions do not restore: \(error)")
            }
        }
        if feedEnabled, let state = snapshot.feed {
            do throws(FeedDayStateError) {
                try feed.restoreDayState(state)
            } catch {
                throw DaySnapshotError(path: snapshot.file.path, reason: error.description)
            }
            dayOpened = state.dayOpened
            openingTimestamp = state.openingTimestamp
        }
        lastDayEvent = snapshot.lastDayEvent
        sequence = snapshot.file.coveredSequence
    }

    /// Applies the next journaled command (its sequence must follow the last one applied).
    public mutating func apply(_ record: SequencedCommand) {
        apply(record) { _ in }
    }

    /// Applies the next journaled command and shows `observe` every event it caused, in the
    /// engine's order, before they are routed: the trade store (`rtes-dropcopy`) derives the
    /// day's orders, executions and trades from them.
    public mutating func apply(_ record: SequencedCommand, observing observe: (EngineEvent) -> Void) {
        precondition(record.sequence == sequence &+ 1, "records out of order")
        let command = record.command
        noteTokens(command)
        fix.apply(command)
        if case .fixSession(let fact) = command, fact.kind == .bind { gateway.fixSessions &+= 1 }
        // A drop-copy session's facts (client 2^30 + account; it has no bind): the day has one.
        if case .fixSession(let fact) = command, fact.client >= 1 << 30 { gateway.fixSessions = max(gateway.fixSessions, 1) }
        var status = engine.process(command)
        route(observe)
        while status == .suspended {
            status = engine.resume()
            route(observe)
        }
        switch command {
        case .startOfDay: lastDayEvent = .startOfDay
        case .endOfDay: lastDayEvent = .endOfDay
        case .leadership(let term): epoch = max(epoch, term.token)
        default: break
        }
        sequence = record.sequence
    }

    /// `GatewayAgent.replayCommand`.
    mutating func noteTokens(_ command: EngineCommand) {
        guard let (client, token) = GatewayAgent<TSCClock>.tokenUsed(by: command) else { return }
        let account = Int(client)
        guard account < gateway.nextSequences.count else { return }
        if tokenSet.insert(GatewayDayState.UsedToken(account: UInt32(account), token: token)).inserted {
            gateway.tokensUsed[account] &+= 1
        }
    }

    mutating func route(_ observe: (EngineEvent) -> Void) {
        for event in engine.events {
            observe(event)
            if event.isOrderEvent {
                count(event)
                fix.route(event)
            }
            if event.isBookEvent && feedEnabled {
                feed.replay(event, dayOpened: &dayOpened, openingTimestamp: &openingTimestamp)
            }
        }
        engine.clearEvents()
    }

    /// One message in the sessions per message `GatewayAgent.route` commits.
    mutating func count(_ event: EngineEvent) {
        switch event {
        case .accepted(let e): message(e.client)
        case .rejected(let e): message(e.client)
        case .replaced(let e): message(e.client)
        case .canceled(let e): message(e.client)
        case .modified(let e): message(e.client)
        case .cancelRejected(let e): message(e.client)
        case .executed(let e):
            message(e.takerClient)
            message(e.makerClient)
        case .crossFill(let e):
            message(e.buy.client)
            message(e.sell.client)
        case .bookAdd, .bookReduce, .bookReplace, .tradingState, .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            break
        case .systemEvent(let e):
            for account in 0..<gateway.nextSequences.count { gateway.nextSequences[account] &+= 1 }
            if e.event == .endOfDay { gateway.endOfDayRouted = true }
        }
    }

    mutating func message(_ client: ClientID) {
        let account = Int(client)
        guard account < gateway.nextSequences.count else { return }
        gateway.nextSequences[account] &+= 1
    }

    /// The gateway's day state now, tokens sorted (allocates).
    public func gatewayState() -> GatewayDayState {
        var state = gateway
        state.tokens = tokenSet.sorted()
        return state
    }

    /// Market data's day state now; nil when market data is disabled (allocates).
    public func feedState() -> FeedDayState? {
        guard feedEnabled else { return nil }
        return FeedDayState(publisher: feed, dayOpened: dayOpened, openingTimestamp: openingTimestamp)
    }
}
