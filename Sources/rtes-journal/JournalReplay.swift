import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeRisk
import Glibc

/// One replay of a journal through an engine: every record in order, each command run to
/// completion as the engine agent runs it (process, then resume while suspended, clearing the
/// events before each call), counting the commands and the events by kind.
struct JournalReplay {
    /// The event kinds counted, in `EngineEvent`'s case order, by the names printed.
    static let eventKinds = [
        "accepted", "rejected", "replaced", "canceled", "modified", "cancel_rejected", "executed",
        "book_add", "book_reduce", "book_replace", "trading_state", "system_event",
        "phase_changed", "market_event", "imbalance", "cross_fill", "cross_completed",
        "limit_state", "auction_collar",
    ]

    /// Records replayed, and the sequences of the first and the last.
    var records = 0
    var firstSequence: UInt64?
    var lastSequence: UInt64?
    /// Commands per kind, indexed by `JournalRecord.Kind.rawValue`.
    var commands: [Int]
    /// Events per kind, indexed like `eventKinds`.
    var events: [Int]
    /// Wall time of the replay loop (reading and decoding the records included).
    var nanoseconds: UInt64 = 0
    /// The torn tail that ended the journal, if one did (the records before it were replayed).
    var tornTail: JournalTornTail?

    /// Records read ahead of the one being processed (a power of two).
    static let lookahead = 8

    /// Commands per second over the replay loop.
    var commandsPerSecond: Double {
        nanoseconds == 0 ? 0 : Double(records) / (Double(nanoseconds) / 1e9)
    }

    /// Replays `reader`'s records from its first, up to and including sequence `to` (every
    /// record when nil), into `engine`. Throws the corruption the cursor meets; what was
    /// replayed before it is in `partial`.
    static func run(_ reader: JournalReader, to: UInt64?, into engine: inout RiskCheckedEngine,
                    partial: inout JournalReplay) throws(JournalError) {
        let commandCounts = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        commandCounts.initialize(repeating: 0, count: 256)
        let eventCounts = UnsafeMutablePointer<Int>.allocate(capacity: eventKinds.count)
        eventCounts.initialize(repeating: 0, count: eventKinds.count)
        defer {
            commandCounts.deallocate()
            eventCounts.deallocate()
        }
        let last = to ?? .max
        var cursor = reader.records(from: 0)
        var records = 0
        let start = monotonicNanoseconds()
        defer {
            partial.nanoseconds = monotonicNanoseconds() &- start
            partial.records = records
            partial.commands = Array(UnsafeBufferPointer(start: commandCounts, count: JournalRecord.Kind.rawValueSlots))
            partial.events = Array(UnsafeBufferPointer(start: eventCounts, count: eventKinds.count))
            partial.tornTail = cursor.tornTail
        }
        // The next `lookahead` records are read ahead and prefetched (`prefetch`: their
        // order's token slot and book), as `runBatch` and the engine agent do: replay is
        // otherwise bound by those cache misses. Damage met reading ahead is thrown once the
        // records before it have been replayed.
        let window = UnsafeMutablePointer<SequencedCommand>.allocate(capacity: Self.lookahead)
        defer { window.deallocate() }
        var head = 0
        var ahead = 0
        var exhausted = false
        var damage: JournalError?
        while true {
            while ahead < Self.lookahead && !exhausted {
                do {
                    if let record = try cursor.next(), record.sequence <= last {
                        window[(head &+ ahead) & (Self.lookahead &- 1)] = record
                        ahead &+= 1
                        engine.prefetch(record.command)
                    } else {
                        exhausted = true
                    }
                } catch {
                    damage = error
                    exhausted = true
                }
            }
            if ahead == 0 { break }
            let record = window[head]
            head = (head &+ 1) & (Self.lookahead &- 1)
            ahead &-= 1
            if partial.firstSequence == nil { partial.firstSequence = record.sequence }
            partial.lastSequence = record.sequence
            records &+= 1
            commandCounts[Int(JournalRecord.Kind(record.command).rawValue)] &+= 1
            engine.clearEvents()
            var status = engine.process(record.command)
            count(engine.events, into: eventCounts)
            while status == .suspended {
                engine.clearEvents()
                status = engine.resume()
                count(engine.events, into: eventCounts)
            }
        }
        engine.clearEvents()
        if let damage { throw damage }
    }

    init() {
        commands = Array(repeating: 0, count: JournalRecord.Kind.rawValueSlots)
        events = Array(repeating: 0, count: Self.eventKinds.count)
    }

    @inline(__always)
    static func count(_ events: UnsafeBufferPointer<EngineEvent>, into counts: UnsafeMutablePointer<Int>) {
        for event in events {
            let kind: Int
            switch event {
            case .accepted: kind = 0
            case .rejected: kind = 1
            case .replaced: kind = 2
            case .canceled: kind = 3
            case .modified: kind = 4
            case .cancelRejected: kind = 5
            case .executed: kind = 6
            case .bookAdd: kind = 7
            case .bookReduce: kind = 8
            case .bookReplace: kind = 9
            case .tradingState: kind = 10
            case .systemEvent: kind = 11
            case .phaseChanged: kind = 12
            case .marketEvent: kind = 13
            case .imbalance: kind = 14
            case .crossFill: kind = 15
            case .crossCompleted: kind = 16
            case .limitState: kind = 17
            case .auctionCollar: kind = 18
            }
            counts[kind] &+= 1
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
