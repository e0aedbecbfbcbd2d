import ExchangeCore
import ExchangeFeed
import ExchangeMarketData
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// A whole accelerated trading day (`trading_day`, clock_rate 5000: 09:00–16:30 in 5.4 s) on
/// an in-process exchange with the demo flow trading, captured from the multicast feed from its
/// first message until the next day's pre-open: the day's System Events in order, imbalance
/// indicators before both crosses, the opening cross, the instruments' trading states; then
/// every message through itchfeed and every packet through Wireshark's dissector (each skipped
/// with its reason when the peer cannot be installed).
@Suite(.serialized) struct TradingDayFeedTests {
    final class Capture: @unchecked Sendable {
        var packets: [[UInt8]] = []
        var messages: [UInt64: [UInt8]] = [:]
        var systemEvents: [UInt8] = []

        func record(_ packet: UnsafeRawBufferPointer) {
            packets.append(Array(packet))
            FeedArchiveTests.Recorder.blocks(of: packet) { sequence, block in
                guard messages[sequence] == nil else { return }
                let message = Array(block.dropFirst(2))
                messages[sequence] = message
                if message.first == UInt8(ascii: "S"), message.count == ITCH.Length.systemEvent { systemEvents.append(message[11]) }
            }
        }

        var ordered: [[UInt8]] { messages.keys.sorted().map { messages[$0]! } }
    }

    static let day = #""enabled": true, "pre_open": "09:00", "open": "09:30", "close": "16:00", "end": "16:30", "clock_rate": 5000, "start_time": "09:00", "opening_imbalance_seconds": 300, "closing_imbalance_seconds": 600, "imbalance_interval_seconds": 60"#

    /// Captured once for the tests below.
    static let captured: Result<Capture, any Error> = Result {
        let udpPort = freeUDPPort()
        var knobs = ExchangeKnobs(demoFlowRate: 20_000, demoFlowCommands: 40_000)
        knobs.udpPort = udpPort
        knobs.tradingDay = day
        let live = try FeedClient(group: 0xEF00_0001, port: UInt16(udpPort), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                  retransmitPort: 9, instrumentCount: 3, orderCapacity: 20_000)
        let capture = Capture()
        live.onPacket = { packet, _ in capture.record(packet) }
        let exchange = try TestExchange(knobs)
        // O, S (09:00), Q (09:30), M (16:00), E (16:30), then the next day's S: one whole day.
        let wholeDay: [UInt8] = Array("OSQMES".utf8)
        let seen = waitUntil(timeout: .seconds(60)) {
            _ = live.poll(timeoutMilliseconds: 5)
            return capture.systemEvents.count >= wholeDay.count
        }
        exchange.drain()
        _ = waitUntil(timeout: .seconds(10)) { live.poll(timeoutMilliseconds: 5) >= 0 && live.handler.ended }
        guard seen else {
            throw ExpectationFailed("the feed's System Events were \(String(decoding: capture.systemEvents, as: UTF8.self)) after 60 s")
        }
        return capture
    }

    struct ExpectationFailed: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func theFeedCarriesTheWholeDayInOrder() throws {
        let capture = try Self.captured.get()
        #expect(Array(capture.systemEvents.prefix(6)) == Array("OSQMES".utf8),
                "System Events \(String(decoding: capture.systemEvents, as: UTF8.self))")
        var imbalanceCrosses: Set<UInt8> = []
        var crossTrades: [UInt8: UInt64] = [:]
        var states: Set<UInt8> = []
        var undecoded = 0
        for raw in capture.ordered {
            switch decoded(raw) {
            case .success(.imbalance(let m)): imbalanceCrosses.insert(m.crossType)
            case .success(.crossTrade(let m)): crossTrades[m.crossType, default: 0] += m.shares
            case .success(.tradingAction(let m)): states.insert(m.state)
            case .success: break
            case .failure: undecoded += 1
            }
        }
        #expect(undecoded == 0)
        // Indicators before the opening (O) and the closing (C) cross.
        #expect(imbalanceCrosses.isSuperset(of: [UInt8(ascii: "O"), UInt8(ascii: "C")]), "imbalance cross types \(imbalanceCrosses)")
        // The demo flow's marketable orders waited through pre-open and crossed at the open.
        #expect((crossTrades[UInt8(ascii: "O")] ?? 0) > 0, "cross trades \(crossTrades)")
        // Pre-open quotation only (Q), then trading (T).
        #expect(states.isSuperset(of: [UInt8(ascii: "Q"), UInt8(ascii: "T")]), "trading states \(states)")
    }

    @Test(.enabled(if: Peers.itchfeedPython != nil, "itchfeed could not be installed (see .ci/itchfeed)"))
    func itchfeedParsesTheWholeDay() throws {
        let capture = try Self.captured.get()
        try IndependentCheckTests.checkWithItchfeed(capture.ordered)
    }

    @Test(.enabled(if: Peers.tshark, "tshark/text2pcap could not be installed (see .ci/tools)"))
    func wiresharkDecodesEveryPacketOfTheDay() throws {
        let capture = try Self.captured.get()
        let (_, endOfSession) = try IndependentCheckTests.checkWithTshark(capture.packets)
        #expect(endOfSession == 1)
    }

    /// A late joiner's snapshot tells where the day is: the market's System Event and each
    /// instrument's last Trading Action — pre-open's `Q` (a half-speed day, started at 09:00,
    /// stays in pre-open for 15 minutes), then after an operator's halt `H` with `O1`.
    @Test func aSnapshotTellsALateJoinerThePhaseOfEverySymbol() throws {
        var knobs = ExchangeKnobs()
        knobs.udpPort = freeUDPPort()
        knobs.tradingDay = #""enabled": true, "pre_open": "09:00", "open": "09:30", "close": "16:00", "end": "16:30", "clock_rate": 2, "start_time": "09:00", "opening_imbalance_seconds": 0"#
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let port = UInt16(exchange.appliance.snapshotPort)
        /// The snapshot's System Event code, and per symbol its Trading Action as "state reason".
        func states() -> [String: String] {
            guard case .success(let snapshot) = SnapshotClient.fetch(
                host: 0x7F00_0001, port: port, username: SoupUsername("DEMO1")!, password: SoupPassword("demo1pass")!) else { return [:] }
            var result: [String: String] = [:]
            for raw in snapshot.messages {
                switch decoded(raw) {
                case .success(.systemEvent(let m)): result["market"] = String(UnicodeScalar(m.code))
                case .success(.tradingAction(let m)):
                    let symbol = String(decoding: withUnsafeBytes(of: m.symbol.rawValue.bigEndian) { Array($0) }, as: UTF8.self)
                    let reason = String(decoding: withUnsafeBytes(of: m.reason.bigEndian) { Array($0) }, as: UTF8.self)
                    result[symbol.trimmingCharacters(in: .whitespaces)] = String(UnicodeScalar(m.state)) + " " + reason
                default: break
                }
            }
            return result
        }
        // The service's copy follows the feed: wait until it has the pre-open's messages.
        var seen: [String: String] = [:]
        _ = waitUntil(timeout: .seconds(10)) {
            seen = states()
            return seen["AAPL"] == "Q     "
        }
        #expect(seen["market"] == "S", "\(seen)")
        for symbol in ["AAPL", "MSFT", "QUIET"] {
            #expect(seen[symbol] == "Q     ", "\(symbol): \(seen)")
        }
        // An operator halts MSFT (Nasdaq's halt, from pre-open).
        #expect(exchange.appliance.operatorActions.offer(.init(symbol: Symbol("MSFT")!, action: .halt)))
        _ = waitUntil(timeout: .seconds(10)) {
            seen = states()
            return seen["MSFT"]?.hasPrefix("H") == true
        }
        #expect(seen["MSFT"] == "H O1  ", "\(seen)")
        #expect(seen["AAPL"] == "Q     ", "\(seen)")
    }
}
