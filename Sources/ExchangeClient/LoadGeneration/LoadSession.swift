import ExchangeClock
import ExchangeCore
import ExchangeWire
import OrderFlow

/// One load connection: its logged-in session, its orders, and what it counted. Requests
/// are written straight into the connection's send buffer and replies read straight out of
/// its receive buffer; after start-up nothing here allocates.
final class LoadSession {
    let username: String
    /// Its place among the run's connections (0..<N).
    let index: Int
    let client: OrderEntryClient
    /// The client's connection (a failover replaces it).
    var connection: SoupConnection
    let codec: LoadTokenCodec
    var random: SplitMix64

    // What to send.
    let symbols: UnsafeMutablePointer<LoadSymbol>
    let symbolCount: Int
    let restWeight: Int
    let takeWeight: Int
    let totalWeight: Int
    let maxResting: Int
    let lotShares: Shares
    let levels: Int
    let takerFirm: Firm

    // Orders by number: slot `number & tableMask`.
    static let tableCapacity = 1 << 16
    let orders: UnsafeMutablePointer<LoadOrder>
    let tableMask: UInt64
    var nextNumber: UInt64 = 1
    /// Numbers of orders that went on the book, oldest first (entries whose order has gone
    /// since are skipped when popped).
    let restingQueue: UnsafeMutablePointer<UInt64>
    let queueMask: UInt64
    var queueHead: UInt64 = 0
    var queueTail: UInt64 = 0
    var liveResting = 0
    var pendingRests = 0

    // Pacing.
    /// Requests this session may still send.
    var budget: Int
    /// Requests sent so far; the first `warmup` are not recorded.
    var issued = 0
    let warmup: Int
    var outstanding = 0
    var nextPlannedTicks: UInt64 = 0
    var lastRequestTicks: UInt64 = 0
    var lastSendTicks: UInt64 = 0
    var cleanupCursor = 0

    var tally = LoadTally()
    let rejectCounts: UnsafeMutablePointer<Int>
    let cancelCounts: UnsafeMutablePointer<Int>
    var failure: ClientError?

    // Failover (docs/FAILOVER.md, "rtes-loadgen").
    /// The sequence number the next Sequenced Data packet will have: the session resumes
    /// there on the next address.
    var expectedSequence: UInt64
    /// Orders numbered below this were sent before the last failover; while `settling`, the
    /// answers the new primary replays may still come for them.
    var failoverNumber: UInt64 = 0
    var settling = false

    init(username: String, client: OrderEntryClient, plan: LoadPlan, index: Int, budget: Int, warmup: Int) {
        self.username = username
        self.index = index
        self.client = client
        connection = client.connection
        codec = LoadTokenCodec(prefix: plan.tokenPrefix)!
        random = SplitMix64(seed: plan.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
        symbolCount = plan.symbols.count
        symbols = .allocate(capacity: symbolCount)
        symbols.initialize(from: plan.symbols, count: symbolCount)
        restWeight = plan.mix.rest
        takeWeight = plan.mix.take
        totalWeight = plan.mix.rest + plan.mix.take + plan.mix.cancel
        maxResting = plan.maxResting
        lotShares = plan.lotShares
        levels = plan.levels
        takerFirm = plan.takerFirm ?? .blank
        orders = .allocate(capacity: Self.tableCapacity)
        orders.initialize(repeating: LoadOrder(), count: Self.tableCapacity)
        tableMask = UInt64(Self.tableCapacity - 1)
        restingQueue = .allocate(capacity: Self.tableCapacity)
        queueMask = UInt64(Self.tableCapacity - 1)
        self.budget = budget
        self.warmup = warmup
        rejectCounts = .allocate(capacity: 256)
        rejectCounts.initialize(repeating: 0, count: 256)
        cancelCounts = .allocate(capacity: 256)
        cancelCounts.initialize(repeating: 0, count: 256)
        expectedSequence = client.nextSequence
    }

    deinit {
        symbols.deallocate()
        orders.deallocate()
        restingQueue.deallocate()
        rejectCounts.deallocate()
        cancelCounts.deallocate()
    }

    var isActive: Bool { failure == nil }

    // MARK: Requests

    /// Bytes one request may need: Unsequenced Data header + Enter Order.
    static let requestRoom = SoupBinTCP.headerLength + OUCH.maximumInboundLength

    /// Writes the next request of the mix into the send buffer, as sent (or due) at
    /// `ticks`. False when it cannot go now (the send buffer is full, or the order table
    /// slot it needs is still busy): try again later.
    func issueRequest(at ticks: UInt64) throws(ClientError) -> Bool {
        guard let out = try connection.reserveWithoutWaiting(Self.requestRoom) else { return false }
        let recorded = issued >= warmup
        let draw = random.below(totalWeight)
        var taking = draw >= restWeight && draw < restWeight + takeWeight
        if draw >= restWeight + takeWeight || (!taking && liveResting + pendingRests >= maxResting) {
            if let target = popRestingOrder() {
                writeCancel(target, at: ticks, recorded: recorded, to: out)
                tally.cancels += 1
                countRequest(at: ticks)
                return true
            }
            taking = liveResting + pendingRests >= maxResting
        }
        let number = nextNumber
        let slot = orders + Int(truncatingIfNeeded: number & tableMask)
        guard slot.pointee.phase == .free else {
            // An order from 65,536 requests ago still holds the slot: cancel it if it rests.
            guard slot.pointee.phase == .resting && !slot.pointee.cancelPending else { return false }
            writeCancel(slot, at: ticks, recorded: recorded, to: out)
            tally.cancels += 1
            countRequest(at: ticks)
            return true
        }
        let symbol = symbols[symbolCount == 1 ? 0 : random.below(symbolCount)]
        let side: Side = random.next() & 1 == 0 ? .buy : .sell
        let shares: Shares
        let price: Price
        if taking {
            let through = Price(levels) * symbol.tick
            price = side == .buy ? symbol.referencePrice + through : symbol.referencePrice - through
            shares = lotShares * Shares(1 + random.below(3))
        } else {
            let away = Price(1 + random.below(levels)) * symbol.tick
            price = side == .buy ? symbol.referencePrice - away : symbol.referencePrice + away
            shares = lotShares
            pendingRests += 1
        }
        let length = OUCHInboundEncoder.enter(
            token: codec.token(number), side: side, shares: shares, symbol: symbol.symbol, price: price,
            timeInForce: taking ? .immediateOrCancel : .marketHours, firm: taking ? takerFirm : .blank,
            to: out + SoupBinTCP.headerLength)
        connection.commit(SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length)
        slot.pointee = LoadOrder(number: number, sentTicks: ticks, leaves: shares, phase: .entering, isTaker: taking, recorded: recorded)
        nextNumber &+= 1
        outstanding += 1
        tally.orders += 1
        if taking { tally.takingOrders += 1 }
        countRequest(at: ticks)
        return true
    }

    @inline(__always)
    func countRequest(at ticks: UInt64) {
        issued += 1
        budget -= 1
        tally.requests += 1
        lastRequestTicks = ticks
    }

    /// The oldest order still resting with no cancel out, taken off the queue.
    func popRestingOrder() -> UnsafeMutablePointer<LoadOrder>? {
        while queueHead < queueTail {
            let number = restingQueue[Int(truncatingIfNeeded: queueHead & queueMask)]
            queueHead &+= 1
            let slot = orders + Int(truncatingIfNeeded: number & tableMask)
            if slot.pointee.number == number && slot.pointee.phase == .resting && !slot.pointee.cancelPending { return slot }
        }
        return nil
    }

    func writeCancel(_ slot: UnsafeMutablePointer<LoadOrder>, at ticks: UInt64, recorded: Bool, to out: UnsafeMutableRawPointer) {
        let length = OUCHInboundEncoder.cancel(token: codec.token(slot.pointee.number), to: out + SoupBinTCP.headerLength)
        connection.commit(SoupBinTCP.unsequencedDataHeader(payloadLength: length, to: out) + length)
        slot.pointee.cancelPending = true
        slot.pointee.cancelSentTicks = ticks
        slot.pointee.cancelRecorded = recorded
        outstanding += 1
    }

    /// Cancels of every order still resting, as many as fit now. True once all are out.
    func issueCleanupCancels(at ticks: UInt64) throws(ClientError) -> Bool {
        while cleanupCursor < Self.tableCapacity {
            let slot = orders + cleanupCursor
            if slot.pointee.phase == .resting && !slot.pointee.cancelPending {
                guard let out = try connection.reserveWithoutWaiting(Self.requestRoom) else { return false }
                writeCancel(slot, at: ticks, recorded: false, to: out)
                tally.cleanupCancels += 1
            }
            cleanupCursor += 1
        }
        return true
    }

    /// A Client Heartbeat when nothing was sent for `interval` ticks.
    func heartbeatIfQuiet(now: UInt64, interval: UInt64) throws(ClientError) {
        guard now &- lastSendTicks >= interval, let out = try connection.reserveWithoutWaiting(SoupBinTCP.headerLength) else { return }
        connection.commit(SoupBinTCP.clientHeartbeat(to: out))
        lastSendTicks = now
    }

    // MARK: Replies

    /// Handles one packet from the exchange, received at `ticks`.
    func handle<C: Clock>(_ frame: SoupFrame, at ticks: UInt64, clock: C, into report: inout LoadReport) throws(ClientError) {
        switch frame.type {
        case SoupPacketType.sequencedData:
            expectedSequence &+= 1
            guard let message = OUCHMessage.decode(frame.payload) else {
                throw connection.fail(.malformedPacket(type: frame.type, length: frame.payload.count, why: "not a valid OUCH 4.2 message"))
            }
            handle(message, at: ticks, clock: clock, into: &report)
        case SoupPacketType.serverHeartbeat:
            // The exchange had nothing to send for a second: the new primary's replay is over,
            // so what is still unanswered from before the failover never reached it. (Waiting
            // for an answer to a later request is not enough: when every request of the window
            // was lost, no later one can be sent.)
            if settling { settleFailover() }
        case SoupPacketType.debug:
            break
        case SoupPacketType.endOfSession:
            throw connection.fail(.closedByPeer(debug: "End of Session"))
        default:
            throw connection.fail(.malformedPacket(type: frame.type, length: frame.payload.count, why: "unexpected while logged in"))
        }
    }

    func handle<C: Clock>(_ message: OUCHMessage, at ticks: UInt64, clock: C, into report: inout LoadReport) {
        switch message {
        case .accepted(let m):
            guard let slot = order(m.token), slot.pointee.phase == .entering else { return unexpected() }
            if settling && slot.pointee.number >= failoverNumber { settleFailover() }
            outstanding -= 1
            tally.accepted += 1
            if slot.pointee.recorded { report.accepted.record(clock.elapsedNanoseconds(from: slot.pointee.sentTicks, to: ticks)) }
            if !slot.pointee.isTaker { pendingRests -= 1 }
            slot.pointee.leaves = m.shares
            if m.state == .live {
                tally.acceptedLive += 1
                slot.pointee.phase = .resting
                liveResting += 1
                if queueTail &- queueHead <= queueMask {
                    restingQueue[Int(truncatingIfNeeded: queueTail & queueMask)] = slot.pointee.number
                    queueTail &+= 1
                }
            } else {
                slot.pointee.phase = .taking
            }
        case .rejected(_, let token, let reason):
            guard let slot = order(token), slot.pointee.phase == .entering else { return unexpected() }
            if settling && slot.pointee.number >= failoverNumber { settleFailover() }
            outstanding -= 1
            tally.rejected += 1
            rejectCounts[Int(reason)] += 1
            if !slot.pointee.isTaker { pendingRests -= 1 }
            slot.pointee.phase = .free
        case .executed(_, let token, let shares, _, _, _):
            guard let slot = order(token), slot.pointee.phase == .resting || slot.pointee.phase == .taking else { return unexpected() }
            tally.executions += 1
            tally.executedShares &+= UInt64(shares)
            if slot.pointee.isTaker && !slot.pointee.executed {
                slot.pointee.executed = true
                tally.takersFilled += 1
                if slot.pointee.recorded { report.executed.record(clock.elapsedNanoseconds(from: slot.pointee.sentTicks, to: ticks)) }
            }
            slot.pointee.leaves -= min(shares, slot.pointee.leaves)
            if slot.pointee.leaves == 0 { finish(slot) }
        case .canceled(_, let token, let decrement, let reason):
            guard let slot = order(token), slot.pointee.phase == .resting || slot.pointee.phase == .taking else { return unexpected() }
            cancelCounts[Int(reason)] += 1
            if slot.pointee.cancelPending && reason == CancelReason.userRequested.ouchCode {
                slot.pointee.cancelPending = false
                outstanding -= 1
                if slot.pointee.cancelRecorded { report.canceled.record(clock.elapsedNanoseconds(from: slot.pointee.cancelSentTicks, to: ticks)) }
            }
            slot.pointee.leaves -= min(decrement, slot.pointee.leaves)
            if slot.pointee.leaves == 0 { finish(slot) }
        case .cancelReject(_, let token):
            guard let slot = order(token), slot.pointee.cancelPending else { return unexpected() }
            slot.pointee.cancelPending = false
            outstanding -= 1
            tally.cancelRejects += 1
            if slot.pointee.phase == .finishing { slot.pointee.phase = .free }
        case .systemEvent:
            break
        case .replaced, .brokenTrade, .cancelPending, .orderModified:
            unexpected()
        }
    }

    /// The order a token names, if it is one of this run's and its slot still holds it.
    @inline(__always)
    func order(_ token: OrderToken) -> UnsafeMutablePointer<LoadOrder>? {
        guard let number = codec.number(token) else { return nil }
        let slot = orders + Int(truncatingIfNeeded: number & tableMask)
        return slot.pointee.number == number && slot.pointee.phase != .free ? slot : nil
    }

    /// The order has no shares left: free its slot, unless a cancel's answer is still due.
    @inline(__always)
    func finish(_ slot: UnsafeMutablePointer<LoadOrder>) {
        if slot.pointee.phase == .resting { liveResting -= 1 }
        slot.pointee.phase = slot.pointee.cancelPending ? .finishing : .free
    }

    @inline(__always)
    func unexpected() {
        tally.unexpected += 1
    }

    /// After the connection was lost (`error`): with a failover policy, fails over to the next
    /// address and resumes the session from `expectedSequence` (the new primary replays what
    /// this connection had not received). Requests in flight are counted; the replay answers
    /// those the new primary has, and the first answer to a request sent after the failover
    /// settles the rest as of unknown outcome (`settleFailover`). False when there is no
    /// policy or the failover failed (`failure` then holds why).
    func failOver(after error: ClientError) -> Bool {
        guard client.failover != nil else { return false }
        client.nextSequence = expectedSequence
        do throws(ClientError) {
            try client.failOver(after: error)
        } catch {
            failure = error
            return false
        }
        connection = client.connection
        if settling { settleFailover() }
        tally.failovers += 1
        tally.inFlightAtFailover += outstanding
        failoverNumber = nextNumber
        settling = outstanding > 0
        return true
    }

    /// Requests in flight at the last failover that are still unanswered once the new primary
    /// answered a later one, or sent a Server Heartbeat (its replay is over either way), were
    /// never journaled there: their outcome on
    /// the old primary is unknown. Counted (`unknownOutcome`), and forgotten: an order entering
    /// is freed, a cancel no longer awaited (its order is taken as still resting).
    func settleFailover() {
        settling = false
        for i in 0..<Self.tableCapacity where orders[i].number < failoverNumber {
            let slot = orders + i
            if slot.pointee.phase == .entering {
                if !slot.pointee.isTaker { pendingRests -= 1 }
                slot.pointee.phase = .free
                outstanding -= 1
                tally.unknownOutcome += 1
            } else if slot.pointee.cancelPending && slot.pointee.phase != .free {
                slot.pointee.cancelPending = false
                if slot.pointee.phase == .finishing { slot.pointee.phase = .free }
                outstanding -= 1
                tally.unknownOutcome += 1
            }
        }
    }

    /// The counts, with the end state (outstanding, resting, unfinished takers).
    func finalTally() -> LoadTally {
        var t = tally
        for code in 0..<256 {
            if rejectCounts[code] > 0 { t.rejectsByReason[UInt8(code)] = rejectCounts[code] }
            if cancelCounts[code] > 0 { t.canceledByReason[UInt8(code)] = cancelCounts[code] }
        }
        t.outstanding = outstanding
        t.resting = liveResting
        for i in 0..<Self.tableCapacity where orders[i].phase == .taking { t.unfinished += 1 }
        return t
    }
}
