import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

// A real FIX peer against the exchange's FIX port: QuickFIX's own C++ initiator
// (Tests/ExchangeGatewayTests/fix-initiator.cpp, built by .ci/quickfix-initiator against
// Debian's libquickfix-dev, with FIX44.xml from the PyPI quickfix source distribution)
// logs on with an account of the keys file, enters, replaces, asks the status of and
// cancels orders, trades with an OUCH client, is cut off, misses a fill, reconnects and
// gets it back through ResendRequest. QuickFIX validates every message RTES sends against
// its FIX 4.4 data dictionary (strictly: field order, values, user-defined fields), and so
// does the initiator once more on its own; any refusal is a failure. Then Wireshark's FIX
// dissector decodes the whole session (QuickFIX's message log, as a pcap) with nothing
// malformed. Without libquickfix (or tshark, for the last part) the test is skipped, saying why.

enum QuickFIXPeer {
    /// (initiator program, FIX44.xml), built on first use; nil with the reason in `missing`.
    static let built: (program: String, xml: String)? = {
        guard let (status, output) = try? ExternalTools.run(repositoryRoot.appendingPathComponent(".ci/quickfix-initiator").path, [],
                                                           timeout: 600),
              status == 0 else { return nil }
        let lines = output.split(separator: "\n").map(String.init)
        guard lines.count >= 2 else { return nil }
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : repositoryRoot.appendingPathComponent(path).path }
        return (absolute(lines[lines.count - 2]), absolute(lines[lines.count - 1]))
    }()

    static var missing: Comment {
        ".ci/quickfix-initiator could not build the QuickFIX initiator: libquickfix-dev, g++ or pip's quickfix sdist (FIX44.xml) is missing (.ci/deps installs them)"
    }
}

/// One run of the initiator: its stdout lines, read on a thread of their own.
final class InitiatorRun: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collected: [String] = []
    private var finished = false

    init(_ program: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lock.withLock { collected.append(line) }
                }
            }
            lock.withLock { finished = true }
        }.start()
    }

    var lines: [String] { lock.withLock { collected } }

    /// Waits (at most 60 s) for a line equal to `line`, or for the program's end.
    func await(_ line: String) -> Bool {
        waitUntil(timeout: .seconds(60)) { lock.withLock { collected.contains(line) || collected.contains { $0.hasPrefix("FAIL") } || finished } }
        return lines.contains(line)
    }

    /// The exit status (at most 60 s; then it is killed and -1).
    func exitStatus() -> Int32 {
        guard waitUntil(timeout: .seconds(60), { !process.isRunning }) else {
            stop()
            return -1
        }
        _ = waitUntil(timeout: .seconds(10)) { lock.withLock { finished } }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// What RTES sent, as QuickFIX received it (`RECV …`, SOH shown as |).
    var received: [String] { lines.compactMap { $0.hasPrefix("RECV ") ? String($0.dropFirst(5)) : nil } }
    /// Refusals by QuickFIX and failures of the script.
    var problems: [String] { lines.filter { $0.hasPrefix("INVALID") || $0.hasPrefix("QUICKFIX-REJECT") || $0.hasPrefix("FAIL") } }
}

/// tshark's output lines, without blank ones and its warning about running as root.
func tsharkLines(_ output: String) -> [Substring] {
    output.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("Running as user") }
}

/// The value of `tag` in a message shown with `|`.
func fixField(_ message: String, _ tag: Int) -> String? {
    for field in message.split(separator: "|") where field.hasPrefix("\(tag)=") { return String(field.dropFirst("\(tag)=".count)) }
    return nil
}

@Suite struct QuickFIXOverTheFIXPort {
    @Test(.enabled(if: QuickFIXPeer.built != nil, QuickFIXPeer.missing))
    func aQuickFIXInitiatorTradesWithAnOUCHClientIsCutOffAndRecoversWhatItMissedThroughResendRequest() throws {
        let (program, xml) = try #require(QuickFIXPeer.built)
        var knobs = ExchangeKnobs()
        knobs.fix = true
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        #expect(exchange.fixPort > 0)
        let store = NSTemporaryDirectory() + "rtes-quickfix-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: store) }
        let arguments = [xml, "\(exchange.fixPort)", store, "DEMO1", "demo1pass"]

        // Trade: New, Replaced, Order Status; an OUCH seller (DEMO2) fills 50 of B2; Canceled; D1 New; cut.
        let trade = try InitiatorRun(program, arguments + ["trade"])
        defer { trade.stop() }
        #expect(trade.await("STEP ready-for-trade"), "\(trade.lines.suffix(5))")
        let seller = try SoupTestClient.loggedIn(port: exchange.port, .demo2)
        defer { seller.close() }
        seller.send(Client.order("S1", "S", 50, "AAPL", price(230)))
        #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])
        #expect(trade.await("STEP cut"), "\(trade.lines.suffix(5))")
        #expect(trade.exitStatus() == 0)
        // The exchange has seen the connection go; then D1 trades while DEMO1 is away.
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("fix_active_connections") == 0 && $0.gatewayCount("active_sessions") == 1 },
                "the cut FIX connection was not closed")
        seller.send(Client.order("S2", "S", 100, "AAPL", price(229)))
        #expect(seller.replies(2, timeout: 30)?.map(\.type) == ["A", "E"])

        // Recover: QuickFIX's store says what it has seen; RTES's Logon is ahead; ResendRequest.
        let recover = try InitiatorRun(program, arguments + ["recover"])
        defer { recover.stop() }
        #expect(recover.await("DONE"), "\(recover.lines.suffix(5))")
        #expect(recover.exitStatus() == 0)

        #expect(trade.problems.isEmpty && recover.problems.isEmpty, "\(trade.problems + recover.problems)")
        // Each report once, in order, resends (PossDupFlag=Y: QuickFIX may ask again for what it
        // received just before it was cut, whatever its store had persisted) aside.
        let reports = (trade.received + recover.received).filter { fixField($0, 35) == "8" }
        let kinds = reports.filter { fixField($0, 43) != "Y" }.map { "\(fixField($0, 11) ?? "?"):\(fixField($0, 150) ?? "?")" }
        #expect(kinds == ["B1:0", "B2:5", "B2:I", "B2:F", "B3:4", "D1:0"], "\(kinds)")
        let fill = try #require(reports.first { fixField($0, 11) == "B2" && fixField($0, 150) == "F" })
        #expect(fixField(fill, 32) == "50" && fixField(fill, 31) == "230" && fixField(fill, 39) == "1" && fixField(fill, 151) == "150")
        let resent = try #require(recover.received.first { fixField($0, 11) == "D1" && fixField($0, 150) == "F" })
        #expect(fixField(resent, 43) == "Y" && fixField(resent, 122) != nil && fixField(resent, 39) == "2", "\(resent)")
        // What was resent is what was sent: the same MsgSeqNum for the same report.
        for copy in reports where fixField(copy, 43) == "Y" {
            let original = (trade.received + recover.received).first { fixField($0, 34) == fixField(copy, 34) && fixField($0, 43) != "Y" }
            if let original { #expect(fixField(original, 17) == fixField(copy, 17), "\(original) resent as \(copy)") }
        }
        #expect(exchange.waitFor(.seconds(30)) { $0.gatewayCount("fix_logons") == 2 && $0.gatewayCount("fix_messages_out") == 7 },
                "\(exchange.snapshot().gateway.filter { $0.key.hasPrefix("fix_") })")

        try decodesWithWiresharksFIXDissector(store: store)
    }

    /// QuickFIX's message log (both directions, both connections) as TCP segments in a pcap:
    /// tshark's FIX dissector must decode every message, with nothing malformed.
    func decodesWithWiresharksFIXDissector(store: String) throws {
        guard let tshark = ExternalTools.tshark else {
            print("tshark check skipped: \(ExternalTools.tsharkMissingReason)")
            return
        }
        let log = try String(contentsOfFile: store + "/FIX.4.4-DEMO1-RTES.messages.current.log", encoding: .isoLatin1)
        // Each line: "YYYYMMDD-HH:MM:SS.sss : 8=FIX.4.4␁…␁10=ccc␁".
        let messages = log.split(separator: "\n").compactMap { line -> String? in
            guard let start = line.range(of: " : 8=FIX") else { return nil }
            return String(line[line.index(start.lowerBound, offsetBy: 3)...])
        }
        #expect(messages.count >= 18, "QuickFIX logged \(messages.count) messages")
        let port: UInt16 = 9_878
        var pcap = PcapWriter()
        pcap.conversation(clientPort: 40_001, serverPort: port, messages.map { message in
            (toServer: message.contains("\u{01}49=DEMO1\u{01}"), bytes: Array(message.utf8))
        })
        let file = NSTemporaryDirectory() + "rtes-fix-\(getpid())-\(UUID().uuidString).pcap"
        try pcap.data.write(to: URL(fileURLWithPath: file))
        defer { unlink(file) }
        let decoded = try ExternalTools.run(tshark, ["-r", file, "-d", "tcp.port==\(port),fix", "-Y", "fix", "-T", "fields", "-e", "fix.MsgType"])
        #expect(decoded.status == 0, "\(decoded.output)")
        let types = tsharkLines(decoded.output).flatMap { $0.split(separator: ",") }.map(String.init)
        #expect(types.count == messages.count, "tshark decoded \(types.count) FIX messages of \(messages.count): \(decoded.output.prefix(400))")
        let findings = try ExternalTools.run(tshark, ["-r", file, "-d", "tcp.port==\(port),fix", "-Y",
                                                     "_ws.malformed || _ws.expert.severity >= warning || fix.checksum_bad == 1"])
        #expect(findings.status == 0 && tsharkLines(findings.output).isEmpty,
                "tshark found malformed or flagged FIX frames: \(findings.output.prefix(800))")
    }
}
