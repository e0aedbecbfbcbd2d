import ExchangeCore

/// A 64-bit fingerprint of an event stream over every field of every event, in order:
/// two runs with equal digests produced the same events. Cheap enough (a few ns per event)
/// to run alongside the engine, unlike comparing descriptions.
public struct EventDigest: Equatable, Sendable {
    public private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3
    public private(set) var count = 0

    public init() {}

    public init<C: Collection>(_ events: C) where C.Element == EngineEvent { add(events) }

    public mutating func add<C: Collection>(_ events: C) where C.Element == EngineEvent {
        for event in events { add(event) }
    }

    @inline(__always)
    private mutating func mix(_ x: UInt64) {
        value = (value ^ x) &* 0x9E37_79B9_7F4A_7C15
        value ^= value >> 29
    }

    @inline(__always)
    private mutating func mix(_ token: OrderToken) {
        mix(token.high)
        mix(token.low)
    }

    @inline(__always)
    private mutating func mix(_ bytes: UInt8...) {
        var packed: UInt64 = 0
        for b in bytes { packed = packed << 8 | UInt64(b) }
        mix(packed)
    }

    public mutating func add(_ event: EngineEvent) {
        count += 1
        mix(event.timestamp)
        switch event {
        case .accepted(let e):
            mix(1, e.side.rawValue, e.orderType.rawValue, e.display.rawValue, e.capacity.rawValue, e.intermarketSweep.rawValue, e.crossType.rawValue, e.state.rawValue)
            mix(UInt64(e.client) << 32 | UInt64(e.instrument))
            mix(e.token)
            mix(e.reference)
            mix(UInt64(e.shares) << 32 | UInt64(e.price))
            mix(UInt64(e.timeInForce.rawValue) << 32 | UInt64(e.firm.rawValue))
            mix(UInt64(e.minimumQuantity))
        case .rejected(let e):
            mix(2, e.reason.rawValue)
            mix(UInt64(e.client))
            mix(e.token)
        case .replaced(let e):
            mix(3, e.side.rawValue, e.display.rawValue, e.capacity.rawValue, e.intermarketSweep.rawValue, e.crossType.rawValue, e.state.rawValue)
            mix(UInt64(e.client) << 32 | UInt64(e.instrument))
            mix(e.token)
            mix(e.previousToken)
            mix(e.reference)
            mix(e.previousReference)
            mix(UInt64(e.shares) << 32 | UInt64(e.price))
            mix(UInt64(e.timeInForce.rawValue) << 32 | UInt64(e.firm.rawValue))
            mix(UInt64(e.minimumQuantity))
        case .canceled(let e):
            mix(4, e.reason.rawValue)
            mix(UInt64(e.client) << 32 | UInt64(e.instrument))
            mix(e.token)
            mix(e.reference)
            mix(UInt64(e.decrement) << 32 | UInt64(e.remaining))
        case .modified(let e):
            mix(5, e.side.rawValue)
            mix(UInt64(e.client) << 32 | UInt64(e.shares))
            mix(e.token)
        case .cancelRejected(let e):
            mix(6, e.reason.rawValue)
            mix(UInt64(e.client))
            mix(e.token)
        case .executed(let e):
            mix(7, e.takerSide.rawValue, e.makerSide.rawValue, e.makerDisplay.rawValue)
            mix(UInt64(e.instrument) << 32 | UInt64(e.shares))
            mix(UInt64(e.price))
            mix(e.matchNumber)
            mix(UInt64(e.takerClient) << 32 | UInt64(e.makerClient))
            mix(e.takerToken)
            mix(e.makerToken)
            mix(e.takerReference)
            mix(e.makerReference)
        case .bookAdd(let e):
            mix(8, e.side.rawValue, e.attribution == nil ? 0 : 1)
            mix(UInt64(e.instrument) << 32 | UInt64(e.attribution?.rawValue ?? 0))
            mix(e.reference)
            mix(UInt64(e.shares) << 32 | UInt64(e.price))
        case .bookReduce(let e):
            mix(9)
            mix(UInt64(e.instrument))
            mix(e.reference)
            mix(UInt64(e.canceledShares) << 32 | UInt64(e.remaining))
        case .bookReplace(let e):
            mix(10)
            mix(UInt64(e.instrument))
            mix(e.previousReference)
            mix(e.reference)
            mix(UInt64(e.shares) << 32 | UInt64(e.price))
        case .tradingState(let e):
            mix(11, e.halted ? 1 : 0)
            mix(UInt64(e.instrument))
        case .systemEvent(let e):
            mix(12, e.event.rawValue)
        case .phaseChanged(let e):
            mix(13, e.previous.rawValue, e.phase.rawValue)
            mix(UInt64(e.instrument))
            // Only an LULD pause's reason, so digests without LULD are unchanged.
            if e.reason != .command { mix(18, e.reason.rawValue) }
        case .marketEvent(let e):
            mix(14, e.code.rawValue)
        case .imbalance(let e):
            mix(15, e.direction.rawValue, e.cross.rawValue)
            mix(UInt64(e.instrument) << 32 | UInt64(e.price))
            mix(e.pairedShares)
            mix(e.imbalanceShares)
            mix(UInt64(e.referencePrice))
        case .crossFill(let e):
            mix(16, e.cross.rawValue, e.buy.side.rawValue, e.sell.side.rawValue, e.buy.display.rawValue, e.sell.display.rawValue,
                e.buy.onBook ? 1 : 0, e.sell.onBook ? 1 : 0)
            mix(UInt64(e.instrument) << 32 | UInt64(e.shares))
            mix(UInt64(e.price))
            mix(e.matchNumber)
            mix(UInt64(e.buy.client) << 32 | UInt64(e.sell.client))
            mix(e.buy.token)
            mix(e.sell.token)
            mix(e.buy.reference)
            mix(e.sell.reference)
        case .crossCompleted(let e):
            mix(17, e.cross.rawValue)
            mix(UInt64(e.instrument) << 32 | UInt64(e.price))
            mix(e.shares)
            mix(e.matchNumber)
        case .limitState(let e):
            mix(19, e.state.rawValue)
            mix(UInt64(e.instrument) << 32 | UInt64(e.lowerBand))
            mix(UInt64(e.upperBand))
        case .auctionCollar(let e):
            mix(20)
            mix(UInt64(e.instrument) << 32 | UInt64(e.referencePrice))
            mix(UInt64(e.upperPrice) << 32 | UInt64(e.lowerPrice))
            mix(UInt64(e.extensions))
        }
    }
}
