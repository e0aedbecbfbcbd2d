import ExchangeCore
@testable import ExchangeFIX
import Testing

@Suite struct FIXSessionBehaviour {
    @Test func logsOnWithCredentialsAndAnswersWithLogon() {
        let h = Harness()
        let out = h.logon()
        #expect(h.verifier.seen == ["alice/secret"])
        #expect(out.count == 1)
        #expect(field(out[0], 35) == "A" && field(out[0], 108) == "30" && field(out[0], 98) == "0")
        #expect(field(out[0], 49) == "RTES" && field(out[0], 56) == "CLIENT1" && field(out[0], 34) == "1")
        #expect(h.session.state == .active && h.events.last == .loggedOn)
        #expect(h.session.nextInbound == 2)
    }

    @Test func rejectedCredentialsGetLogoutAndDisconnect() {
        let h = Harness()
        h.verifier.decision = .reject
        let out = h.logon()
        #expect(out.map { field($0, 35) } == ["5"])
        #expect(h.events.last == .disconnect(.logonRejected))
    }

    @Test func aPendingVerificationCompletesLater() {
        let h = Harness()
        h.verifier.decision = .pending
        #expect(h.logon().isEmpty)
        #expect(h.session.state == .verifyingLogon)
        var out = [UInt8](repeating: 0, count: 4096)
        let step = out.withUnsafeMutableBytes { h.session.completeLogon(accepted: true, now: h.now, out: $0) }
        #expect(step.event == .loggedOn)
        #expect(messages(Array(out[0..<step.written])).map { field($0, 35) } == ["A"])
    }

    @Test func firstMessageOtherThanLogonDisconnects() {
        let h = Harness()
        h.send("0")
        #expect(h.events.last == .disconnect(.firstMessageNotLogon))
        #expect(h.sent.isEmpty)
    }

    @Test func answersTestRequestAndSendsHeartbeatsAndTestRequestsOnTime() {
        let h = Harness()
        _ = h.logon()
        let hb = h.send("1", "112=PING")
        #expect(field(hb[0], 35) == "0" && field(hb[0], 112) == "PING")
        h.now += 29_000_000_000
        #expect(h.tick().isEmpty)
        h.now += 1_000_000_000
        #expect(h.tick().map { field($0, 35) } == ["0"])  // our heartbeat after 30 s of our silence
        h.now = t0 + 36_000_000_000  // 36 s of their silence: > 1.2 × 30 s
        let tr = h.tick()
        #expect(tr.map { field($0, 35) }.contains("1"))
        h.now += 36_000_000_000
        _ = h.tick()
        #expect(h.events.last == .disconnect(.heartbeatTimeout))
    }

    @Test func aTooHighSequenceNumberAsksForAResendOnce() {
        let h = Harness()
        _ = h.logon()
        let out = h.send("0", seq: 5)
        #expect(out.count == 1 && field(out[0], 35) == "2" && field(out[0], 7) == "2" && field(out[0], 16) == "0")
        #expect(h.send("0", seq: 6).isEmpty)  // already asked
        #expect(h.session.nextInbound == 2)
        // The counterparty fills the gap: 2…4 gap-filled, then 5 and 6 again.
        h.send("4", "123=Y|36=5", seq: 2, extraHeader: "|43=Y|122=\(stamp(h.now))")
        #expect(h.session.nextInbound == 5)
        h.send("0", seq: 5, extraHeader: "|43=Y|122=\(stamp(h.now))")
        h.send("0", seq: 6, extraHeader: "|43=Y|122=\(stamp(h.now))")
        #expect(h.session.nextInbound == 7)
    }

    @Test func aTooLowSequenceNumberWithoutPossDupLogsOutAndWithPossDupIsIgnored() {
        let h = Harness()
        _ = h.logon()
        h.send("0")
        #expect(h.send("0", seq: 2, extraHeader: "|43=Y|122=\(stamp(h.now))").isEmpty)
        #expect(h.session.counters.possDupIgnored == 1)
        let out = h.send("0", seq: 2)
        #expect(out.map { field($0, 35) } == ["5"])
        #expect(h.events.last == .disconnect(.msgSeqNumTooLow))
    }

    @Test func resendsApplicationMessagesWithPossDupAndGapFillsSessionMessages() {
        let h = Harness()
        _ = h.logon()  // our 1: Logon
        let sentER = h.sendApp(.executionReport, "37=1|17=1.1|150=0|39=0|55=AAPL|54=1|151=100|14=0|6=0|")  // our 2
        h.now += 30_000_000_000
        _ = h.tick()  // our 3: Heartbeat
        h.sendApp(.executionReport, "37=1|17=1.2|150=4|39=4|55=AAPL|54=1|151=0|14=0|6=0|")  // our 4
        let out = h.send("2", "7=1|16=0")
        #expect(out.map { field($0, 35) } == ["4", "8", "4", "8"])
        #expect(field(out[0], 34) == "1" && field(out[0], 123) == "Y" && field(out[0], 36) == "2" && field(out[0], 43) == "Y")
        #expect(field(out[1], 34) == "2" && field(out[1], 43) == "Y" && field(out[1], 122) == field(sentER, 52))
        #expect(field(out[1], 17) == "1.1")
        #expect(field(out[2], 34) == "3" && field(out[2], 36) == "4")
        #expect(field(out[3], 34) == "4" && field(out[3], 17) == "1.2")
        #expect(h.session.nextOutbound == 5)
    }

    @Test func sequenceResetResetMovesTheExpectedNumberButNeverBack() {
        let h = Harness()
        _ = h.logon()
        h.send("4", "36=20", seq: 99)
        #expect(h.session.nextInbound == 20)
        let out = h.send("4", "36=5", seq: 20)
        #expect(field(out[0], 35) == "3" && field(out[0], 373) == "5" && field(out[0], 371) == "36")
    }

    @Test func rejectsAFieldProblemAndCountsTheMessage() {
        let h = Harness()
        _ = h.logon()
        let out = h.send("0", "58=a|58=b")
        #expect(field(out[0], 35) == "3" && field(out[0], 373) == "13" && field(out[0], 371) == "58")
        #expect(field(out[0], 45) == "2" && field(out[0], 372) == "0")
        #expect(h.session.nextInbound == 3)
        let bad = h.send("ZZ")
        #expect(field(bad[0], 35) == "3" && field(bad[0], 373) == "11")
        let unsupported = h.send("V", "262=1")
        #expect(field(unsupported[0], 35) == "j" && field(unsupported[0], 380) == "3")
    }

    @Test func wrongCompIDOrStaleSendingTimeRejectsAndLogsOut() {
        let h = Harness()
        _ = h.logon()
        let out = h.feed(fix("35=0|49=OTHER|56=RTES|34=2|52=\(stamp(h.now))|"))
        #expect(out.map { field($0, 35) } == ["3", "5"])
        #expect(field(out[0], 373) == "9")
        #expect(h.events.last == .disconnect(.compIDProblem))
        let h2 = Harness()
        _ = h2.logon()
        let out2 = h2.feed(fix("35=0|49=CLIENT1|56=RTES|34=2|52=\(stamp(h2.now - 300_000_000_000))|"))
        #expect(out2.map { field($0, 35) } == ["3", "5"] && field(out2[0], 373) == "10")
    }

    @Test func garbledMessagesAreIgnoredWithoutMovingTheSequence() {
        let h = Harness()
        _ = h.logon()
        #expect(h.feed(fix(h.header("0") + "|", checksum: 3)).isEmpty)
        #expect(h.session.counters.garbled == 1 && h.session.nextInbound == 2 && h.session.state == .active)
    }

    @Test func resetSeqNumFlagResetsBothSidesOnlyWhenAllowed() {
        let h = Harness()
        _ = h.logon()
        h.send("0")
        let h2 = Harness { $0.allowResetSeqNumFlag = false }
        let out2 = h2.logon("98=0|108=30|141=Y")
        #expect(out2.map { field($0, 35) } == ["5"] && h2.events.last == .disconnect(.resetSeqNumNotAllowed))
        let h3 = Harness()
        h3.session.restore(nextInbound: 50, nextOutbound: 70)
        let out3 = h3.logon("98=0|108=30|141=Y")
        #expect(field(out3[0], 141) == "Y" && field(out3[0], 34) == "1" && h3.session.nextInbound == 2)
    }

    @Test func logoutHandshakeBothWays() {
        let h = Harness()
        _ = h.logon()
        let out = h.send("5")
        #expect(out.map { field($0, 35) } == ["5"] && h.events.last == .disconnect(.logoutByCounterparty))
        let h2 = Harness()
        _ = h2.logon()
        var buffer = [UInt8](repeating: 0, count: 1024)
        let step = buffer.withUnsafeMutableBytes { h2.session.logout(now: h2.now, out: $0) }
        #expect(messages(Array(buffer[0..<step.written])).map { field($0, 35) } == ["5"])
        #expect(h2.session.state == .loggingOut)
        h2.send("5")
        #expect(h2.events.last == .disconnect(.logoutCompleted))
    }
}
