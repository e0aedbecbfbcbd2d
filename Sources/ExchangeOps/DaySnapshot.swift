import ExchangeCore
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
import ExchangeRisk
import ExchangeWire
import Glibc

/// A day snapshot: everything needed to continue the trading day after the journal record of
/// sequence S without replaying the records before it. One `SnapshotFile`
/// (`snapshot-<S, 20 digits>.rtsnap` in the day's journal directory, published atomically:
/// temporary file, fdatasync, rename, directory fsync) with the sections
///
/// | section | what |
/// |---|---|
/// | `day` | the trading day's name and its last start or end of day (below) |
/// | `engine` | the matching engine (`MatchingEngine+Snapshot.swift`) |
/// | `risk` | the risk layer (`RiskCheckedEngine+Snapshot.swift`) |
/// | `gateway` | each session's next sequence, the day's tokens (`GatewayDayState`) |
/// | `market-data` | the MoldUDP64 next sequence, the opening/closing phase, the book replica (`FeedDayState`); absent when market data is disabled |
/// | `fix` | the FIX sessions and drop copies (FIXPort+DayState.swift, ExchangeGateway); absent when the replica keeps no FIX state |
///
/// The `day` section: `0: 4` version 1, `4: 1` last day event (0 none, 1 start of day, 2
/// end of day), `5: 3` zero, `8: 16` the trading day, ASCII, space-padded. The file's header
/// holds S and the engine's state hash (`RiskCheckedEngine.stateHash()`), which a restore
/// checks. docs/DURABILITY.md, "Day snapshots".
public enum DaySnapshot {
    public static let daySection = "day"
    public static let engineSection = "engine"
    public static let riskSection = "risk"
    public static let gatewaySection = "gateway"
    public static let feedSection = "market-data"
    public static let fixSection = "fix"

    /// What writing one took.
    public struct Written: Sendable {
        public var path: String
        public var coveredSequence: UInt64
        public var bytes: Int
        public var nanoseconds: UInt64
    }

    /// Writes the day snapshot of `replica` (its state after its last record) into
    /// `directory` and publishes it.
    public static func write(_ replica: borrowing DayReplica, day: String, directory: String) throws(DaySnapshotError) -> Written {
        let started = monotonicNanoseconds()
        let covered = replica.sequence
        let dayBytes = encodeDay(day: day, lastDayEvent: replica.lastDayEvent)
        let gateway = replica.gatewayState().encoded()
        let feed = replica.feedState()?.encoded()
        let fix = replica.fix.enabled ? replica.fix.encoded() : nil
        do throws(SnapshotFileError) {
            let writer = try SnapshotFileWriter(directory: directory, coveredSequence: covered, stateHash: replica.engine.stateHash(),
                                                createdAt: realtimeNanoseconds())
            try writer.section(daySection, bytes: dayBytes)
            try writer.section(engineSection) { sink in try replica.engine.writeEngineSnapshot(to: sink) }
            try writer.section(riskSection) { sink in try replica.engine.writeRiskSnapshot(to: sink) }
            try writer.section(gatewaySection, bytes: gateway)
            if let feed { try writer.section(feedSection, bytes: feed) }
            if let fix { try writer.section(fixSection, bytes: fix) }
            let path = try writer.publish()
            var status = Glibc.stat()
            let size = stat(path, &status) == 0 ? Int(status.st_size) : 0
            return Written(path: path, coveredSequence: covered, bytes: size, nanoseconds: monotonicNanoseconds() &- started)
        } catch {
            throw DaySnapshotError(path: directory + "/" + SnapshotDirectory.fileName(coveredSequence: covered), reason: "\(error)")
        }
    }

    /// A day snapshot read and checked, its sections decoded (the engine's and the risk
    /// layer's are checked when restored).
    public struct Loaded: @unchecked Sendable {
        public let file: SnapshotFile
        public let day: String
        public let lastDayEvent: DayEvent?
        public let gateway: GatewayDayState
        /// Nil when the snapshot has no `market-data` section.
        public let feed: FeedDayState?
        public var engineBytes: UnsafeRawBufferPointer { file.section(engineSection)! }
        public var riskBytes: UnsafeRawBufferPointer { file.section(riskSection)! }
        /// The `fix` section (FIX sessions' state), nil when the snapshot has none.
        public var fixBytes: UnsafeRawBufferPointer? { file.section(fixSection) }
        public var coveredSequence: UInt64 { file.coveredSequence }
    }

    /// Reads and checks the snapshot at `path` as a day snapshot of `day`.
    public static func load(path: String, day: String, needsFeed: Bool) throws(DaySnapshotError) -> Loaded {
        let file: SnapshotFile
        do throws(SnapshotFileError) {
            file = try SnapshotFile.read(path: path)
        } catch {
            throw DaySnapshotError(path: path, reason: "\(error)")
        }
        return try check(file, day: day, needsFeed: needsFeed)
    }

    static func check(_ file: SnapshotFile, day: String, needsFeed: Bool) throws(DaySnapshotError) -> Loaded {
        func fail(_ reason: String) -> DaySnapshotError { DaySnapshotError(path: file.path, reason: reason) }
        for name in [daySection, engineSection, riskSection, gatewaySection] where file.section(name) == nil {
            throw fail("it has no \(name) section (not a day snapshot)")
        }
        guard let dayBytes = file.section(daySection), dayBytes.count == 24,
              UInt32(littleEndian: dayBytes.loadUnaligned(as: UInt32.self)) == 1, dayBytes[4] <= 2 else {
            throw fail("its day section does not decode")
        }
        let name = String(decoding: dayBytes[8..<24], as: UTF8.self).trimmingSpaces()
        guard name == day else { throw fail("it is a snapshot of \(name), not of \(day)") }
        let lastDayEvent: DayEvent? = dayBytes[4] == 0 ? nil : dayBytes[4] == 1 ? .startOfDay : .endOfDay
        let gateway: GatewayDayState
        switch GatewayDayState.decode(file.section(gatewaySection)!) {
        case .success(let state): gateway = state
        case .failure(let error): throw fail(error.description)
        }
        var feed: FeedDayState?
        if let bytes = file.section(feedSection) {
            switch FeedDayState.decode(bytes) {
            case .success(let state): feed = state
            case .failure(let error): throw fail(error.description)
            }
        } else if needsFeed {
            throw fail("it has no market-data section and market data is enabled")
        }
        return Loaded(file: file, day: name, lastDayEvent: lastDayEvent, gateway: gateway, feed: feed)
    }

    /// The newest snapshot in `directory` that reads back whole as a day snapshot of `day` and
    /// covers a sequence in `covers` (the journal holds the records after it), falling back
    /// past the others; each one passed over is returned with why, newest first.
    /// `accounts` and `instruments`: what the exchange has now; a snapshot of others is passed over.
    public static func newestUsable(in directory: String, day: String, needsFeed: Bool, covers: ClosedRange<UInt64>,
                                    accounts: Int, instruments: Int)
        -> (snapshot: Loaded?, rejected: [(path: String, reason: String)]) {
        var rejected: [(path: String, reason: String)] = []
        let candidates: [(coveredSequence: UInt64, path: String)]
        do throws(SnapshotFileError) {
            candidates = try SnapshotDirectory.list(directory)
        } catch {
            return (nil, [(directory, "cannot list snapshots: \(error)")])
        }
        for candidate in candidates.reversed() {
            guard covers.contains(candidate.coveredSequence) else {
                rejected.append((candidate.path, "it covers sequence \(candidate.coveredSequence), outside "
                    + "\(covers.lowerBound)…\(covers.upperBound) (the journal must hold every record after it and reach it)"))
                continue
            }
            do throws(DaySnapshotError) {
                let loaded = try load(path: candidate.path, day: day, needsFeed: needsFeed)
                guard loaded.coveredSequence == candidate.coveredSequence else {
                    throw DaySnapshotError(path: candidate.path, reason: "its header covers sequence \(loaded.coveredSequence), its name \(candidate.coveredSequence)")
                }
                guard loaded.gateway.nextSequences.count == accounts else {
                    throw DaySnapshotError(path: candidate.path, reason: "it has \(loaded.gateway.nextSequences.count) accounts, the API keys file \(accounts)")
                }
                if needsFeed, let feed = loaded.feed, feed.halted.count != instruments {
                    throw DaySnapshotError(path: candidate.path, reason: "its feed has \(feed.halted.count) instruments, the configuration \(instruments)")
                }
                return (loaded, rejected)
            } catch {
                rejected.append((candidate.path, error.reason))
            }
        }
        return (nil, rejected)
    }

    /// The FIX port's midnight for a replica made offline (`rtes-journal snapshot`): that of
    /// the base snapshot's `fix` section when it has one, else UTC midnight of the trading day
    /// `day` (`YYYY-MM-DD`, a UTC calendar day), nanoseconds since the epoch; 0 when neither
    /// says (a snapshot of the wrong midnight is passed over by recovery, never misused).
    public static func fixEpochMidnight(day: String, base: Loaded?) -> UInt64 {
        if let bytes = base?.fixBytes, let midnight = FIXDayReplica.epochMidnight(ofSection: bytes) { return midnight }
        guard let date = TradingDay(name: day) else { return 0 }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = date.month <= 2 ? date.year - 1 : date.year
        let era = y / 400
        let yoe = y - era * 400
        let mp = (date.month + 9) % 12
        let doy = (153 * mp + 2) / 5 + date.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days > 0 ? UInt64(days) * 86_400_000_000_000 : 0
    }

    static func encodeDay(day: String, lastDayEvent: DayEvent?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 24)
        out[0] = 1
        out[4] = lastDayEvent == nil ? 0 : lastDayEvent == .startOfDay ? 1 : 2
        let name = Array(day.utf8.prefix(16))
        for i in 0..<16 { out[8 + i] = i < name.count ? name[i] : 0x20 }
        return out
    }

    static func monotonicNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    static func realtimeNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

/// A day snapshot that cannot be written, read or restored: the file and why.
public struct DaySnapshotError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
