import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Testing

/// An independent check of the gateway's real traffic: a session exercising every SoupBinTCP
/// packet and OUCH 4.2 message type runs against an in-process exchange; the bytes each
/// client sent and received go into a pcap (one TCP segment per packet); Wireshark's own
/// SoupBinTCP and OUCH dissectors decode it (`tshark -d tcp.port==8888,soupbintcp`) and
/// every field must hold what the session asked for, with nothing malformed or flagged.
///
/// tshark comes from `.ci/tools` (Debian's package, installed when missing; RTES_NO_INSTALL=1
/// only checks). Without it the test is skipped, saying why.
@Suite struct TsharkOverGatewayTraffic {
    static let serverPort: UInt16 = 8_888

    @Test(.enabled(if: ExternalTools.tshark != nil, ExternalTools.tsharkMissingReason))
    func decodesEveryMessageTypeOfARealSessionWithTheRightFieldsAndNothingMalformed() throws {
        let tshark = try #require(ExternalTools.tshark)
        let knobs = ExchangeKnobs(heartbeatIntervalMilliseconds: 50)
        // DEMO1 may also name firm ABCD (R3 below): any other firm would be refused (Rejected L).
        var keys = devKeys
        keys.accounts[0].firms = [Firm("ABCD")!]
        let exchange = try TestExchange(knobs, keys: keys)
        defer { exchange.drain() }

        // DEMO1: every order message and every reply; DEMO2: the other side of a trade, then Logout.
        let demo1 = try SoupTestClient(port: exchange.port)
        demo1.recording = true
        #expect(demo1.login(.demo1, sequence: 1).packet?.loginAccepted?.sequence == 1)
        demo1.send(Client.debug("hello from DEMO1"))
        demo1.send(Client.unsequenced(Client.enter("R1", "S", 300, "AAPL", price(231), timeInForce: 99_999, firm: "",
                                                   display: "Y", capacity: "A", iso: "N", minimumQuantity: 0, crossType: "N")))
        demo1.send(Client.unsequenced(Client.replace("R1", "R2", 300, price(230.5), timeInForce: 99_999, display: "Y")))
        demo1.send(Client.unsequenced(Client.modify("R2", "S", 200)))
        demo1.send(Client.unsequenced(Client.enter("R3", "B", 100, "MSFT", price(410), timeInForce: 0, firm: "ABCD",
                                                   display: "N", capacity: "P", minimumQuantity: 0)))
        demo1.send(Client.unsequenced(Client.enter("R4", "B", 100, "AAPL", price(229), firm: "DEM1")))
        demo1.send(Client.unsequenced(Client.cancel("R4", shares: 40)))
        demo1.send(Client.unsequenced(Client.cancel("R4")))
        demo1.send(Client.order("R5", "S", 100, "NOPE", price(10)))
        demo1.send(Client.unsequenced(Client.cancel("NOSUCH")))
        demo1.send(Client.heartbeat)
        let firstReplies = demo1.replies(1 + 10)
        #expect(firstReplies?.map(\.type) == ["S", "A", "U", "M", "A", "C", "A", "C", "C", "J", "I"], "\(demo1.unexpected)")

        let demo2 = try SoupTestClient(port: exchange.port)
        demo2.recording = true
        #expect(demo2.login(.demo2).packet?.loginAccepted?.sequence == 2)
        demo2.send(Client.order("T1", "B", 150, "AAPL", price(231)))
        #expect(demo2.replies(2)?.map(\.type) == ["A", "E"])
        #expect(demo1.replies(1)?.first?.type == "E")
        #expect(demo2.logOut())

        // A server heartbeat after 50 ms of silence.
        #expect(demo1.next(timeout: 2).packet?.isHeartbeat == true)

        // Refused logins: A (bad password), S (unknown session, with a Debug saying why).
        let refusedA = try SoupTestClient(port: exchange.port)
        refusedA.recording = true
        refusedA.send(Client.login(Credentials(username: "DEMO1", password: "nope")))
        #expect(refusedA.readUntilClosed() == ([.loginRejected("A")], .closed))
        let refusedS = try SoupTestClient(port: exchange.port)
        refusedS.recording = true
        refusedS.send(Client.login(.demo2, session: "OLDSESSION", sequence: 1))
        #expect(refusedS.readUntilClosed().packets.map(\.type) == [ascii("+"), ascii("J")])

        // Shutdown: End of Day, End of Session.
        let drained = DispatchSemaphore(value: 0)
        Thread {
            exchange.drain()
            drained.signal()
        }.start()
        let (last, end) = demo1.readUntilClosed(timeout: 5)
        #expect(end == .closed)
        #expect(drained.wait(timeout: .now() + 10) == .success)
        #expect(last.filter { !$0.isHeartbeat }.map(\.type) == [ascii("S"), ascii("Z")])

        var pcap = PcapWriter()
        let clients = [demo1, demo2, refusedA, refusedS]
        for (i, client) in clients.enumerated() {
            pcap.conversation(clientPort: UInt16(40_001 + i), serverPort: Self.serverPort, client.transcript.flatMap { entry in
                soupPackets(entry.bytes).map { (entry.direction == .sent, $0) }
            })
        }
        let file = NSTemporaryDirectory() + "rtes-gateway-\(getpid())-\(UUID().uuidString).pcap"
        try pcap.data.write(to: URL(fileURLWithPath: file))
        defer { if ProcessInfo.processInfo.environment["RTES_KEEP_PCAP"] == nil { unlink(file) } else { print("pcap: \(file)") } }

        let frames = try TsharkFrames.decode(tshark: tshark, file: file, port: Self.serverPort)
        let soup = frames.filter { $0["soupbintcp.packet_type"] != nil }
        let transcriptPackets = clients.map { client in
            client.transcript.flatMap { soupPackets($0.bytes) }.count
        }.reduce(0, +)
        #expect(soup.count == transcriptPackets, "every packet decoded as SoupBinTCP")
        for frame in frames {
            // Expert infos at "Chat" level are tshark noting the TCP handshake; anything else is a finding.
            let expert = (frame["_ws.expert"] ?? "").split(separator: "|").filter { !$0.contains("(Chat/") }
            #expect(frame["_ws.malformed"] == nil && expert.isEmpty, "frame \(frame["frame.number"] ?? ""): \(frame)")
        }
        // Every OUCH timestamp is nanoseconds since midnight, UTC, of today: wall time by the
        // protocol, so the wall clock (Date) is what it is compared with, within a minute,
        // across midnight too.
        let day: UInt64 = 86_400_000_000_000
        let now = UInt64(Date().timeIntervalSince1970 * 1e9) % day
        for frame in soup {
            guard let text = frame["ouch.timestamp"] else { continue }
            let parts = text.split(whereSeparator: { $0 == ":" || $0 == "." }).compactMap { UInt64($0) }
            let nanoseconds = parts.count == 4 ? ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1_000_000_000 + parts[3] : 0
            let distance = nanoseconds > now ? nanoseconds - now : now - nanoseconds
            let skew = min(distance, day - min(distance, day))
            #expect(skew < 60_000_000_000, "frame \(frame["frame.number"] ?? ""): timestamp \(text)")
        }

        // Field by field, in the order they went (client ports 40001…).
        var expectations = TsharkExpectations(frames: soup)
        expectations.check(port: 40_001, type: "L", ["soupbintcp.username": "DEMO1", "soupbintcp.session": "",
                                                      "soupbintcp.password": "demo1pass", "text": "Requested sequence number: 1"])
        expectations.check(port: 40_001, type: "A", ["soupbintcp.session": testSessionName, "text": "Next sequence number: 1"])
        expectations.check(port: 40_001, type: "+", ["soupbintcp.text": "hello from DEMO1"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "O", "ouch.order_token": "R1", "ouch.buy_sell_indicator": "S",
                                                      "ouch.shares": "300", "ouch.stock": "AAPL", "ouch.price": "2310000",
                                                      "ouch.tif": "99999", "ouch.display": "Y", "ouch.capacity": "A"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "U", "ouch.existing_order_token": "R1",
                                                      "ouch.replacement_order_token": "R2", "ouch.shares": "300", "ouch.price": "2305000"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "M", "ouch.order_token": "R2", "ouch.buy_sell_indicator": "S",
                                                      "ouch.shares": "200"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "O", "ouch.order_token": "R3", "ouch.firm": "ABCD",
                                                      "ouch.tif": "0", "ouch.display": "N", "ouch.capacity": "P"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "O", "ouch.order_token": "R4"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "X", "ouch.order_token": "R4", "ouch.shares": "40"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "X", "ouch.order_token": "R4", "ouch.shares": "0"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "O", "ouch.order_token": "R5", "ouch.stock": "NOPE"])
        expectations.check(port: 40_001, type: "U", ["ouch.packet_type": "X", "ouch.order_token": "NOSUCH"])
        expectations.check(port: 40_001, type: "R", [:])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "S", "ouch.event_code": "S", "text": "Sequence number: 1 "])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "A", "ouch.order_token": "R1", "ouch.buy_sell_indicator": "S",
                                                      "ouch.shares": "300", "ouch.stock": "AAPL", "ouch.price": "2310000", "ouch.tif": "99999",
                                                      "ouch.firm": "DEM1", "ouch.display": "Y", "ouch.capacity": "A", "ouch.iso_eligible": "N",
                                                      "ouch.min_quantity": "0", "ouch.cross_type": "N", "ouch.order_state": "L"],
                           nonzero: ["ouch.order_reference_number", "ouch.timestamp"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "U", "ouch.replacement_order_token": "R2", "ouch.previous_order_token": "R1",
                                                      "ouch.buy_sell_indicator": "S", "ouch.shares": "300", "ouch.stock": "AAPL",
                                                      "ouch.price": "2305000", "ouch.firm": "DEM1", "ouch.order_state": "L"],
                           nonzero: ["ouch.order_reference_number"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "M", "ouch.order_token": "R2", "ouch.buy_sell_indicator": "S",
                                                      "ouch.shares": "200"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "A", "ouch.order_token": "R3", "ouch.buy_sell_indicator": "B",
                                                      "ouch.stock": "MSFT", "ouch.price": "4100000", "ouch.tif": "0", "ouch.firm": "ABCD",
                                                      "ouch.display": "N", "ouch.capacity": "P", "ouch.order_state": "D"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "C", "ouch.order_token": "R3", "ouch.decrement_shares": "100",
                                                      "ouch.cancel_reason": "I"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "A", "ouch.order_token": "R4", "ouch.firm": "DEM1"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "C", "ouch.order_token": "R4", "ouch.decrement_shares": "60",
                                                      "ouch.cancel_reason": "U"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "C", "ouch.order_token": "R4", "ouch.decrement_shares": "40",
                                                      "ouch.cancel_reason": "U"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "J", "ouch.order_token": "R5", "ouch.reject_reason": "S"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "I", "ouch.order_token": "NOSUCH"])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "E", "ouch.order_token": "R2", "ouch.executed_shares": "150",
                                                      "ouch.execution_price": "2305000", "ouch.liquidity_flag": "A"],
                           nonzero: ["ouch.match_number"])
        expectations.check(port: 40_001, type: "H", [:])
        expectations.check(port: 40_001, type: "S", ["ouch.packet_type": "S", "ouch.event_code": "E", "text": "Sequence number: 13 "])
        expectations.check(port: 40_001, type: "Z", [:])
        expectations.check(port: 40_002, type: "L", ["soupbintcp.username": "DEMO2", "text": "Requested sequence number: 0"])
        expectations.check(port: 40_002, type: "A", ["text": "Next sequence number: 2"])
        expectations.check(port: 40_002, type: "U", ["ouch.packet_type": "O", "ouch.order_token": "T1", "ouch.buy_sell_indicator": "B"])
        expectations.check(port: 40_002, type: "S", ["ouch.packet_type": "A", "ouch.order_token": "T1", "ouch.firm": "DEM2",
                                                      "ouch.shares": "150", "text": "Sequence number: 2 "])
        expectations.check(port: 40_002, type: "S", ["ouch.packet_type": "E", "ouch.order_token": "T1", "ouch.executed_shares": "150",
                                                      "ouch.execution_price": "2305000", "ouch.liquidity_flag": "R"])
        expectations.check(port: 40_002, type: "O", [:])
        expectations.check(port: 40_003, type: "J", ["soupbintcp.reject_code": "A"])
        expectations.check(port: 40_004, type: "L", ["soupbintcp.username": "DEMO2", "soupbintcp.session": "OLDSESSION"])
        expectations.check(port: 40_004, type: "+", ["soupbintcp.text": refusedS.transcript.last { $0.direction == .received }
            .map { _ in "RTES: unknown session; log in to the current one (blank)" } ?? ""])
        expectations.check(port: 40_004, type: "J", ["soupbintcp.reject_code": "S"])
        // The match number is the same on both sides of the trade.
        let matches = soup.filter { $0["ouch.packet_type"] == "E" }.compactMap { $0["ouch.match_number"] }
        #expect(matches.count == 2 && Set(matches).count == 1, "\(matches)")
        for problem in expectations.problems { Issue.record(Comment(rawValue: problem)) }
    }
}

/// Splits a byte stream into whole SoupBinTCP packets (what the client sent in one write).
func soupPackets(_ bytes: [UInt8]) -> [[UInt8]] {
    var packets: [[UInt8]] = []
    var i = 0
    while i + 2 <= bytes.count {
        let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
        let end = min(bytes.count, i + 2 + length)
        packets.append(Array(bytes[i..<end]))
        i = end
    }
    return packets
}

/// Finds each expected packet, in order, among the decoded frames of its conversation.
struct TsharkExpectations {
    let frames: [[String: String]]
    var cursor: [String: Int] = [:]
    var problems: [String] = []

    init(frames: [[String: String]]) { self.frames = frames }

    /// The next frame on client port `port` (either direction) of Soup type `type` must hold
    /// `fields` exactly and `nonzero` fields other than 0.
    mutating func check(port: Int, type: String, _ fields: [String: String], nonzero: [String] = []) {
        let key = String(port)
        let start = cursor[key] ?? 0
        guard let index = frames.indices.dropFirst(start).first(where: {
            (frames[$0]["tcp.srcport"] == key || frames[$0]["tcp.dstport"] == key) && frames[$0]["soupbintcp.packet_type"] == type
        }) else {
            problems.append("port \(port): no \(type) packet after frame \(start) for \(fields)")
            return
        }
        cursor[key] = index + 1
        let frame = frames[index]
        for (name, value) in fields where name == "text" && !(frame["text"] ?? "").contains(value) {
            problems.append("frame \(frame["frame.number"] ?? "?") (\(type)): tshark -V does not say \"\(value)\"")
        }
        for (name, value) in fields where name != "text" && frame[name, default: ""] != value {
            problems.append("frame \(frame["frame.number"] ?? "?") (\(type)): \(name) is \(frame[name] ?? "absent"), expected \(value)")
        }
        for name in nonzero where (frame[name] ?? "0") == "0" {
            problems.append("frame \(frame["frame.number"] ?? "?") (\(type)): \(name) is \(frame[name] ?? "absent"), expected nonzero")
        }
    }
}

/// tshark's decoding of a pcap, one dictionary of field → value per frame.
enum TsharkFrames {
    static let fields = [
        "frame.number", "tcp.srcport", "tcp.dstport", "_ws.malformed", "_ws.expert",
        "soupbintcp.packet_type", "soupbintcp.packet_length", "soupbintcp.username", "soupbintcp.password", "soupbintcp.session", "soupbintcp.req_seq_num",
        "soupbintcp.next_seq_num", "soupbintcp.seq_num", "soupbintcp.reject_code", "soupbintcp.text",
        "ouch.packet_type", "ouch.timestamp", "ouch.order_token", "ouch.existing_order_token", "ouch.replacement_order_token",
        "ouch.previous_order_token", "ouch.buy_sell_indicator", "ouch.shares", "ouch.stock", "ouch.price", "ouch.tif", "ouch.firm",
        "ouch.display", "ouch.capacity", "ouch.iso_eligible", "ouch.min_quantity", "ouch.cross_type", "ouch.customer_type",
        "ouch.order_reference_number", "ouch.order_state", "ouch.bbo_weight_indicator", "ouch.decrement_shares",
        "ouch.cancel_reason", "ouch.executed_shares", "ouch.execution_price", "ouch.liquidity_flag", "ouch.match_number",
        "ouch.reject_reason", "ouch.event_code", "ouch.unknown_message",
    ]

    static func decode(tshark: String, file: String, port: UInt16) throws -> [[String: String]] {
        var arguments = ["-n", "-r", file, "-d", "tcp.port==\(port),soupbintcp", "-T", "fields", "-E", "separator=\t",
                         "-E", "occurrence=a", "-E", "aggregator=|"]
        for field in fields { arguments += ["-e", field] }
        let result = try ExternalTools.run(tshark, arguments)
        guard result.status == 0 else { throw ToolFailed(output: result.output) }
        // The sequence number fields print as a placeholder in -T fields: their values are in -V text.
        let verbose = try ExternalTools.run(tshark, ["-n", "-r", file, "-d", "tcp.port==\(port),soupbintcp", "-V"])
        guard verbose.status == 0 else { throw ToolFailed(output: verbose.output) }
        var texts: [String: String] = [:]
        var current = ""
        for line in verbose.output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Frame "), let number = line.dropFirst(6).split(separator: ":").first {
                current = String(number)
            }
            texts[current, default: ""] += line + "\n"
        }
        return result.output.split(separator: "\n").compactMap { line in
            let values = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard values.count == fields.count else { return nil }
            var frame: [String: String] = [:]
            for (field, value) in zip(fields, values) where !value.isEmpty {
                // FT_CHAR fields print quoted ('A'); strings keep their padding trimmed.
                var text = String(value)
                if text.count == 3 && text.first == "'" && text.last == "'" { text = String(text.dropFirst().dropLast()) }
                frame[field] = text.trimmingCharacters(in: .whitespaces)
            }
            frame["text"] = frame["frame.number"].flatMap { texts[$0] }
            return frame
        }
    }
}
