import CMallocCounter
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeMarketData
import ExchangeRuntime
import ExchangeTestSupport
import Testing

/// When the snapshot service's copy of the books catches up with the feed (issue 17): not in
/// a duty cycle that publishes events, unless it lags a quarter of the history; in one that
/// publishes nothing, at most `idleCatchUpMessages`; every duty cycle with the earlier rule
/// (`snapshotCatchUpWhenIdle` false). Without touching the heap either way.
@Suite(.serialized) struct SnapshotCatchUpTests {
    static func configuration(whenIdle: Bool) -> MarketDataConfiguration {
        var c = SnapshotTestRig.defaultConfiguration()
        c.retransmitHistoryMessages = 4_096  // a quarter: 1,024 messages
        c.snapshotWorkPerTurn = 1_024
        c.eventBatch = 16  // many duty cycles, each publishing
        c.snapshotCatchUpWhenIdle = whenIdle
        return c
    }

    /// One duty cycle with every event up to `rig.limit` offered; counts the allocations of
    /// the agent's `doWork` alone.
    static func turn(_ rig: SnapshotTestRig, _ agent: inout MarketDataAgent<ManualClock>, allocations: inout Int) {
        while rig.next < min(rig.events.count, rig.limit ?? .max)
            && rig.producer.tryPush(SequencedEvent(sequence: UInt64(rig.next + 1), event: rig.events[rig.next])) { rig.next += 1 }
        rtes_malloc_counter_start()
        _ = agent.doWork()
        allocations += Int(rtes_malloc_counter_stop().allocations)
    }

    /// The idle rule's whole sequence twice, on two agents: the first pays the Swift runtime's
    /// one-time work of the process (generic metadata and witness tables instantiated on first
    /// use — `RTESTEST_MALLOC_BACKTRACE=1` shows `__swift_instantiateGenericMetadata` under
    /// the duty cycle, debug build, run alone), the second must not touch the heap at all.
    @Test func theCopyWaitsForAnIdleDutyCycleOrAQuarterOfTheHistory() throws {
        _ = try Self.idleRuleSequence()
        let allocations = try Self.idleRuleSequence()
        #expect(allocations == 0, "the idle rule's duty cycles allocated \(allocations) times after the process had run them once")
    }

    /// Returns the allocations of the agent's duty cycles past the day's opening.
    static func idleRuleSequence() throws -> Int {
        let rig = try SnapshotTestRig(configuration: Self.configuration(whenIdle: true), events: SyntheticBook.events(adds: 3_000, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        var allocations = 0
        // 40 duty cycles that each publish (the opening, then 16 events each): the copy stays put.
        rig.limit = 800
        for _ in 0..<40 { turn(rig, &agent, allocations: &allocations) }
        #expect(agent.publisher.nextSequence > 600)
        #expect(agent.snapshots.pass.sequence == 1, "the copy moved to \(agent.snapshots.pass.sequence) while every duty cycle published")
        allocations = 0  // counted from here on: the day's opening is not this test's path
        // Drain what is left; then one duty cycle with nothing to publish: 64 messages, no more.
        var turns = 0
        while rig.next < 800 || agent.events.depth > 0, turns < 100 {
            let before = agent.publisher.nextSequence
            Self.turn(rig, &agent, allocations: &allocations)
            #expect(agent.publisher.nextSequence > before)
            turns += 1
        }
        let idleFrom = agent.snapshots.pass.sequence
        Self.turn(rig, &agent, allocations: &allocations)
        #expect(agent.snapshots.pass.sequence == idleFrom + UInt64(MarketDataAgent<ManualClock>.idleCatchUpMessages))
        // The rest of the stream, every duty cycle publishing: the copy lets the feed get a
        // quarter of the history ahead and no further.
        rig.limit = nil
        var largestLag: UInt64 = 0
        var movedWhilePublishing = false
        while rig.next < rig.events.count || agent.events.depth > 0 {
            let copyBefore = agent.snapshots.pass.sequence
            Self.turn(rig, &agent, allocations: &allocations)
            if agent.snapshots.pass.sequence != copyBefore { movedWhilePublishing = true }
            largestLag = max(largestLag, agent.publisher.nextSequence - agent.snapshots.pass.sequence)
        }
        #expect(movedWhilePublishing)
        #expect(largestLag > 1_000 && largestLag <= 1_024 + 16, "largest lag \(largestLag)")
        // Idle again: the copy catches up in full.
        for _ in 0..<200 where agent.snapshots.pass.sequence != agent.publisher.nextSequence {
            Self.turn(rig, &agent, allocations: &allocations)
        }
        #expect(agent.snapshots.pass.sequence == agent.publisher.nextSequence)
        #expect(agent.snapshots.pass.mismatches == 0)
        return allocations
    }

    /// The earlier rule: every duty cycle catches up, publishing or not.
    @Test func withTheEarlierRuleTheCopyFollowsEveryDutyCycle() throws {
        let rig = try SnapshotTestRig(configuration: Self.configuration(whenIdle: false), events: SyntheticBook.events(adds: 800, changes: 0))
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        var allocations = 0
        for i in 0..<40 {
            if i == 5 { allocations = 0 }  // past the day's opening
            Self.turn(rig, &agent, allocations: &allocations)
        }
        #expect(agent.snapshots.pass.sequence == agent.publisher.nextSequence)
        #expect(allocations == 0)
    }
}
