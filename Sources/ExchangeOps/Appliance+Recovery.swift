import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeRisk
import Foundation

/// What replaying the day's journal came to.
struct DayReplay {
    var records = 0
    /// The last start or end of day the journal holds (nil: none yet).
    var lastDayEvent: DayEvent?
    /// The highest fencing token of the leadership records replayed (0: none).
    var epoch: Int64 = 0
    var nanoseconds: UInt64 = 0

    var milliseconds: UInt64 { nanoseconds / 1_000_000 }
    var commandsPerSecond: UInt64 { nanoseconds == 0 ? 0 : UInt64(Double(records) * 1e9 / Double(nanoseconds)) }
}

extension Appliance {
    /// Replays every journaled command of the day, in order, through the engine exactly as the
    /// engine agent ran it, and hands each event to the sessions (`replayOrderEvent`: the
    /// session logs, their sequence numbers and the tokens of the day) and to the feed
    /// (`feed`: market data's sequence, history and books), sending nothing. The engine is
    /// deterministic, so this rebuilds the state before the crash exactly; the state hash the
    /// start-up log prints is the one `rtes-journal replay` prints for the same journal.
    /// `snapshot`: the day snapshot already restored (`restoreDaySnapshot`); the records after
    /// the sequence it covers are replayed. Nil: the whole day.
    static func replayDay(
        _ reader: JournalReader, after snapshot: DaySnapshot.Loaded? = nil, engine: inout RiskCheckedEngine,
        gateway: inout GatewayAgent<TSCClock>, feed: (EngineEvent) -> Void
    ) throws -> DayReplay {
        var replay = DayReplay()
        replay.lastDayEvent = snapshot?.lastDayEvent
        let started = DispatchTime.now().uptimeNanoseconds
        var cursor = reader.records(from: snapshot.map { $0.coveredSequence &+ 1 } ?? 0)
        func route(_ engine: inout RiskCheckedEngine) {
            for event in engine.events {
                if event.isOrderEvent { gateway.replayOrderEvent(event) }
                if event.isBookEvent { feed(event) }
            }
            engine.clearEvents()
        }
        do {
            while let record = try cursor.next() {
                let command = record.command
                gateway.replayCommand(command)
                var status = engine.process(command)
                route(&engine)
                while status == .suspended {
                    status = engine.resume()
                    route(&engine)
                }
                switch command {
                case .startOfDay: replay.lastDayEvent = .startOfDay
                case .endOfDay: replay.lastDayEvent = .endOfDay
                case .leadership(let term): replay.epoch = max(replay.epoch, term.token)
                default: break
                }
                replay.records &+= 1
            }
        } catch {
            throw ApplianceError("the journal in \(reader.directory) cannot be recovered: replaying it failed after "
                + "\(replay.records) commands: \(error). "
                + "Nothing was changed. Inspect it with `rtes-journal verify \(reader.directory)`; to start a new day instead, "
                + "start with --new-day (the journal is kept aside)")
        }
        replay.nanoseconds = DispatchTime.now().uptimeNanoseconds &- started
        return replay
    }
}
