import ExchangeClock
import ExchangeCore
import ExchangeWire

/// Which sessions an order event speaks to, and the OUCH message it says to each: the one
/// routing and encoding the live gateway (`GatewayAgent.route`), recovery
/// (`replayOrderEvent`, through `route`) and the journal archive (regenerating a session's
/// old messages, `SessionArchive`) share, so that what the archive regenerates is byte for
/// byte what went out live.
///
/// An event has up to two parts: an execution speaks to the taker (part 0) and the maker
/// (part 1); a System Event speaks to every session (`everySession`); every other order
/// event to its client. Book events have none. Pure: no state, no allocation.
public enum SessionRouting {
    /// One message of an event: who it is for, and its length at `out`.
    public struct Message: Equatable {
        /// The client it goes to (ignored when `everySession`).
        public var client: ClientID
        public var length: Int
        /// A System Event: the same message goes to every account's session, in account order.
        public var everySession: Bool

        @inlinable
        public init(client: ClientID, length: Int, everySession: Bool) {
            self.client = client
            self.length = length
            self.everySession = everySession
        }
    }

    /// Encodes part `part` of `event` at `out` (at least `OUCH.maximumOutboundLength` bytes)
    /// and says where it goes; nil when the event has no such part.
    @inlinable
    public static func encode(
        _ event: EngineEvent, part: Int, symbols: UnsafePointer<Symbol>, symbolCount: Int, to out: UnsafeMutableRawPointer
    ) -> Message? {
        @inline(__always)
        func symbol(_ instrument: InstrumentIndex) -> Symbol {
            Int(instrument) < symbolCount ? symbols[Int(instrument)] : Symbol(rawValue: 0x2020_2020_2020_2020)
        }
        switch event {
        case .executed(let e):
            if part == 0 { return Message(client: e.takerClient, length: OUCHOutbound.executed(e, as: .taker, to: out), everySession: false) }
            if part == 1 { return Message(client: e.makerClient, length: OUCHOutbound.executed(e, as: .maker, to: out), everySession: false) }
            return nil
        case .crossFill(let e):
            if part == 0 { return Message(client: e.buy.client, length: OUCHOutbound.crossExecuted(e, buySide: true, to: out), everySession: false) }
            if part == 1 { return Message(client: e.sell.client, length: OUCHOutbound.crossExecuted(e, buySide: false, to: out), everySession: false) }
            return nil
        case .bookAdd, .bookReduce, .bookReplace, .tradingState, .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            return nil
        default:
            break
        }
        guard part == 0 else { return nil }
        switch event {
        case .accepted(let e):
            return Message(client: e.client, length: OUCHOutbound.accepted(e, symbol: symbol(e.instrument), to: out), everySession: false)
        case .rejected(let e):
            return Message(client: e.client, length: OUCHOutbound.rejected(e, to: out), everySession: false)
        case .replaced(let e):
            return Message(client: e.client, length: OUCHOutbound.replaced(e, symbol: symbol(e.instrument), to: out), everySession: false)
        case .canceled(let e):
            return Message(client: e.client, length: OUCHOutbound.canceled(e, to: out), everySession: false)
        case .modified(let e):
            return Message(client: e.client, length: OUCHOutbound.modified(e, to: out), everySession: false)
        case .cancelRejected(let e):
            return Message(client: e.client, length: OUCHOutbound.cancelRejected(e, to: out), everySession: false)
        case .systemEvent(let e):
            // The start or end of the day: a System Event in every account's session.
            let code = e.event == .startOfDay ? OUCH.SystemEventCode.startOfDay : OUCH.SystemEventCode.endOfDay
            let timestamp = e.timestamp % Clocks.nanosecondsPerDay
            return Message(client: 0, length: OUCHOutbound.systemEvent(timestamp: timestamp, eventCode: code, to: out), everySession: true)
        case .executed, .bookAdd, .bookReduce, .bookReplace, .tradingState,
             .phaseChanged, .marketEvent, .imbalance, .crossFill, .crossCompleted, .limitState, .auctionCollar:
            return nil
        }
    }
}
