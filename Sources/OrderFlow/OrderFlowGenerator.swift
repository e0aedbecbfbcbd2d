import ExchangeCore

/// A seeded, closed-loop stream of engine commands.
///
/// The generator keeps its own picture of the live orders by observing the engine's
/// events (so it can cancel, replace and modify orders that exist, and sometimes ones that
/// do not). Same profile, same seed and the same events back ⇒ the same commands. It
/// allocates freely: it is a test and benchmark tool, never on the engine's path.
public struct OrderFlowGenerator {
    public let profile: OrderFlowProfile
    private var random: SplitMix64
    private var time: Timestamp = 34_200_000_000_000  // 09:30:00
    private var live: [LiveOrder] = []
    private var positions: [TokenKey: Int] = [:]
    private var recentlyDead: [TokenKey] = []
    private var midTick: [Int64]
    private var nextTokenNumber: [UInt64]
    private var killedClients: [ClientID] = []
    private var haltedInstruments: [Int] = []
    private var exchangeKilled = false
    private var lastClient: ClientID = 0
    private var burstLeft = 0
    private var refusals = 0
    /// What the gateway refuses through the engine, taken in turn so every seed sees each.
    private static let refusalReasons: [RejectReason] = [
        .duplicateToken, .tokenHistoryFull, .invalidSide, .marketPriceOnReplace, .exchangeClosing,
        .firmNotAuthorized,
    ]

    struct TokenKey: Hashable {
        var client: ClientID
        var token: OrderToken
    }

    struct LiveOrder {
        var key: TokenKey
        var instrument: Int
        var side: Side
        var price: Price
        var leaves: Shares
    }

    public init(profile: OrderFlowProfile, seed: UInt64) {
        self.profile = profile
        random = SplitMix64(seed: seed)
        midTick = profile.instruments.map { Int64($0.referencePrice / $0.tickSize) }
        nextTokenNumber = Array(repeating: 1, count: profile.clients)
    }

    public var liveOrderCount: Int { live.count }

    // MARK: Observing the engine

    public mutating func observe(_ events: UnsafeBufferPointer<EngineEvent>) {
        for event in events { observe(event) }
    }

    public mutating func observe(_ event: EngineEvent) {
        switch event {
        case .accepted(let e):
            insert(LiveOrder(key: TokenKey(client: e.client, token: e.token), instrument: Int(e.instrument),
                             side: e.side, price: e.price, leaves: e.shares))
        case .replaced(let e):
            remove(TokenKey(client: e.client, token: e.previousToken))
            insert(LiveOrder(key: TokenKey(client: e.client, token: e.token), instrument: Int(e.instrument),
                             side: e.side, price: e.price, leaves: e.shares))
        case .executed(let e):
            reduce(TokenKey(client: e.takerClient, token: e.takerToken), by: e.shares)
            reduce(TokenKey(client: e.makerClient, token: e.makerToken), by: e.shares)
            let spec = profile.instruments[Int(e.instrument)]
            midTick[Int(e.instrument)] = Int64(e.price / spec.tickSize)
        case .canceled(let e):
            let key = TokenKey(client: e.client, token: e.token)
            if let i = positions[key] {
                live[i].leaves = e.remaining
                if e.remaining == 0 { remove(key) }
            }
        case .modified(let e):
            if let i = positions[TokenKey(client: e.client, token: e.token)] {
                live[i].side = e.side
                live[i].leaves = e.shares
            }
        case .crossFill(let e):
            reduce(TokenKey(client: e.buy.client, token: e.buy.token), by: e.shares)
            reduce(TokenKey(client: e.sell.client, token: e.sell.token), by: e.shares)
            let spec = profile.instruments[Int(e.instrument)]
            midTick[Int(e.instrument)] = Int64(e.price / spec.tickSize)
        case .rejected, .cancelRejected, .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent,
             .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            break
        }
    }

    private mutating func insert(_ order: LiveOrder) {
        positions[order.key] = live.count
        live.append(order)
    }

    private mutating func reduce(_ key: TokenKey, by shares: Shares) {
        guard let i = positions[key] else { return }
        live[i].leaves -= min(shares, live[i].leaves)
        if live[i].leaves == 0 { remove(key) }
    }

    private mutating func remove(_ key: TokenKey) {
        guard let i = positions.removeValue(forKey: key) else { return }
        let last = live.removeLast()
        if i < live.count {
            live[i] = last
            positions[last.key] = i
        }
        recentlyDead.append(key)
        if recentlyDead.count > 64 { recentlyDead.removeFirst(recentlyDead.count - 64) }
    }

    // MARK: Generating

    /// The next command.
    public mutating func next() -> EngineCommand {
        advanceClock()
        if profile.tradingPhasePerMille > 0 && random.chance(profile.tradingPhasePerMille) {
            let action = PhaseAction.allCases[random.below(PhaseAction.allCases.count)]
            let symbol = random.chance(250) ? Symbol.everySymbol
                : profile.instruments[random.below(profile.instruments.count)].symbol
            return .tradingPhase(PhaseCommand(timestamp: time, symbol: symbol, action: action))
        }
        if profile.luldRunPerMille > 0 && random.chance(profile.luldRunPerMille) {
            return bandOrder(random.below(profile.instruments.count))
        }
        if exchangeKilled && random.chance(300) {
            exchangeKilled = false
            return .reinstateExchange(time)
        }
        if !killedClients.isEmpty && random.chance(100) {
            return .reinstateClient(ClientAction(timestamp: time, client: killedClients.removeFirst()))
        }
        if !haltedInstruments.isEmpty && random.chance(50) {
            let i = haltedInstruments.removeFirst()
            return .resumeInstrument(InstrumentAction(timestamp: time, symbol: profile.instruments[i].symbol))
        }
        let w = profile.weights
        var pick = random.below(w.total)
        func take(_ weight: Int) -> Bool {
            if pick < weight { return true }
            pick -= weight
            return false
        }
        let instrument = random.below(profile.instruments.count)
        drift(instrument)
        if take(w.passive) { return steeredPassive(instrument) }
        if take(w.aggressive) { return aggressive(instrument, timeInForce: random.chance(333) ? .marketHours : .immediateOrCancel) }
        if take(w.immediateOrCancel) { return aggressive(instrument, timeInForce: .immediateOrCancel) }
        if take(w.market) { return market(instrument) }
        if take(w.cancel) { return cancel() }
        if take(w.replace) { return replace() }
        if take(w.modify) { return modify() }
        if take(w.invalid) { return invalid(instrument) }
        if take(w.admin) { return admin(instrument) }
        time &+= UInt64(random.inRange(1...60)) * PriceScale.nanosecondsPerSecond
        return .advanceTime(time)
    }

    private mutating func advanceClock() {
        if burstLeft > 0 {
            burstLeft -= 1
            return
        }
        if random.chance(20) { burstLeft = random.inRange(5...40) }
        if !random.chance(250) {
            time &+= UInt64(random.below(Int(2 * profile.meanGapNanoseconds) + 1))
        }
    }

    /// The market wanders a tick now and then, pulled back toward the reference.
    private mutating func drift(_ instrument: Int) {
        guard random.chance(30) else { return }
        let spec = profile.instruments[instrument]
        let reference = Int64(spec.referencePrice / spec.tickSize)
        let away = midTick[instrument] - reference
        let limit = Int64(max(10, profile.spreadTicks * 4))
        midTick[instrument] += away > limit ? -1 : away < -limit ? 1 : (random.chance(500) ? 1 : -1)
        if midTick[instrument] < 2 { midTick[instrument] = 2 }
    }

    private mutating func client() -> ClientID {
        if burstLeft > 0 { return lastClient }
        lastClient = ClientID(random.below(profile.clients))
        return lastClient
    }

    private mutating func freshToken(for client: ClientID) -> OrderToken {
        if profile.duplicateTokenPerMille > 0 && random.chance(profile.duplicateTokenPerMille) {
            if random.chance(500), let order = live.randomElement(using: &random), order.key.client == client {
                return order.key.token
            }
            if let dead = recentlyDead.randomElement(using: &random), dead.client == client { return dead.token }
        }
        let n = nextTokenNumber[Int(client)]
        nextTokenNumber[Int(client)] = n + 1
        return OrderToken(number: n)
    }

    private func firm(of client: ClientID) -> Firm {
        let n = Int(client) % profile.firms
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let text = [letters[n / 676 % 26], letters[n / 26 % 26], letters[n % 26], 0x46]
        return Firm(String(decoding: text, as: UTF8.self))!
    }

    private mutating func shares(_ instrument: Int) -> Shares {
        Shares(random.inRange(profile.lotsPerOrder)) * profile.instruments[instrument].lotSize
    }

    private func price(_ instrument: Int, ticksFromMid ticks: Int64) -> Price {
        let spec = profile.instruments[instrument]
        return Price(max(1, midTick[instrument] + ticks)) * spec.tickSize
    }

    private mutating func side() -> Side {
        if random.chance(500) { return .buy }
        switch random.below(10) {
        case 0: return .sellShort
        case 1: return .sellShortExempt
        default: return .sell
        }
    }

    /// Passive order, or a cancel when the books are deeper than the target.
    private mutating func steeredPassive(_ instrument: Int) -> EngineCommand {
        let target = profile.depthTarget * 2 * profile.instruments.count
        if live.count > target + target / 4 && !live.isEmpty { return cancel() }
        return passive(instrument)
    }

    private mutating func passive(_ instrument: Int) -> EngineCommand {
        let client = client()
        let side = side()
        let away = Int64(random.inRange(1...max(1, profile.spreadTicks)))
        var display = Display.anonymous
        if random.chance(profile.nonDisplayedPerMille) { display = .nonDisplayed }
        else if random.chance(profile.postOnlyPerMille) { display = random.chance(500) ? .postOnly : .postOnlyAttributable }
        else if random.chance(profile.attributablePerMille) { display = .attributable }
        // Post-only orders are sometimes priced through the market to exercise repricing.
        let through = display.isPostOnly && random.chance(400)
        let ticks = side == .buy ? (through ? away : -away) : (through ? -away : away)
        let timeInForce: TimeInForce = random.chance(profile.timedPerMille)
            ? .seconds(UInt32(random.inRange(1...30))) : (random.chance(500) ? .marketHours : .systemHours)
        return .enter(EnterOrder(
            timestamp: time, client: client, token: freshToken(for: client), side: side, shares: shares(instrument),
            symbol: profile.instruments[instrument].symbol, price: price(instrument, ticksFromMid: ticks),
            timeInForce: timeInForce, firm: firm(of: client), display: display, crossType: crossType()))
    }

    /// A cross-only cross type now and then (`crossOrderPerMille`), else continuous.
    private mutating func crossType() -> CrossType {
        guard profile.crossOrderPerMille > 0 && random.chance(profile.crossOrderPerMille) else { return .continuous }
        return [CrossType.opening, .closing, .haltOrIPO][random.below(3)]
    }

    private mutating func aggressive(_ instrument: Int, timeInForce: TimeInForce) -> EngineCommand {
        let client = client()
        let side = side()
        let through = Int64(random.inRange(0...max(1, profile.spreadTicks / 2)))
        let shares = shares(instrument)
        var minimum: Shares = 0
        if random.chance(100) { minimum = shares }  // fill-or-kill when IOC
        else if random.chance(100) { minimum = max(1, shares / 2 / profile.instruments[instrument].lotSize) * profile.instruments[instrument].lotSize }
        return .enter(EnterOrder(
            timestamp: time, client: client, token: freshToken(for: client), side: side, shares: shares,
            symbol: profile.instruments[instrument].symbol,
            price: price(instrument, ticksFromMid: side == .buy ? through : -through),
            timeInForce: timeInForce, firm: firm(of: client), minimumQuantity: minimum))
    }

    /// An order (or a replace) priced far through the market, toward or past a band.
    private mutating func bandOrder(_ instrument: Int) -> EngineCommand {
        let spec = profile.instruments[instrument]
        let reach = max(2, min(Int(spec.referencePrice / spec.tickSize) / 8, 2_000))
        let away = Int64(random.inRange(1...reach))
        // Time passes at the market's pace of a limit state: seconds, so that one can last.
        if random.chance(250) {
            time &+= UInt64(random.inRange(1...10)) * PriceScale.nanosecondsPerSecond
            return .advanceTime(time)
        }
        if random.chance(300), let order = live.randomElement(using: &random) {
            let client = order.key.client
            return .replace(ReplaceOrder(
                timestamp: time, client: client, existingToken: order.key.token, replacementToken: freshToken(for: client),
                shares: order.leaves, price: price(order.instrument, ticksFromMid: order.side == .buy ? away : -away),
                timeInForce: .marketHours, display: random.chance(100) ? .postOnly : .anonymous, minimumQuantity: 0))
        }
        let client = client()
        let side: Side = random.chance(500) ? .buy : .sell
        let display: Display = random.chance(100) ? .postOnly : .anonymous
        let timeInForce: TimeInForce = random.chance(200) ? .immediateOrCancel : .marketHours
        return .enter(EnterOrder(
            timestamp: time, client: client, token: freshToken(for: client), side: side, shares: shares(instrument),
            symbol: spec.symbol, price: price(instrument, ticksFromMid: side == .buy ? away : -away),
            timeInForce: timeInForce, firm: firm(of: client), display: display))
    }

    private mutating func market(_ instrument: Int) -> EngineCommand {
        let client = client()
        // In the order the arguments were drawn before cross types existed.
        let token = freshToken(for: client)
        let side = side()
        let shares = shares(instrument)
        // Now and then a market-on-open/close/halt-cross order, a day order (a cross-only
        // order cannot be immediate-or-cancel).
        let crossType = crossType()
        return .enter(EnterOrder(
            timestamp: time, client: client, token: token, side: side, orderType: .market,
            shares: shares, symbol: profile.instruments[instrument].symbol, price: 0,
            timeInForce: crossType.isCrossOnly ? .marketHours : .immediateOrCancel, firm: firm(of: client),
            crossType: crossType))
    }

    private mutating func cancel() -> EngineCommand {
        guard let order = live.randomElement(using: &random), !random.chance(30) else {
            let client = client()
            return .cancel(CancelOrder(timestamp: time, client: client, token: OrderToken(number: 999_999_999), shares: 0))
        }
        var shares: Shares = 0
        if random.chance(200) { shares = Shares(random.below(Int(order.leaves) + 2)) }  // partial, or not smaller
        return .cancel(CancelOrder(timestamp: time, client: order.key.client, token: order.key.token, shares: shares))
    }

    private mutating func replace() -> EngineCommand {
        guard let order = live.randomElement(using: &random) else { return passive(random.below(profile.instruments.count)) }
        let client = order.key.client
        var price = order.price
        var shares = order.leaves
        let lot = profile.instruments[order.instrument].lotSize
        if random.chance(800) {
            let ticks = Int64(random.inRange(-profile.spreadTicks...profile.spreadTicks))
            let away = order.side == .buy ? -Int64(random.inRange(0...profile.spreadTicks)) : Int64(random.inRange(0...profile.spreadTicks))
            price = self.price(order.instrument, ticksFromMid: random.chance(800) ? away : ticks)
        }
        if random.chance(300) { shares = self.shares(order.instrument) }
        else if random.chance(200) && shares > lot { shares -= lot }
        let display: Display = random.chance(profile.nonDisplayedPerMille) ? .nonDisplayed
            : random.chance(profile.postOnlyPerMille) ? .postOnly : .anonymous
        let timeInForce: TimeInForce = random.chance(30) ? .immediateOrCancel
            : random.chance(profile.timedPerMille) ? .seconds(UInt32(random.inRange(1...30))) : .marketHours
        return .replace(ReplaceOrder(
            timestamp: time, client: client, existingToken: order.key.token, replacementToken: freshToken(for: client),
            shares: shares, price: price, timeInForce: timeInForce, display: display,
            minimumQuantity: random.chance(50) ? shares : 0))
    }

    private mutating func modify() -> EngineCommand {
        guard let order = live.randomElement(using: &random) else { return cancel() }
        let lot = profile.instruments[order.instrument].lotSize
        var side = order.side
        if order.side != .buy { side = [Side.sell, .sellShort, .sellShortExempt][random.below(3)] }
        if random.chance(50) { side = order.side == .buy ? .sell : .buy }  // invalid
        var shares = order.leaves
        if shares > lot && random.chance(700) { shares -= lot * Shares(random.inRange(1...Int(max(1, (shares - lot) / lot)))) }
        if random.chance(50) { shares = order.leaves + lot }  // invalid: more than open
        return .modify(ModifyOrder(timestamp: time, client: order.key.client, token: order.key.token, side: side, shares: shares))
    }

    private mutating func invalid(_ instrument: Int) -> EngineCommand {
        let client = client()
        let spec = profile.instruments[instrument]
        var order = EnterOrder(
            timestamp: time, client: client, token: freshToken(for: client), side: side(), shares: shares(instrument),
            symbol: spec.symbol, price: price(instrument, ticksFromMid: 0), timeInForce: .marketHours, firm: firm(of: client))
        switch random.below(14) {
        case 0: order.symbol = Symbol("ZZZZ")!
        case 1: order.shares = 0
        case 2: order.timeInForce = TimeInForce(rawValue: random.chance(500) ? 99_997 : 100_000)
        case 3:
            // An unknown display letter cannot be written in a command (the OUCH decoder
            // refuses it); a post-only market order is the engine's invalidDisplay. Draws
            // as the old case did, so the rest of every seed's stream is unchanged.
            order.orderType = .market
            order.display = random.chance(500) ? .postOnlyAttributable : .postOnly
        case 4: order.minimumQuantity = order.shares + 1
        case 5: order.shares += spec.lotSize > 1 ? 1 : 0; order.price += spec.tickSize > 1 ? 1 : 0
        case 6: order.price = spec.referencePrice * 4 / spec.tickSize * spec.tickSize; order.side = .sell
        case 7: order.shares = (profile.limits.maxOrderShares / spec.lotSize + 1) * spec.lotSize
        case 8:
            // Just past the collar around the market: a collar breach, not a ladder miss.
            let beyond = midTick[instrument] * Int64(spec.collarBasisPoints) / 10_000 + Int64(random.inRange(1...5))
            order.side = .buy
            order.price = price(instrument, ticksFromMid: beyond)
        case 9:
            order.shares = profile.limits.maxOrderShares / spec.lotSize * spec.lotSize
        case 10: order.client = ClientID(profile.clients + 1_000_000)
        case 11: order.orderType = .market; order.display = .postOnly
        case 12:
            return .replace(ReplaceOrder(
                timestamp: time, client: client, existingToken: OrderToken(number: 888_888_888),
                replacementToken: freshToken(for: client), shares: order.shares, price: order.price))
        default:
            order.price = spec.tickSize  // far below the market: tests the ladder's lower edge
        }
        return .enter(order)
    }

    private mutating func admin(_ instrument: Int) -> EngineCommand {
        switch random.below(10) {
        case 0, 1, 2:
            let c = ClientID(random.below(profile.clients))
            killedClients.append(c)
            return .killClient(ClientAction(timestamp: time, client: c))
        case 3, 4, 5:
            haltedInstruments.append(instrument)
            return .haltInstrument(InstrumentAction(timestamp: time, symbol: profile.instruments[instrument].symbol))
        case 6:
            exchangeKilled = true
            return .killExchange(time)
        case 7, 8:
            return .cancelAll(ClientAction(timestamp: time, client: ClientID(random.below(profile.clients))))
        default:
            // A message the gateway refused, passed through the engine to be answered in order.
            let c = client()
            let reason = Self.refusalReasons[refusals % Self.refusalReasons.count]
            refusals += 1
            return .refuse(Refusal(timestamp: time, client: c, token: freshToken(for: c),
                                   reason: reason, asCancelReject: random.chance(300)))
        }
    }
}

extension OrderFlowGenerator {
    /// Generates `count` commands in closed loop against an engine driven by `process`,
    /// which must run each command to completion and return its events.
    public static func record(
        profile: OrderFlowProfile, seed: UInt64, count: Int,
        process: (EngineCommand) -> [EngineEvent]
    ) -> [EngineCommand] {
        var generator = OrderFlowGenerator(profile: profile, seed: seed)
        var commands: [EngineCommand] = []
        commands.reserveCapacity(count)
        for _ in 0..<count {
            let command = generator.next()
            commands.append(command)
            for event in process(command) { generator.observe(event) }
        }
        return commands
    }
}
