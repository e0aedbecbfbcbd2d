import ExchangeCore
import Glibc
import Synchronization

/// How the admin plane sees an order book without touching the engine's state: it leaves
/// a request in a shared slot; the engine agent, between batches, writes the book's depth
/// into the slot's response area and publishes the request's sequence number.
///
/// Layout (one region, `OrderBookSnapshots.requiredBytes(maxLevels:)`):
///
/// | offset | cell |
/// |---|---|
/// | 0 | request sequence (written by the admin side, release) |
/// | 8 | instrument, 16 levels wanted |
/// | 128 | response sequence (written by the engine, release) |
/// | 136 | status (0 ok, 1 unknown instrument), bid count, ask count, last trade, halted, phase |
/// | 256 | `maxLevels` bid levels, then `maxLevels` ask levels (`DepthLevel`) |
public enum OrderBookSnapshots {
    static let requestSequence = 0
    static let requestInstrument = 8
    static let requestLevels = 16
    static let responseSequence = 128
    static let responseStatus = 136
    static let responseBids = 144
    static let responseAsks = 152
    static let responseLastTrade = 160
    static let responseHalted = 168
    static let responsePhase = 176
    static let levelsOffset = 256

    public static func requiredBytes(maxLevels: Int) -> Int {
        levelsOffset + 2 * maxLevels * MemoryLayout<DepthLevel>.stride
    }
}

/// The engine agent's side: answers at most one pending request per call.
public struct OrderBookSnapshotServer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    public let maxLevels: Int

    public init(base: UnsafeMutableRawPointer, maxLevels: Int) {
        self.base = base
        self.maxLevels = maxLevels
    }

    @inline(__always)
    func atomic(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    /// Serves a pending request, if any. Walks at most `2 × maxLevels` levels; allocates nothing.
    @inline(__always)
    public func serveOne(engine: borrowing MatchingEngine) -> Bool {
        let request = atomic(OrderBookSnapshots.requestSequence).pointee.load(ordering: .acquiring)
        guard request != atomic(OrderBookSnapshots.responseSequence).pointee.load(ordering: .relaxed) else { return false }
        let instrument = atomic(OrderBookSnapshots.requestInstrument).pointee.load(ordering: .relaxed)
        let wanted = min(Int(atomic(OrderBookSnapshots.requestLevels).pointee.load(ordering: .relaxed)), maxLevels)
        if instrument >= UInt64(engine.instrumentCount) {
            atomic(OrderBookSnapshots.responseStatus).pointee.store(1, ordering: .relaxed)
        } else {
            let index = InstrumentIndex(instrument)
            let levels = (base + OrderBookSnapshots.levelsOffset).assumingMemoryBound(to: DepthLevel.self)
            let bids = engine.writeDepth(instrument: index, side: .bid, into: UnsafeMutableBufferPointer(start: levels, count: wanted))
            let asks = engine.writeDepth(instrument: index, side: .ask, into: UnsafeMutableBufferPointer(start: levels + maxLevels, count: wanted))
            atomic(OrderBookSnapshots.responseStatus).pointee.store(0, ordering: .relaxed)
            atomic(OrderBookSnapshots.responseBids).pointee.store(UInt64(bids), ordering: .relaxed)
            atomic(OrderBookSnapshots.responseAsks).pointee.store(UInt64(asks), ordering: .relaxed)
            atomic(OrderBookSnapshots.responseLastTrade).pointee.store(UInt64(engine.lastTradePrice(of: index) ?? 0), ordering: .relaxed)
            atomic(OrderBookSnapshots.responseHalted).pointee.store(engine.isHalted(index) ? 1 : 0, ordering: .relaxed)
            atomic(OrderBookSnapshots.responsePhase).pointee.store(UInt64(engine.phase(of: index).rawValue), ordering: .relaxed)
        }
        atomic(OrderBookSnapshots.responseSequence).pointee.store(request, ordering: .releasing)
        return true
    }
}

/// One order book's depth as the engine saw it.
public struct OrderBookSnapshot: Sendable, Equatable {
    public var bids: [DepthLevel]
    public var asks: [DepthLevel]
    public var lastTrade: Price?
    /// The operator's halt (`haltInstrument`: orders refused).
    public var halted: Bool
    /// Where the instrument is in its trading day.
    public var phase: TradingPhase = .continuous
}

/// The admin plane's side. Requests are serialized by a lock (the admin plane may serve
/// several HTTP connections); waiting polls with short sleeps and gives up after a timeout,
/// so a stopped engine never hangs a request.
public final class OrderBookSnapshotClient: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let maxLevels: Int
    private let lock = Mutex<UInt64>(0)

    public init(base: UnsafeMutableRawPointer, maxLevels: Int) {
        self.base = base
        self.maxLevels = maxLevels
    }

    private func atomic(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    public enum Failure: Error, Equatable { case unknownInstrument, timedOut }

    /// Asks the engine for `levels` levels per side of `instrument`.
    public func snapshot(instrument: InstrumentIndex, levels: Int, timeoutMilliseconds: Int = 2_000) -> Result<OrderBookSnapshot, Failure> {
        lock.withLock { sequence -> Result<OrderBookSnapshot, Failure> in
            sequence &+= 1
            atomic(OrderBookSnapshots.requestInstrument).pointee.store(UInt64(instrument), ordering: .relaxed)
            atomic(OrderBookSnapshots.requestLevels).pointee.store(UInt64(max(0, min(levels, maxLevels))), ordering: .relaxed)
            atomic(OrderBookSnapshots.requestSequence).pointee.store(sequence, ordering: .releasing)
            var waited = 0
            while atomic(OrderBookSnapshots.responseSequence).pointee.load(ordering: .acquiring) != sequence {
                if waited >= timeoutMilliseconds * 10 { return .failure(.timedOut) }
                usleep(100)
                waited += 1
            }
            if atomic(OrderBookSnapshots.responseStatus).pointee.load(ordering: .relaxed) != 0 { return .failure(.unknownInstrument) }
            let levels = (base + OrderBookSnapshots.levelsOffset).assumingMemoryBound(to: DepthLevel.self)
            let bids = Int(atomic(OrderBookSnapshots.responseBids).pointee.load(ordering: .relaxed))
            let asks = Int(atomic(OrderBookSnapshots.responseAsks).pointee.load(ordering: .relaxed))
            let last = Price(atomic(OrderBookSnapshots.responseLastTrade).pointee.load(ordering: .relaxed))
            return .success(OrderBookSnapshot(
                bids: Array(UnsafeBufferPointer(start: levels, count: bids)),
                asks: Array(UnsafeBufferPointer(start: levels + maxLevels, count: asks)),
                lastTrade: last == 0 ? nil : last,
                halted: atomic(OrderBookSnapshots.responseHalted).pointee.load(ordering: .relaxed) != 0,
                phase: TradingPhase(rawValue: UInt8(truncatingIfNeeded: atomic(OrderBookSnapshots.responsePhase).pointee.load(ordering: .relaxed))) ?? .continuous))
        }
    }
}
