import ExchangeCore
import ExchangeWire
import Foundation
import Testing

// An independent check of our bytes: Wireshark's SoupBinTCP and OUCH dissectors decode a
// session written by our encoders. Each packet goes in its own TCP segment of a pcap built
// by text2pcap (no capture rights needed); `tshark -V` prints the decoded fields, and each
// frame must show the values we encoded and nothing malformed, unknown or expert-flagged.
//
// tshark and text2pcap come from Debian's tshark package, installed by .ci/tools when
// missing (idempotent, non-interactive). RTES_NO_INSTALL=1 only checks for them. Without
// them the suite is skipped, saying why.

enum WireTools {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent(".ci/tools").path) { return url }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    }()

    /// Runs .ci/tools once; true when tshark and text2pcap are there afterwards.
    static let available: Bool = {
        let script = repositoryRoot.appendingPathComponent(".ci/tools").path
        let checkOnly = ProcessInfo.processInfo.environment["RTES_NO_INSTALL"] == "1"
        // try?: a script that cannot run means no tshark, and the suite is skipped (not failed).
        guard let result = try? run(script, checkOnly ? ["--check"] : []) else { return false }
        if result.status != 0 { print("tshark suite skipped: .ci/tools said: \(result.output)") }
        return result.status == 0
    }()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// One packet of a session and what tshark must print for it ("Label: value", trailing
/// spaces trimmed).
struct DecodedPacket {
    var bytes: [UInt8]
    var expected: [String]
}

/// A direction of a session: packets from `sourcePort` to `destinationPort`.
struct CapturedSession {
    var name: String
    var sourcePort: Int
    var destinationPort: Int
    var packets: [DecodedPacket] = []

    mutating func add(_ expected: [String], _ packet: (UnsafeMutableRawPointer) -> Int) {
        packets.append(DecodedPacket(bytes: written(packet), expected: expected))
    }

    /// Sequenced Data around an OUCH message.
    mutating func sequenced(_ expected: [String], _ message: (UnsafeMutableRawPointer) -> Int) {
        add(expected) { out in
            let n = message(out + 3)
            return SoupBinTCP.sequencedDataHeader(payloadLength: n, to: out) + n
        }
    }

    /// Unsequenced Data around an OUCH message.
    mutating func unsequenced(_ expected: [String], _ message: (UnsafeMutableRawPointer) -> Int) {
        add(expected) { out in
            let n = message(out + 3)
            return SoupBinTCP.unsequencedDataHeader(payloadLength: n, to: out) + n
        }
    }

    /// text2pcap's input: an offset-prefixed hex dump per packet.
    var hexDump: String {
        var text = ""
        for packet in packets {
            for start in stride(from: 0, to: packet.bytes.count, by: 16) {
                let line = packet.bytes[start..<min(start + 16, packet.bytes.count)]
                text += String(start, radix: 16).leftPadded(6) + " "
                    + line.map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ") + "\n"
            }
        }
        return text
    }

    /// Writes the pcap, runs tshark, returns each frame's lines (trimmed).
    func decode(in directory: URL) throws -> (frames: [[String]], output: String) {
        let dump = directory.appendingPathComponent("\(name).txt")
        let pcap = directory.appendingPathComponent("\(name).pcap")
        try hexDump.write(to: dump, atomically: true, encoding: .utf8)
        let text2pcap = try WireTools.run(WireTools.which("text2pcap")!,
                                          ["-q", "-T", "\(sourcePort),\(destinationPort)", dump.path, pcap.path])
        guard text2pcap.status == 0 else { throw TsharkFailure(message: "text2pcap: \(text2pcap.output)") }
        let tshark = try WireTools.run(WireTools.which("tshark")!,
                                       ["-n", "-r", pcap.path, "-d", "tcp.port==8888,soupbintcp", "-V"])
        guard tshark.status == 0 else { throw TsharkFailure(message: "tshark: \(tshark.output)") }
        var frames: [[String]] = []
        for line in tshark.output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Frame ") { frames.append([]) }
            guard !frames.isEmpty else { continue }
            var trimmed = Substring(line)
            while trimmed.first == " " { trimmed.removeFirst() }
            while trimmed.last == " " { trimmed.removeLast() }
            frames[frames.count - 1].append(String(trimmed))
        }
        return (frames, tshark.output)
    }
}

struct TsharkFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite(.enabled(if: WireTools.available, "tshark/text2pcap missing and .ci/tools could not install them"))
struct TsharkAgreement {
    static let timestampText = "9:30:00.000000123"

    /// Server → client: Login Accepted, every outbound OUCH type, heartbeat, end of session.
    static func serverSession() -> CapturedSession {
        var s = CapturedSession(name: "server", sourcePort: 8888, destinationPort: 40_001)
        s.add(["SoupBinTCP, Login Accepted", "Session: RTES0001", "Next sequence number: 1"]) {
            SoupBinTCP.loginAccepted(session: SoupSessionName("RTES0001")!, sequence: 1, to: $0)
        }
        // SeqNum is tshark's own count from Login Accepted's sequence number.
        s.sequenced(["SoupBinTCP, Sequenced Data, SeqNum=1", "OUCH, System Event", "Timestamp: 0:00:00.000000001",
                     "Event Code: Start of Day ('S')"]) {
            OUCHOutbound.systemEvent(timestamp: 1, eventCode: OUCH.SystemEventCode.startOfDay, to: $0)
        }
        s.sequenced(["SeqNum=2", "OUCH, Accepted", "Timestamp: \(timestampText)", "Order Token: ORD00000000001",
                     "Buy/Sell Indicator: Buy Order ('B')", "Shares: 300", "Stock: AAPL", "Price: $150.2500",
                     "Time In Force: Market Hours (99998)", "Firm: RTES", "Display: Anonymous-Price to Comply ('Y')",
                     "Order Reference Number: 1000001", "Capacity: Agency ('A')",
                     "Intermarket Sweep Eligibility: Not eligible ('N')", "Minimum Quantity: 100",
                     "Cross Type: No Cross ('N')", "Order State: Order Live ('L')",
                     "BBO Weight Indicator: Unspecified (' ')"]) {
            OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0)
        }
        s.sequenced(["SeqNum=3", "OUCH, Accepted", "Order Token: ORD00000000002", "Buy/Sell Indicator: Sell Short ('T')",
                     "Shares: 50", "Price: Market", "Time In Force: Immediate Or Cancel (0)",
                     "Display: Non-Display ('N')", "Order Reference Number: 1000002", "Capacity: Principal ('P')",
                     "Intermarket Sweep Eligibility: Eligible ('Y')", "Order State: Order Dead ('D')",
                     "BBO Weight Indicator: Unspecified (' ')"]) {
            OUCHOutbound.accepted(Events.acceptedMarket, symbol: Fixture.symbol, to: $0)
        }
        s.sequenced(["SeqNum=4", "OUCH, Replaced", "Replacement Order Token: ORD00000000002",
                     "Previous Order Token: ORD00000000001", "Buy/Sell Indicator: Buy Order ('B')", "Shares: 200",
                     "Stock: AAPL", "Price: $150.3000", "Time In Force: System Hours (99999)", "Firm: RTES",
                     "Display: Attributable-Price to Display ('A')", "Order Reference Number: 1000003",
                     "Order State: Order Live ('L')", "BBO Weight Indicator: Unspecified (' ')"]) {
            OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: $0)
        }
        s.sequenced(["SeqNum=5", "OUCH, Canceled", "Order Token: ORD00000000001", "Decrement Shares: 260",
                     "Cancel Reason: User requested cancel ('U')"]) {
            OUCHOutbound.canceled(Events.canceled, to: $0)
        }
        let fill = Events.executed(makerDisplay: .anonymous)
        s.sequenced(["SeqNum=6", "OUCH, Executed", "Order Token: ORD00000000001", "Executed Shares: 100",
                     "Execution Price: $150.2400", "Liquidity Flag: Removed ('R')", "Match Number: 77001"]) {
            OUCHOutbound.executed(fill, as: .taker, to: $0)
        }
        s.sequenced(["SeqNum=7", "OUCH, Executed", "Order Token: MAKER0000000A7", "Executed Shares: 100",
                     "Execution Price: $150.2400", "Liquidity Flag: Added ('A')", "Match Number: 77001"]) {
            OUCHOutbound.executed(fill, as: .maker, to: $0)
        }
        s.sequenced(["SeqNum=8", "OUCH, Executed", "Order Token: MAKER0000000A7",
                     "Liquidity Flag: Non-displayed adding liquidity ('J')", "Match Number: 77001"]) {
            OUCHOutbound.executed(Events.executed(makerDisplay: .nonDisplayed), as: .maker, to: $0)
        }
        s.sequenced(["SeqNum=9", "OUCH, Rejected", "Order Token: ORD00000000001",
                     "Reject Reason: Exceeded dollar value limit ('n')"]) {
            OUCHOutbound.rejected(Events.rejected, to: $0)
        }
        s.sequenced(["SeqNum=10", "OUCH, Rejected", "Order Token: ORD00000000002", "Reject Reason: Invalid Price ('X')"]) {
            OUCHOutbound.rejected(timestamp: Fixture.timestamp, token: Fixture.token2,
                                  reason: RejectReason.marketPriceOnReplace.ouchCode, to: $0)
        }
        s.sequenced(["SeqNum=11", "OUCH, Broken Trade", "Order Token: ORD00000000001", "Match Number: 77001",
                     "Broken Trade Reason: Erroneous ('E')"]) {
            OUCHOutbound.brokenTrade(timestamp: Fixture.timestamp, token: Fixture.token, matchNumber: 77_001,
                                     reason: 0x45, to: $0)
        }
        s.sequenced(["SeqNum=12", "OUCH, Cancel Pending", "Order Token: ORD00000000001"]) {
            OUCHOutbound.cancelPending(timestamp: Fixture.timestamp, token: Fixture.token, to: $0)
        }
        s.sequenced(["SeqNum=13", "OUCH, Cancel Reject", "Order Token: ORD00000000001"]) {
            OUCHOutbound.cancelRejected(Events.cancelRejected, to: $0)
        }
        s.sequenced(["SeqNum=14", "OUCH, Order Modified", "Timestamp: \(timestampText)", "Order Token: ORD00000000001",
                     "Buy/Sell Indicator: Sell Short Exempt ('E')", "Shares: 100"]) {
            OUCHOutbound.modified(Events.modified, to: $0)
        }
        s.sequenced(["SeqNum=15", "OUCH, System Event", "Event Code: End of Day ('E')"]) {
            OUCHOutbound.systemEvent(timestamp: 2, eventCode: OUCH.SystemEventCode.endOfDay, to: $0)
        }
        s.add(["SoupBinTCP, Server Heartbeat"]) { SoupBinTCP.serverHeartbeat(to: $0) }
        s.add(["SoupBinTCP, End of Session"]) { SoupBinTCP.endOfSession(to: $0) }
        return s
    }

    /// Client → server: Login Request, every inbound OUCH type, heartbeat, debug, logout.
    static func clientSession() -> CapturedSession {
        var s = CapturedSession(name: "client", sourcePort: 40_001, destinationPort: 8888)
        s.add(["SoupBinTCP, Login Request", "User Name: trader", "Password: s3cret", "Session:",
               "Requested sequence number: 1"]) {
            SoupBinTCP.loginRequest(username: SoupUsername("trader")!, password: SoupPassword("s3cret")!,
                                    session: .blank, sequence: 1, to: $0)
        }
        s.unsequenced(["SoupBinTCP, Unsequenced Data", "OUCH, Enter Order", "Order Token: ORD00000000001",
                       "Buy/Sell Indicator: Buy Order ('B')", "Shares: 300", "Stock: AAPL", "Price: $150.2500",
                       "Time In Force: Market Hours (99998)", "Firm: RTES", "Display: Anonymous-Price to Comply ('Y')",
                       "Capacity: Agency ('A')", "Intermarket Sweep Eligibility: Not eligible ('N')",
                       "Minimum Quantity: 100", "Cross Type: No Cross ('N')",
                       "Customer Type: Default configured for port (' ')"]) {
            OUCHInboundEncoder.enter(token: Fixture.token, side: .buy, shares: 300, symbol: Fixture.symbol,
                                     price: 1_502_500, firm: Fixture.firm, minimumQuantity: 100, to: $0)
        }
        s.unsequenced(["OUCH, Enter Order", "Order Token: ORD00000000002", "Buy/Sell Indicator: Sell Order ('S')",
                       "Price: Market", "Time In Force: Immediate Or Cancel (0)", "Firm:",
                       "Display: Non-Display ('N')", "Customer Type: Retail designated order ('R')"]) {
            OUCHInboundEncoder.enter(token: Fixture.token2, side: .sell, shares: 10, symbol: Fixture.symbol, price: 0,
                                     orderType: .market, timeInForce: .immediateOrCancel, display: .nonDisplayed,
                                     customerType: .retail, to: $0)
        }
        s.unsequenced(["OUCH, Replace Order", "Existing Order Token: ORD00000000001",
                       "Replacement Order Token: ORD00000000002", "Shares: 200", "Price: $150.3000",
                       "Time In Force: System Hours (99999)", "Display: Non-Display ('N')",
                       "Intermarket Sweep Eligibility: Not eligible ('N')", "Minimum Quantity: 0"]) {
            OUCHInboundEncoder.replace(existingToken: Fixture.token, replacementToken: Fixture.token2, shares: 200,
                                       price: 1_503_000, timeInForce: .systemHours, display: .nonDisplayed, to: $0)
        }
        s.unsequenced(["OUCH, Cancel Order", "Order Token: ORD00000000002", "Shares: 40"]) {
            OUCHInboundEncoder.cancel(token: Fixture.token2, shares: 40, to: $0)
        }
        s.unsequenced(["OUCH, Modify Order", "Order Token: ORD00000000002", "Buy/Sell Indicator: Sell Short ('T')",
                       "Shares: 30"]) {
            OUCHInboundEncoder.modify(token: Fixture.token2, side: .sellShort, shares: 30, to: $0)
        }
        s.add(["SoupBinTCP, Client Heartbeat"]) { SoupBinTCP.clientHeartbeat(to: $0) }
        s.add(["SoupBinTCP, Debug Packet", "Debug Text: rtes"]) { out in
            Array("rtes".utf8).withUnsafeBytes { SoupBinTCP.debug(text: $0, to: out) }
        }
        s.add(["SoupBinTCP, Logout Request"]) { SoupBinTCP.logoutRequest(to: $0) }
        return s
    }

    /// Another connection refused at login.
    static func rejectedSession() -> CapturedSession {
        var s = CapturedSession(name: "rejected", sourcePort: 8888, destinationPort: 40_002)
        s.add(["SoupBinTCP, Login Rejected", "Login Reject Code: Not authorized ('A')"]) {
            SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.notAuthorized, to: $0)
        }
        s.add(["SoupBinTCP, Login Rejected", "Login Reject Code: Session not available ('S')"]) {
            SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.sessionNotAvailable, to: $0)
        }
        return s
    }

    /// Words tshark prints when it could not make sense of a field or packet.
    static let complaints = ["Malformed", "Expert Info", "Unknown", "Exception", "[Packet size limited", "Bogus"]

    func check(_ session: CapturedSession) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rtes-tshark-\(getpid())-\(session.name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }  // clean-up only: a leftover directory fails nothing
        let (frames, output) = try session.decode(in: directory)
        try #require(frames.count == session.packets.count, "tshark saw \(frames.count) frames:\n\(output)")
        for (index, (packet, lines)) in zip(session.packets, frames).enumerated() {
            for expected in packet.expected {
                // A whole line, or the end of a summary line ("SoupBinTCP, Sequenced Data, SeqNum=3").
                let found = lines.contains { $0 == expected || $0.hasSuffix(", " + expected) }
                #expect(found, "\(session.name) frame \(index + 1): no '\(expected)' in\n\(lines.joined(separator: "\n"))")
            }
            for complaint in Self.complaints {
                let flagged = lines.filter { $0.contains(complaint) }
                #expect(flagged.isEmpty, "\(session.name) frame \(index + 1): \(flagged)")
            }
        }
    }

    @Test func decodesEveryServerMessageWithTheValuesWeEncoded() throws {
        try check(Self.serverSession())
    }

    @Test func decodesEveryClientMessageWithTheValuesWeEncoded() throws {
        try check(Self.clientSession())
    }

    @Test func decodesLoginRejectedReasons() throws {
        try check(Self.rejectedSession())
    }
}
