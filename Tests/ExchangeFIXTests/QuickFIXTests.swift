import ExchangeCore
@testable import ExchangeFIX
import Foundation
import Testing

// A real peer reads our bytes: every kind of message the codec, the session and the
// application mapping write is validated against QuickFIX's FIX 4.4 data dictionary
// (Tests/ExchangeFIXTests/fix44-validate.cpp, built by .ci/quickfix with g++ against Debian's
// libquickfix-dev; FIX44.xml from the PyPI quickfix source distribution). The checker cannot
// be installed → the test is skipped, saying why.

enum QuickFIX {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func execute(_ path: String, _ arguments: [String], input: Data? = nil) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        do { try process.run() } catch { return (-1, "\(error)") }
        if let input { stdin.fileHandleForWriting.write(input) }
        try? stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// (validator, FIX44.xml), built on first use; nil (with the reason printed) when it cannot be.
    static let checker: (String, String)? = {
        let (status, output) = execute(root.appendingPathComponent(".ci/quickfix").path, [])
        let lines = output.split(separator: "\n")
        guard status == 0, lines.count >= 2 else {
            print("QuickFIX check skipped: .ci/quickfix said: \(output)")
            return nil
        }
        return (root.appendingPathComponent(String(lines[lines.count - 2])).path,
                root.appendingPathComponent(String(lines[lines.count - 1])).path)
    }()

    /// QuickFIX's verdict on each message ("OK" or "REJECT …").
    static func validate(_ messages: [String]) -> [String]? {
        guard let (validator, xml) = checker else { return nil }
        let input = messages.map { $0.replacingOccurrences(of: "|", with: "\u{01}") }.joined(separator: "\n") + "\n"
        let (status, output) = execute(validator, [xml], input: Data(input.utf8))
        guard status == 0 else {
            Issue.record("fix44-validate failed: \(output)")
            return []
        }
        return output.split(separator: "\n").map(String.init)
    }
}

/// Every message kind RTES writes, from a scripted day on one session.
func everyMessageKind() -> [String] {
    let t = Trading()
    let h = t.h
    h.send("1", "112=T1")                                      // Heartbeat answering a TestRequest
    h.send("0", "58=a|58=b")                                   // Reject (3)
    h.send("V", "262=1")                                       // BusinessMessageReject (j)
    t.send("D", "11=N1|55=AAPL|54=1|38=300|40=2|44=10.25|59=0|\(transact)")
    guard case .enter(let o) = t.commands.last else { return [] }
    t.event(accepted(o, reference: 11))                        // ER New
    t.event(executed(o, shares: 100, price: 102_500, match: 1)) // ER Trade, partial
    t.send("G", "11=N2|41=N1|55=AAPL|54=1|38=400|40=2|44=10.5|\(transact)")
    guard case .replace(let r) = t.commands.last else { return [] }
    t.event(.replaced(OrderReplaced(
        timestamp: ts, client: 7, token: r.replacementToken, previousToken: o.token, reference: 12, previousReference: 11,
        instrument: 0, side: .buy, shares: 300, price: 105_000, timeInForce: .marketHours, firm: o.firm, display: .anonymous,
        capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live)))  // ER Replaced
    t.event(.canceled(OrderCanceled(timestamp: ts, client: 7, token: r.replacementToken, reference: 12, instrument: 0,
                                    decrement: 100, remaining: 200, reason: .selfMatchPrevention)))  // ER Restated
    t.send("H", "11=N2|55=AAPL|54=1")                          // ER Order Status
    t.send("F", "11=X1|41=N2|55=AAPL|54=1|\(transact)")
    t.event(.cancelRejected(CancelRejected(timestamp: ts, client: 7, token: r.replacementToken, reason: .unknownOrder)))  // 9
    t.send("F", "11=X2|41=N2|55=AAPL|54=1|\(transact)")
    t.event(.canceled(OrderCanceled(timestamp: ts, client: 7, token: r.replacementToken, reference: 12, instrument: 0,
                                    decrement: 200, remaining: 0, reason: .userRequested)))  // ER Canceled
    t.send("F", "11=X3|41=NOPE|55=AAPL|54=1|\(transact)")      // 9, unknown order
    t.send("D", "11=N3|55=AAPL|54=2|38=100|40=1|59=3|\(transact)")
    guard case .enter(let m) = t.commands.last else { return [] }
    t.event(accepted(m, reference: 13, state: .dead))
    t.event(executed(m, shares: 100, price: 99_999, match: 2))  // ER Trade, filled, market
    t.send("D", "11=N4|55=AAPL|54=1|38=100|40=2|44=1|59=6|126=20261207-09:30:00.000|\(transact)")
    guard case .enter(let g) = t.commands.last else { return [] }
    t.event(accepted(g, reference: 14))
    t.event(.canceled(OrderCanceled(timestamp: ts, client: 7, token: g.token, reference: 14, instrument: 0, decrement: 100,
                                    remaining: 0, reason: .timeout)))  // ER Expired
    t.send("D", "11=N5|55=ZZZ|54=1|38=100|40=2|44=1|\(transact)")
    guard case .enter(let z) = t.commands.last else { return [] }
    t.event(.rejected(OrderRejected(timestamp: ts, client: 7, token: z.token, reason: .unknownSymbol)))  // ER Rejected (engine)
    t.send("D", "11=N5|55=AAPL|54=1|38=100|40=2|44=1|\(transact)")  // ER Rejected (duplicate ClOrdID)
    t.send("H", "11=NONE|55=AAPL|54=1")                        // ER Order Status, unknown
    t.send("q", "11=M1|530=7|\(transact)")                     // OrderMassCancelReport, accepted
    t.send("q", "11=M2|530=1|55=AAPL|\(transact)")             // OrderMassCancelReport, rejected
    h.now += 30_000_000_000
    _ = h.tick()                                               // Heartbeat
    h.now += 7_000_000_000
    _ = h.tick()                                               // TestRequest
    h.send("0", seq: h.inSeq + 5)                              // ResendRequest
    h.send("2", "7=1|16=0", seq: h.session.nextInbound)        // resent messages and gap fills
    h.send("4", "36=200", seq: 1)
    h.send("5", seq: 200)                                      // Logout
    return h.sent
}

@Suite(.enabled(if: QuickFIX.checker != nil, "QuickFIX checker not available (see .ci/quickfix's message above)"))
struct QuickFIXValidation {
    @Test func everyMessageWeWriteIsValidFIX44() throws {
        let sent = everyMessageKind()
        let types = Set(sent.compactMap { field($0, 35) })
        #expect(types == ["A", "0", "1", "2", "3", "4", "5", "8", "9", "j", "r"])
        let execTypes = Set(sent.filter { field($0, 35) == "8" }.compactMap { field($0, 150) })
        #expect(execTypes == ["0", "F", "5", "D", "I", "4", "C", "8"])
        #expect(sent.contains { field($0, 43) == "Y" && field($0, 35) == "8" })
        guard let verdicts = QuickFIX.validate(sent) else { return }
        #expect(verdicts.count == sent.count)
        for (message, verdict) in zip(sent, verdicts) {
            #expect(verdict == "OK", "\(verdict): \(message)")
        }
    }

    @Test func theValidatorRefusesABrokenMessage() throws {
        let sent = everyMessageKind()
        let er = try #require(sent.first { field($0, 35) == "8" && field($0, 150) == "F" })
        // Drop ExecType (150), a required field, and re-frame with a correct BodyLength and CheckSum.
        let fields = er.split(separator: "|").filter { !$0.hasPrefix("150=") && !$0.hasPrefix("8=") && !$0.hasPrefix("9=") && !$0.hasPrefix("10=") }
        let broken = text(fix(fields.joined(separator: "|") + "|"))
        let badSide = text(fix(er.split(separator: "|").filter { !$0.hasPrefix("8=") && !$0.hasPrefix("9=") && !$0.hasPrefix("10=") }
            .map { $0.hasPrefix("54=") ? "54=Q" : String($0) }.joined(separator: "|") + "|"))
        guard let verdicts = QuickFIX.validate([broken, badSide, er]) else { return }
        #expect(verdicts.count == 3)
        #expect(verdicts.first?.hasPrefix("REJECT") == true, "\(verdicts)")
        #expect(verdicts.dropFirst().first?.hasPrefix("REJECT") == true, "\(verdicts)")
        #expect(verdicts.last == "OK")
    }
}
