import ExchangeConfig
import ExchangeFeed
import ExchangeMarketData
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Testing

/// MoldUDP64 re-requests older than the re-request history (`market_data.retransmit_history_messages`,
/// 1,024 here), answered from the day's journal by the journal archive (docs/DURABILITY.md,
/// "The journal archive") with the bytes the live feed sent, under the same sequence numbers.
@Suite(.serialized) struct FeedArchiveTests {
    typealias Cell = MarketDataCounters

    /// Every MoldUDP64 block the multicast feed carried, by sequence number.
    final class Recorder: @unchecked Sendable {
        var blocks: [UInt64: [UInt8]] = [:]

        func record(_ packet: UnsafeRawBufferPointer) {
            Self.blocks(of: packet) { blocks[$0] = $1 }
        }

        /// Calls `body` with each block's sequence number and bytes (u16 length, then the message).
        static func blocks(of packet: UnsafeRawBufferPointer, _ body: (UInt64, [UInt8]) -> Void) {
            guard packet.count >= MoldUDP64.headerLength else { return }
            var sequence: UInt64 = 0
            for i in 10..<18 { sequence = sequence << 8 | UInt64(packet[i]) }
            let count = Int(packet[18]) << 8 | Int(packet[19])
            guard count < 0xFFFF else { return }
            var offset = MoldUDP64.headerLength
            for n in 0..<count {
                guard offset + 2 <= packet.count else { return }
                let length = Int(packet[offset]) << 8 | Int(packet[offset + 1])
                guard offset + 2 + length <= packet.count else { return }
                body(sequence + UInt64(n), Array(packet[offset..<(offset + 2 + length)]))
                offset += 2 + length
            }
        }
    }

    @Test func aReRequestOlderThanTheHistoryIsAnsweredFromTheJournalWithTheBytesTheFeedSent() throws {
        let root = NSTemporaryDirectory() + "rtes-feed-archive-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let udpPort = freeUDPPort()
        var knobs = ExchangeKnobs(demoFlowRate: 50_000, demoFlowCommands: 3_000)
        knobs.retransmitHistoryMessages = 1_024
        knobs.udpPort = udpPort
        knobs.durability = #"{ "mode": "async", "directory": "\#(root)", "segment_bytes": 4194304, "group_commit_max_bytes": 65536 }"#
        // Joined before the exchange starts: it sees the feed from its first message.
        let live = try FeedClient(group: 0xEF00_0001, port: UInt16(udpPort), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                  retransmitPort: 9, instrumentCount: 3, orderCapacity: 20_000)
        let recorder = Recorder()
        live.onPacket = { packet, _ in recorder.record(packet) }
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        // The demo flow runs: wait until the feed is well past the history and quiet.
        var last: UInt64 = 0
        let settled = waitUntil(timeout: .seconds(30)) {
            _ = live.poll(timeoutMilliseconds: 5)
            let next = exchange.snapshot().marketData["next_sequence"] ?? 0
            defer { last = next }
            return next > 2_500 && next == last && recorder.blocks.count >= Int(next - 1)
        }
        #expect(settled, "the feed reached \(last), \(recorder.blocks.count) messages recorded")
        let oldest = exchange.snapshot().marketData["history_oldest"] ?? 0
        #expect(oldest > 1_000)

        let requester = try FeedClient(group: 0xEFFF_FFF1, port: UInt16(freeUDPPort()), interface: 0x7F00_0001,
                                       retransmitHost: 0x7F00_0001, retransmitPort: UInt16(exchange.appliance.retransmitPort),
                                       instrumentCount: 3, orderCapacity: 1_000)
        var answers: [(sequence: UInt64, blocks: [[UInt8]])] = []
        requester.onAnswer = { packet in
            var blocks: [[UInt8]] = []
            var first: UInt64?
            Recorder.blocks(of: packet) { sequence, block in
                if first == nil { first = sequence }
                blocks.append(block)
            }
            if let first { answers.append((first, blocks)) }
        }
        func ask(_ sequence: UInt64, _ count: UInt16) {
            var request = [UInt8](repeating: 0, count: MoldUDP64.requestLength)
            _ = request.withUnsafeMutableBytes {
                MoldUDP64.writeRequest(session: SoupSessionName(exchange.appliance.feedSessionName)!, sequence: sequence, count: count,
                                       to: $0.baseAddress!)
            }
            request.withUnsafeBytes { _ = requester.sendToRetransmitServer($0) }
        }
        for (sequence, count) in [(UInt64(1), UInt16(20)), (500, 30), (oldest - 10, 10)] {
            answers.removeAll()
            ask(sequence, count)
            let answered = waitUntil(timeout: .seconds(20)) {
                _ = requester.poll(timeoutMilliseconds: 5)
                return !answers.isEmpty
            }
            #expect(answered, "no answer to \(sequence)")
            guard let answer = answers.first else { continue }
            #expect(answer.sequence == sequence)
            #expect(answer.blocks.count == Int(count), "\(answer.blocks.count) messages from \(sequence)")
            for (i, block) in answer.blocks.enumerated() {
                #expect(block == recorder.blocks[sequence + UInt64(i)], "message \(sequence + UInt64(i)) differs from the live feed's")
            }
        }
        let counters = exchange.snapshot().marketData
        #expect(counters["retransmit_archive_requests"] == 3)
        #expect(counters["retransmit_archive_answered"] == 3)
        #expect(counters["retransmit_archive_messages"] == 60)
        #expect(counters["retransmit_before_history"] == 3)
    }

    @Test func withoutAJournalAReRequestOlderThanTheHistoryIsDroppedAndCountedAsBefore() throws {
        var knobs = ExchangeKnobs(demoFlowRate: 50_000, demoFlowCommands: 2_000)
        knobs.retransmitHistoryMessages = 1_024
        knobs.udpPort = freeUDPPort()
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        #expect(exchange.waitFor(.seconds(30)) { ($0.marketData["history_oldest"] ?? 0) > 100 })
        let requester = try FeedClient(group: 0xEFFF_FFF2, port: UInt16(freeUDPPort()), interface: 0x7F00_0001,
                                       retransmitHost: 0x7F00_0001, retransmitPort: UInt16(exchange.appliance.retransmitPort),
                                       instrumentCount: 3, orderCapacity: 1_000)
        var request = [UInt8](repeating: 0, count: MoldUDP64.requestLength)
        _ = request.withUnsafeMutableBytes {
            MoldUDP64.writeRequest(session: SoupSessionName(exchange.appliance.feedSessionName)!, sequence: 1, count: 5, to: $0.baseAddress!)
        }
        request.withUnsafeBytes { _ = requester.sendToRetransmitServer($0) }
        #expect(exchange.waitFor(.seconds(5)) { $0.marketData["retransmit_before_history"] == 1 })
        #expect(exchange.snapshot().marketData["retransmit_archive_requests"] == 0)
    }
}
