import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeRisk

extension Appliance {
    /// Recovery's first step when the day continues: the newest day snapshot in the day's
    /// directory that reads back whole and fits this exchange (same day, accounts and
    /// instruments; covering a sequence the journal continues from) is restored into the
    /// fresh engine and gateway (market data's part is restored by the caller into its
    /// agent). Every snapshot passed over is logged with its file and why. Nil when none is
    /// usable: the caller replays the day from sequence 1 — unless the journal's first
    /// segments were retired, in which case start-up stops and says so.
    static func restoreDaySnapshot(
        _ dayJournal: DayJournal, reader: JournalReader, engine: inout RiskCheckedEngine, gateway: inout GatewayAgent<TSCClock>,
        needsFeed: Bool, accounts: Int, instruments: Int, note: (String) -> Void
    ) throws -> DaySnapshot.Loaded? {
        let first = reader.firstSequence
        let last = reader.lastSequence ?? (first &- 1)
        let found = DaySnapshot.newestUsable(in: dayJournal.directory, day: dayJournal.day.name, needsFeed: needsFeed,
                                             covers: (first &- 1)...last, accounts: accounts, instruments: instruments)
        for rejected in found.rejected { note("recovery: snapshot \(rejected.path) passed over: \(rejected.reason)") }
        func fullReplay(_ why: String) throws -> DaySnapshot.Loaded? {
            guard first == 1 else {
                throw ApplianceError("the journal of \(dayJournal.day.name) in \(dayJournal.directory) starts at sequence \(first) "
                    + "(its earlier segments were retired) and \(why), so the day cannot be rebuilt. Nothing was changed. "
                    + "Restore a snapshot file into the directory, or start a new day with --new-day (the journal is kept aside)")
            }
            return nil
        }
        guard let snapshot = found.snapshot else {
            return try fullReplay("no usable day snapshot covers it")
        }
        if snapshot.gateway.fixSessions != 0 {
            // The FIX sessions continue from the snapshot's `fix` section (FIXPort+DayState.swift).
            guard let fixBytes = snapshot.fixBytes else {
                note("recovery: snapshot \(snapshot.file.path) passed over: the day has FIX sessions (\(snapshot.gateway.fixSessions)), "
                    + "and it has no fix section holding their state; the day replays from its start")
                return try fullReplay("its snapshots do not hold the FIX sessions' state")
            }
            if let problem = gateway.fixDayStateProblem(fixBytes) {
                note("recovery: snapshot \(snapshot.file.path) passed over: \(problem); the day replays from its start")
                return try fullReplay("its snapshots' FIX sessions do not fit this gateway")
            }
        }
        do throws(EngineSnapshotError) {
            try engine.restoreSnapshot(engine: snapshot.engineBytes, risk: snapshot.riskBytes)
        } catch {
            // A refused restore leaves the engine fresh: the whole day replays instead.
            note("recovery: snapshot \(snapshot.file.path) passed over: its engine does not restore: \(error)")
            return try fullReplay("the newest snapshot's engine does not restore")
        }
        let hash = engine.stateHash()
        guard hash == snapshot.file.stateHash else {
            throw ApplianceError("recovery: the snapshot \(snapshot.file.path) restores to state hash \(StateHasher.text(hash)), "
                + "but it was written at \(StateHasher.text(snapshot.file.stateHash)). Nothing was changed; move the file aside "
                + "to recover without it")
        }
        do throws(DayStateError) {
            try gateway.restoreDayState(snapshot.gateway)
        } catch {
            throw ApplianceError("recovery: the snapshot \(snapshot.file.path) does not fit the gateway: \(error). Nothing was "
                + "changed; move the file aside to recover without it")
        }
        if snapshot.gateway.fixSessions != 0, let fixBytes = snapshot.fixBytes {
            do throws(DayStateError) {
                try gateway.restoreFIXDayState(fixBytes)
            } catch {
                throw ApplianceError("recovery: the snapshot \(snapshot.file.path) does not fit the FIX port: \(error). Nothing was "
                    + "changed; move the file aside to recover without it")
            }
        }
        note("recovery: day snapshot \(snapshot.file.path) covers sequences 1…\(snapshot.coveredSequence) "
            + "(state hash \(StateHasher.text(hash))); the journal after it follows")
        return snapshot
    }
}
