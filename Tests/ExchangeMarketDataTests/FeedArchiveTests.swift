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

    @Test
    func aReRequestOlderThanTheHistoryIsAnsweredFromTheJournalWithTheBytesTheFeedSent() throws {
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

        // A plain UDP socket (a FeedClient's handler would re-request the gaps it sees by itself).
        let requester = try RawRequester(port: exchange.appliance.retransmitPort)
        defer { requester.close() }
        let session = SoupSessionName(exchange.appliance.feedSessionName)!
        for (sequence, count) in [(UInt64(1), UInt16(20)), (500, 30), (oldest - 10, 10)] {
            requester.ask(session: session, sequence: sequence, count: count)
            var answers: [(sequence: UInt64, blocks: [[UInt8]])] = []
            let answered = waitUntil(timeout: .seconds(20)) {
                guard let packet = requester.receive(timeoutMilliseconds: 5) else { return false }
                var blocks: [[UInt8]] = []
                var first: UInt64?
                packet.withUnsafeBytes { bytes in
                    Recorder.blocks(of: bytes) { sequence, block in
                        if first == nil { first = sequence }
                        blocks.append(block)
                    }
                }
                if let first { answers.append((first, blocks)) }
                return true
            }
            #expect(answered, "no answer to \(sequence): \(exchange.snapshot().marketData.filter { $0.key.contains("retransmit") })")
            guard let answer = answers.first else { continue }
            #expect(answer.sequence == sequence)
            #expect(answer.blocks.count == Int(count), "\(answer.blocks.count) messages from \(sequence)")
            for (i, block) in answer.blocks.enumerated() {
                #expect(block == recorder.blocks[sequence + UInt64(i)], "message \(sequence + UInt64(i)) differs from the live feed's")
            }
        }
        // Market data counts an answer once it has sent it: the last count may follow its packet.
        var counters = exchange.snapshot().marketData
        _ = waitUntil(timeout: .seconds(10)) {
            counters = exchange.snapshot().marketData
            return counters["retransmit_archive_answered"] ?? 0 >= 3
        }
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
        let requester = try RawRequester(port: exchange.appliance.retransmitPort)
        defer { requester.close() }
        requester.ask(session: SoupSessionName(exchange.appliance.feedSessionName)!, sequence: 1, count: 5)
        #expect(exchange.waitFor(.seconds(5)) { $0.marketData["retransmit_before_history"] == 1 })
        #expect(exchange.snapshot().marketData["retransmit_archive_requests"] == 0)
    }
}

/// A MoldUDP64 requester on a plain UDP socket bound to 127.0.0.1: sends requests to the
/// re-request server and takes what comes back.
final class RawRequester {
    let fd: Int32
    let server: Int

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        server = port
    }

    func close() { Glibc.close(fd) }

    func ask(session: SoupSessionName, sequence: UInt64, count: UInt16) {
        var request = [UInt8](repeating: 0, count: MoldUDP64.requestLength)
        _ = request.withUnsafeMutableBytes { MoldUDP64.writeRequest(session: session, sequence: sequence, count: count, to: $0.baseAddress!) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = in_port_t(UInt16(server).bigEndian)
        _ = request.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress!, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// One datagram, or nil when none comes within `timeoutMilliseconds`.
    func receive(timeoutMilliseconds: Int32) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : nil
    }
}
