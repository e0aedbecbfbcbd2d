import ExchangeClock
import ExchangeConfig
@testable import ExchangeLeadership
import Foundation
import Testing

/// The deadline logic on a `ManualClock`: time moves only when the test says, so nothing
/// here waits.
@Suite struct LeaseDeadlineTests {
    let clock = ManualClock()
    let second = Clocks.nanosecondsPerSecond

    @Test func aConfirmationCountsFromTheSendNotTheAnswer() {
        var deadline = LeaseDeadline()
        let sent = clock.ticks()
        clock.advance(milliseconds: 700) // the answer takes 0.7 s
        deadline.confirm(sentAtTicks: sent, ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        #expect(deadline.expiresAtTicks == sent + 2 * second)
        #expect(deadline.remainingTicks(atTicks: clock.ticks()) == 1_300_000_000)
    }

    @Test func theLeaseIsPresumedExpiredAtItsDeadlineExactly() {
        var deadline = LeaseDeadline()
        let sent = clock.ticks()
        deadline.confirm(sentAtTicks: sent, ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        clock.advance(nanoseconds: 2 * second - 1)
        #expect(deadline.isLive(atTicks: clock.ticks()))
        clock.advance(nanoseconds: 1)
        #expect(!deadline.isLive(atTicks: clock.ticks()))
        #expect(deadline.remainingTicks(atTicks: clock.ticks()) == 0)
    }

    @Test func neverConfirmedMeansNotLive() {
        let deadline = LeaseDeadline()
        #expect(!deadline.isLive(atTicks: 0))
        #expect(!deadline.isLive(atTicks: clock.ticks()))
    }

    @Test func aLateAnswerToAnOlderRequestDoesNotPullTheDeadlineBack() {
        var deadline = LeaseDeadline()
        let older = clock.ticks()
        clock.advance(milliseconds: 600)
        let newer = clock.ticks()
        deadline.confirm(sentAtTicks: newer, ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        deadline.confirm(sentAtTicks: older, ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        #expect(deadline.expiresAtTicks == newer + 2 * second)
        #expect(deadline.confirmedSentAtTicks == newer)
    }

    @Test func aGoneLeaseConfirmsNothing() {
        var deadline = LeaseDeadline()
        let sent = clock.ticks()
        deadline.confirm(sentAtTicks: sent, ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        clock.advance(seconds: 1)
        deadline.confirm(sentAtTicks: clock.ticks(), ttlSeconds: 0, ticksPerSecond: clock.ticksPerSecond)
        #expect(deadline.expiresAtTicks == sent + 2 * second)
    }

    @Test func theNextKeepaliveIsDueAThirdOfTheTTLAfterTheLastConfirmedSend() {
        var deadline = LeaseDeadline()
        let sent = clock.ticks()
        deadline.confirm(sentAtTicks: sent, ttlSeconds: 3, ticksPerSecond: clock.ticksPerSecond)
        #expect(deadline.nextKeepAliveAtTicks == sent + second)
    }

    @Test func theGateSaysYesOnlyBeforeTheDeadlineWithoutTheWriterMoving() {
        let gate = LeadershipGate()
        #expect(!gate.mayAcknowledge(atTicks: clock.ticks()))
        var deadline = LeaseDeadline()
        deadline.confirm(sentAtTicks: clock.ticks(), ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        gate.open(token: 42, untilTicks: deadline.expiresAtTicks)
        #expect(gate.mayAcknowledge(atTicks: clock.ticks()))
        #expect(gate.fencingToken == 42)
        // No keepalive confirmed: the gate closes by itself at the deadline.
        clock.advance(nanoseconds: 2 * second - 1)
        #expect(gate.mayAcknowledge(atTicks: clock.ticks()))
        clock.advance(nanoseconds: 1)
        #expect(!gate.mayAcknowledge(atTicks: clock.ticks()))
        // A confirmation extends it; closing ends it at once.
        deadline.confirm(sentAtTicks: clock.ticks(), ttlSeconds: 2, ticksPerSecond: clock.ticksPerSecond)
        gate.extend(untilTicks: deadline.expiresAtTicks)
        #expect(gate.mayAcknowledge(atTicks: clock.ticks()))
        gate.close()
        #expect(!gate.mayAcknowledge(atTicks: clock.ticks()))
        #expect(gate.deadline == 0)
    }

    @Test func theStateOfALeaderPastItsDeadlineReadsLost() {
        // No etcd is contacted: the candidate never runs; only its gate and clock are read.
        let client = EtcdClient(endpoints: [.init(address: .init(rawValue: 0x7F00_0001), port: 1)])
        let candidate = LeaderCandidate(client: client, key: "/k/leader", name: "a", ttlSeconds: 2, clock: clock)
        #expect(candidate.state.role == .idle)
        #expect(!candidate.mayAcknowledge())
    }
}

/// The gateway's JSON as etcd 3.4 writes it (captured from a real server).
@Suite struct EtcdMessageTests {
    @Test func sixtyFourBitIntegersAreReadFromStringsOrNumbers() throws {
        let fromString = try JSONDecoder().decode([EtcdInt64].self, from: Data(#"["4111120493834246408", 7]"#.utf8))
        #expect(fromString.map(\.value) == [4_111_120_493_834_246_408, 7])
        #expect(String(decoding: try JSONEncoder().encode(EtcdInt64(-1)), as: UTF8.self) == #""-1""#)
    }

    @Test func keysAndValuesAreBase64() throws {
        #expect(String(decoding: try JSONEncoder().encode(EtcdBytes("/rtes/leader")), as: UTF8.self) == #""L3J0ZXMvbGVhZGVy""#)
        #expect(try JSONDecoder().decode(EtcdBytes.self, from: Data(#""YWxwaGE=""#.utf8)).text == "alpha")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(EtcdBytes.self, from: Data(#""not base64!""#.utf8)) }
    }

    @Test func aWatchLineCarriesItsEvents() throws {
        let line = #"{"result":{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"L3J0ZXMvbGVhZGVy","mod_revision":"3"}},{"kv":{"key":"L3J0ZXMvbGVhZGVy","create_revision":"4","mod_revision":"4","version":"1","value":"YWxwaGE=","lease":"9"}}]}}"#
        let message = try JSONDecoder().decode(WatchStreamMessage.self, from: Data(line.utf8))
        let events = message.result?.events ?? []
        #expect(events.count == 2)
        #expect(events.first?.type == "DELETE")
        #expect(events.last?.type == nil)
        #expect(events.last?.kv?.value?.text == "alpha")
        #expect(events.last?.kv?.createRevision?.value == 4)
    }

    @Test func aFailedTransactionCarriesTheHolder() throws {
        let body = #"{"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"L3J0ZXMvbGVhZGVy","create_revision":"2","mod_revision":"2","version":"1","value":"YWxwaGE=","lease":"4111120493834246408"}],"count":"1"}}]}"#
        let response = try JSONDecoder().decode(TxnResponse.self, from: Data(body.utf8))
        #expect(response.succeeded == nil)
        #expect(response.responses?.first?.responseRange?.kvs?.first?.lease?.value == 4_111_120_493_834_246_408)
    }

    @Test func aCampaignTransactionIsWrittenAsTheGatewayReadsIt() throws {
        let request = TxnRequest(
            compare: [.init(key: EtcdBytes("k"), target: "CREATE", result: "EQUAL", createRevision: EtcdInt64(0))],
            success: [.init(requestPut: .init(key: EtcdBytes("k"), value: EtcdBytes("v"), lease: EtcdInt64(5)))],
            failure: [.init(requestRange: RangeRequest(key: EtcdBytes("k")))])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(request), as: UTF8.self)
        #expect(text == #"{"compare":[{"create_revision":"0","key":"aw==","result":"EQUAL","target":"CREATE"}],"failure":[{"request_range":{"key":"aw=="}}],"success":[{"request_put":{"key":"aw==","lease":"5","value":"dg=="}}]}"#)
    }
}
