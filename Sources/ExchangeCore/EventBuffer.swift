/// The engine's output: events of the command in progress, drained by the caller after
/// every `process`/`resume` call. Fixed capacity; the engine checks for room before each
/// step that emits and pauses the command (`ProcessStatus.suspended`) when there is none.
@usableFromInline
struct EventBuffer {
    @usableFromInline let storage: UnsafeMutablePointer<EngineEvent>
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0

    init(storage: UnsafeMutablePointer<EngineEvent>, capacity: Int) {
        self.storage = storage
        self.capacity = capacity
    }

    /// Most events one step of any loop emits (a self-trade decrement: two cancels and a
    /// book reduce), plus the events that close a command (accepted, cancel, book add).
    @usableFromInline static let reserve = 8

    @inline(__always) var hasRoomForStep: Bool { capacity - count >= EventBuffer.reserve }

    @inline(__always) mutating func emit(_ event: EngineEvent) {
        precondition(count < capacity, "engine event buffer overflow: a step emitted without checking for room")
        storage[count] = event
        count &+= 1
    }
}

/// Symbol → instrument index, open addressing over a small power-of-two table.
@usableFromInline
struct SymbolDirectory {
    @usableFromInline let keys: UnsafeMutablePointer<UInt64>
    @usableFromInline let values: UnsafeMutablePointer<UInt64>
    @usableFromInline let mask: Int

    init(storage: UnsafeMutableRawPointer, slots: Int, instruments: [InstrumentSpec]) {
        keys = storage.bindMemory(to: UInt64.self, capacity: 2 * slots)
        values = keys + slots
        mask = slots - 1
        for i in 0..<slots { keys[i] = 0; values[i] = 0 }
        for (index, spec) in instruments.enumerated() {
            var i = SymbolDirectory.home(spec.symbol, mask: mask)
            while keys[i] != 0 { i = (i + 1) & mask }
            keys[i] = spec.symbol.rawValue
            values[i] = UInt64(index) + 1
        }
    }

    @inline(__always) static func home(_ symbol: Symbol, mask: Int) -> Int {
        Int(truncatingIfNeeded: (symbol.rawValue &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    @inline(__always) func instrument(for symbol: Symbol) -> InstrumentIndex? {
        var i = SymbolDirectory.home(symbol, mask: mask)
        while keys[i] != 0 {
            if keys[i] == symbol.rawValue { return InstrumentIndex(truncatingIfNeeded: values[i] - 1) }
            i = (i + 1) & mask
        }
        return nil
    }
}

/// What the engine has done, as plain counters an external reader can copy.
public struct EngineCounters: Sendable, Equatable {
    public var commands: UInt64 = 0
    public var ordersAccepted: UInt64 = 0
    public var ordersReplaced: UInt64 = 0
    public var ordersCanceled: UInt64 = 0
    public var ordersExpired: UInt64 = 0
    public var ordersModified: UInt64 = 0
    public var rejects: UInt64 = 0
    public var cancelRejects: UInt64 = 0
    public var executions: UInt64 = 0
    public var sharesExecuted: UInt64 = 0
    public var selfTradesPrevented: UInt64 = 0
    public var events: UInt64 = 0
    /// Times a command paused because the event buffer was full.
    public var suspensions: UInt64 = 0
    public var restingOrders: UInt64 = 0
    public var peakRestingOrders: UInt64 = 0

    public init() {}
}
