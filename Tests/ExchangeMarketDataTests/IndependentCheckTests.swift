import ExchangeCore
import ExchangeMarketData
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

// Independent peers read our bytes: PyPI's `itchfeed` parses every ITCH message of a captured
// session (and every golden message) and must report the field values our decoder reads;
// Wireshark's `moldudp64` dissector decodes every captured packet's framing and must agree on
// session, sequence numbers, counts and message lengths, flagging nothing.
//
// `.ci/itchfeed` installs itchfeed into a virtual environment and `.ci/tools` installs tshark
// and text2pcap, both idempotently; a peer that cannot be installed skips its test, saying why.

enum Peers {
    /// The repository: this file is Tests/ExchangeMarketDataTests/IndependentCheckTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs a program; its exit status and everything it printed.
    static func execute(_ path: String, _ arguments: [String], environment: [String: String] = [:]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = root
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// itchfeed's python, installed on first use; nil (with the reason printed) when it cannot be.
    static let itchfeedPython: String? = {
        let (status, output) = execute(root.appendingPathComponent(".ci/itchfeed").path, [])
        guard status == 0, let line = output.split(separator: "\n").last else {
            print("itchfeed check skipped: .ci/itchfeed said: \(output)")
            return nil
        }
        return root.appendingPathComponent(String(line)).path
    }()

    /// Whether tshark and text2pcap are there (installing them with .ci/tools if needed).
    static let tshark: Bool = {
        let (status, output) = execute(root.appendingPathComponent(".ci/tools").path, [])
        if status != 0 { print("tshark check skipped: .ci/tools said: \(output)") }
        return status == 0
    }()

    static func temporaryDirectory() throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("rtes-md-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A short session with every kind of book event (hidden orders for `P`, halts for `H`),
/// heartbeats and the closing, captured by a receiver: its packets and its messages in order.
final class CapturedFeed: @unchecked Sendable {
    var packets: [[UInt8]] = []
    var messages: [[UInt8]] = []

    static let shared: Result<CapturedFeed, any Error> = Result { try CapturedFeed() }

    init() throws {
        let rig = try FeedRig(commandCount: 8_000, seed: 42, rate: 40_000, nonDisplayedPerMille: 150, heartbeatNanoseconds: 50_000_000)
        let receiver = try rig.receiver()
        receiver.handler.recording = true
        receiver.onPacket = { [unowned self] packet, _ in self.packets.append(Array(packet)) }
        try rig.start()
        _ = pump([receiver], seconds: 20) {
            rig.commandsConsumed == UInt64(rig.commands.count) && receiver.handler.expected == rig.counter(MarketDataCounters.nextSequence)
        }
        _ = pump([receiver], seconds: 0.2) { false }  // a few heartbeats
        rig.stop()
        _ = pump([receiver], seconds: 5) { receiver.handler.ended }
        messages = receiver.handler.recorded
    }
}

@Suite(.serialized) struct IndependentCheckTests {
    /// itchfeed's attribute names and values for one of our decoded messages.
    static func itchfeedFields(_ message: ITCHMessage) -> [String: String] {
        func text(_ symbol: Symbol) -> String { String(decoding: withUnsafeBytes(of: symbol.rawValue.bigEndian) { Array($0) }, as: UTF8.self) }
        func text(_ firm: Firm) -> String { String(decoding: withUnsafeBytes(of: firm.rawValue.bigEndian) { Array($0) }, as: UTF8.self) }
        func char(_ byte: UInt8) -> String { String(UnicodeScalar(byte)) }
        var f: [String: String] = ["tracking_number": "0", "timestamp": "\(message.timestamp)"]
        switch message {
        case .systemEvent(let m):
            f["type"] = "S"; f["stock_locate"] = "0"; f["event_code"] = char(m.code)
        case .stockDirectory(let m):
            f["type"] = "R"; f["stock_locate"] = "\(m.locate)"; f["stock"] = text(m.symbol)
            f["market_category"] = char(m.marketCategory); f["financial_status_indicator"] = char(m.financialStatus)
            f["round_lot_size"] = "\(m.roundLotSize)"; f["round_lots_only"] = char(m.roundLotsOnly)
            f["issue_classification"] = char(m.issueClassification)
            f["issue_sub_type"] = char(UInt8(m.issueSubType >> 8)) + char(UInt8(m.issueSubType & 0xFF))
            f["authenticity"] = char(m.authenticity); f["short_sale_threshold_indicator"] = char(m.shortSaleThreshold)
            f["ipo_flag"] = char(m.ipoFlag); f["luld_ref"] = char(m.luldTier); f["etp_flag"] = char(m.etpFlag)
            f["etp_leverage_factor"] = "\(m.etpLeverageFactor)"; f["inverse_indicator"] = char(m.inverseIndicator)
        case .tradingAction(let m):
            f["type"] = "H"; f["stock_locate"] = "\(m.locate)"; f["stock"] = text(m.symbol); f["trading_state"] = char(m.state)
            f["reserved"] = char(m.reserved)
            f["reason"] = String(decoding: withUnsafeBytes(of: m.reason.bigEndian) { Array($0) }, as: UTF8.self)
        case .addOrder(let m):
            f["type"] = m.attribution == nil ? "A" : "F"; f["stock_locate"] = "\(m.locate)"
            f["order_reference_number"] = "\(m.reference)"; f["buy_sell_indicator"] = char(m.side); f["shares"] = "\(m.shares)"
            f["stock"] = text(m.symbol); f["price"] = "\(m.price)"
            if let firm = m.attribution { f["attribution"] = text(firm) }
        case .orderExecuted(let m):
            f["type"] = "E"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.reference)"
            f["executed_shares"] = "\(m.shares)"; f["match_number"] = "\(m.matchNumber)"
        case .orderExecutedWithPrice(let m):
            f["type"] = "C"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.reference)"
            f["executed_shares"] = "\(m.shares)"; f["match_number"] = "\(m.matchNumber)"; f["printable"] = char(m.printable)
            f["execution_price"] = "\(m.price)"
        case .orderCancel(let m):
            f["type"] = "X"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.reference)"
            f["cancelled_shares"] = "\(m.canceledShares)"
        case .orderDelete(let m):
            f["type"] = "D"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.reference)"
        case .orderReplace(let m):
            f["type"] = "U"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.originalReference)"
            f["new_order_reference_number"] = "\(m.newReference)"; f["shares"] = "\(m.shares)"; f["price"] = "\(m.price)"
        case .trade(let m):
            f["type"] = "P"; f["stock_locate"] = "\(m.locate)"; f["order_reference_number"] = "\(m.reference)"
            f["buy_sell_indicator"] = char(m.side); f["shares"] = "\(m.shares)"; f["stock"] = text(m.symbol)
            f["price"] = "\(m.price)"; f["match_number"] = "\(m.matchNumber)"
        case .crossTrade(let m):
            f["type"] = "Q"; f["stock_locate"] = "\(m.locate)"; f["shares"] = "\(m.shares)"; f["stock"] = text(m.symbol)
            f["cross_price"] = "\(m.price)"; f["match_number"] = "\(m.matchNumber)"; f["cross_type"] = char(m.crossType)
        case .imbalance(let m):
            f["type"] = "I"; f["stock_locate"] = "\(m.locate)"; f["paired_shares"] = "\(m.pairedShares)"
            f["imbalance_shares"] = "\(m.imbalanceShares)"; f["imbalance_direction"] = char(m.direction)
            f["stock"] = text(m.symbol); f["far_price"] = "\(m.farPrice)"; f["near_price"] = "\(m.nearPrice)"
            f["current_reference_price"] = "\(m.referencePrice)"; f["cross_type"] = char(m.crossType)
            f["variation_indicator"] = char(m.priceVariation)
        case .luldAuctionCollar(let m):
            f["type"] = "J"; f["stock_locate"] = "\(m.locate)"; f["stock"] = text(m.symbol)
            f["auction_collar_reference_price"] = "\(m.referencePrice)"; f["upper_auction_collar_price"] = "\(m.upperPrice)"
            f["lower_auction_collar_price"] = "\(m.lowerPrice)"; f["auction_collar_extention"] = "\(m.extensions)"  // itchfeed spells it so
        }
        return f
    }

    /// Prints one JSON object per message: every attribute itchfeed set, as text.
    static let itchfeedScript = """
    import json, sys
    from itch.parser import MessageParser
    out = []
    with open(sys.argv[1], "rb") as f:
        for m in MessageParser().parse_file(f):
            d = {"type": m.message_type.decode("latin-1")}
            for k, v in vars(m).items():
                if k in ("timestamp1", "timestamp2"):
                    continue
                d[k] = v.decode("latin-1") if isinstance(v, bytes) else str(v)
            out.append(d)
    json.dump(out, sys.stdout)
    """

    @Test(.enabled(if: Peers.itchfeedPython != nil, "itchfeed could not be installed (see .ci/itchfeed)"))
    func itchfeedParsesEveryMessageOfACapturedSessionWithOurFieldValues() throws {
        let feed = try CapturedFeed.shared.get()
        // Every golden message (so `C`, which the continuous book never produces, is checked
        // too), then the session (itchfeed stops at its End of Messages, as a handler should).
        let goldens = ITCHGoldens.all.map { bytes(hex: $0.hex) }
        let messages = goldens + feed.messages
        let kinds = Set(messages.map { $0[0] })
        #expect(kinds.isSuperset(of: Array("SRHAFECXDUP".utf8)), "message types captured: \(String(decoding: Array(kinds).sorted(), as: UTF8.self))")
        try Self.checkWithItchfeed(messages)
        #expect(feed.messages.count > 5_000)
    }

    /// itchfeed parses every one of `messages` (each u16 length + message), with the field
    /// values our decoder reads, and reads every field we publish.
    static func checkWithItchfeed(_ messages: [[UInt8]]) throws {
        let directory = try Peers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }  // clean-up only: a leftover directory fails nothing
        var file: [UInt8] = []
        for m in messages { file += [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }
        try Data(file).write(to: directory.appendingPathComponent("session.itch"))
        try Self.itchfeedScript.write(to: directory.appendingPathComponent("check.py"), atomically: true, encoding: .utf8)
        let (status, output) = Peers.execute(Peers.itchfeedPython!, [directory.appendingPathComponent("check.py").path,
                                                                     directory.appendingPathComponent("session.itch").path],
                                             environment: ["ITCH_NO_CPP": "1"])
        try #require(status == 0, "itchfeed failed: \(output.suffix(2_000))")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: String]])
        #expect(parsed.count == messages.count)
        var mismatches = 0
        for (i, raw) in messages.enumerated() where i < parsed.count {
            let message = try #require({ if case .success(let m) = decoded(raw) { m } else { nil } }(), "message \(i) does not decode (\(decoded(raw)))")
            let expected = Self.itchfeedFields(message)
            var theirs = parsed[i]
            theirs = theirs.filter { expected[$0.key] != nil || $0.key == "message_type" || $0.key == "description" }
            theirs.removeValue(forKey: "message_type")
            theirs.removeValue(forKey: "description")
            if theirs != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("message \(i): itchfeed \(parsed[i]) ours \(expected)") }
            }
            // Every field we publish must be one itchfeed read.
            #expect(Set(expected.keys).isSubset(of: Set(parsed[i].keys)), "message \(i): itchfeed lacks \(Set(expected.keys).subtracting(parsed[i].keys))")
        }
        #expect(mismatches == 0)
    }

    @Test(.enabled(if: Peers.tshark, "tshark/text2pcap could not be installed (see .ci/tools)"))
    func wiresharkDecodesTheFramingOfEveryCapturedPacket() throws {
        let feed = try CapturedFeed.shared.get()
        let (heartbeats, endOfSession) = try Self.checkWithTshark(feed.packets)
        #expect(heartbeats > 0)
        #expect(endOfSession == 1)
    }

    /// Wireshark's moldudp64 dissector decodes every one of `packets` (127.0.0.1:9999 →
    /// 239.0.0.1:9999) with our session, sequence numbers, counts and message lengths, and
    /// flags nothing; returns the heartbeats and End of Session packets among them.
    static func checkWithTshark(_ packets: [[UInt8]]) throws -> (heartbeats: Int, endOfSession: Int) {
        let directory = try Peers.temporaryDirectory()
        // Clean-up only (try?): a leftover directory fails nothing.
        defer { if ProcessInfo.processInfo.environment["RTES_KEEP_CAPTURE"] == nil { try? FileManager.default.removeItem(at: directory) } }
        print("capture: \(directory.path)")
        // One UDP datagram per packet, 127.0.0.1:9999 → 239.0.0.1:9999, in text2pcap's hex dump form.
        var dump = ""
        for packet in packets {
            for offset in stride(from: 0, to: packet.count, by: 16) {
                let line = packet[offset..<min(offset + 16, packet.count)].map { hexDigits([$0]) }.joined(separator: " ")
                dump += String(format: "%06x ", offset) + line + "\n"
            }
        }
        try dump.write(to: directory.appendingPathComponent("feed.txt"), atomically: true, encoding: .utf8)
        let pcap = directory.appendingPathComponent("feed.pcap").path
        let (made, madeOutput) = Peers.execute("/usr/bin/text2pcap", ["-q", "-4", "127.0.0.1,239.0.0.1", "-u", "9999,9999",
                                                                     directory.appendingPathComponent("feed.txt").path, pcap])
        try #require(made == 0, "text2pcap: \(madeOutput)")
        let fields = ["frame.number", "moldudp64.session", "moldudp64.sequence", "moldudp64.count", "moldudp64.msglen",
                      "moldudp64.msgseq", "moldudp64.msglen.invalid", "moldudp64.count.invalid", "moldudp64.end_of_session_extra",
                      "_ws.malformed", "_ws.expert.severity"]
        let (status, output) = Peers.execute("/usr/bin/tshark", ["-r", pcap, "-d", "udp.port==9999,moldudp64", "-T", "fields",
                                                                  "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
                                                  + fields.flatMap { ["-e", $0] })
        try #require(status == 0, "tshark: \(output.suffix(2_000))")
        // (tshark may print a warning first, e.g. about running as root: rows start with the frame number.)
        let rows = output.split(separator: "\n", omittingEmptySubsequences: true).filter { $0.first?.isNumber == true }.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == packets.count)
        var heartbeats = 0
        var endOfSession = 0
        for (i, row) in rows.enumerated() where i < packets.count && row.count == fields.count {
            let packet = try packets[i].withUnsafeBytes { try MoldUDP64.readPacket($0).get() }
            var lengths: [String] = []
            var sequences: [String] = []
            packet.forEachMessage { sequence, message in
                lengths.append("\(message.count)")
                sequences.append("\(sequence)")
            }
            if packet.isHeartbeat { heartbeats += 1 }
            if packet.isEndOfSession { endOfSession += 1 }
            #expect(row[1] == String(decoding: packets[i][0..<10], as: UTF8.self), "packet \(i) session \(row[1])")
            #expect(row[2] == "\(packet.sequence)", "packet \(i) sequence")
            #expect(row[3] == "\(packet.count)", "packet \(i) count")
            #expect(row[4] == lengths.joined(separator: ","), "packet \(i) lengths")
            #expect(row[5] == sequences.joined(separator: ","), "packet \(i) message sequence numbers")
            // Invalid lengths or counts, malformed packets, and expert warnings or errors are
            // flagged; comments (the dissector notes an End of Session) are not.
            let severities = row[10].split(separator: ",").compactMap { Int($0) }
            let flags = row[6...9].filter { !$0.isEmpty } + severities.filter { $0 >= 0x0060_0000 }.map { "expert \($0)" }
            #expect(flags.isEmpty, "packet \(i) flagged: \(flags)")
            if !severities.isEmpty { #expect(packet.isEndOfSession, "packet \(i) has expert info \(severities)") }
        }
        return (heartbeats, endOfSession)
    }
}
