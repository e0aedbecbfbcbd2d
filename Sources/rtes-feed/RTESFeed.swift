import ArgumentParser
import ExchangeBookReplica
import ExchangeConfig
import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Foundation

/// Follows a running exchange's ITCH 5.0 feed as any feed handler would: joins the
/// multicast group, recovers lost packets from the re-request server, optionally starts from
/// a snapshot, and prints what it sees once a second (messages, gaps, recoveries, the top of
/// every book) until End of Session or the time limit.
@main
struct RTESFeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-feed",
        abstract: "Follow a running RTES exchange's market-data feed (ITCH 5.0 in MoldUDP64).",
        discussion: "Reads the group, ports and symbols from the exchange's configuration file.")

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String

    @Option(help: "Seconds to follow the feed (0: until End of Session).")
    var seconds: Double = 0

    @Option(help: "Start from a snapshot, logging in as this account (USERNAME:PASSWORD from the API keys file).")
    var snapshot: String?

    @Flag(help: "Print every message (decoded), not only the summary.")
    var messages = false

    func run() throws {
        let loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        let c = loaded.configuration
        let client = try FeedClient(
            group: c.exchange.udpMulticastGroup.rawValue, port: c.exchange.udpPort, interface: c.marketData.interface.rawValue,
            retransmitHost: c.exchange.bindAddress.rawValue, retransmitPort: c.marketData.retransmitPort,
            instrumentCount: c.symbols.count, orderCapacity: c.performance.orderPoolSize)
        print("rtes-feed: joined \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort) on \(c.marketData.interface); "
            + "re-requests to \(c.exchange.bindAddress):\(c.marketData.retransmitPort)")
        if let login = snapshot {
            let parts = login.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let username = SoupUsername(parts[0]), let password = SoupPassword(parts[1]) else {
                throw ValidationError("--snapshot takes USERNAME:PASSWORD")
            }
            switch client.joinFromSnapshot(host: c.exchange.bindAddress.rawValue, port: c.marketData.snapshotPort,
                                           username: username, password: password) {
            case .success(let next): print("rtes-feed: snapshot loaded, \(client.handler.replica.orderCount) orders; continuing at \(next)")
            case .failure(let failure): throw ValidationError("snapshot failed: \(failure)")
            }
        }
        if messages {
            client.onPacket = { packet, _ in Self.printMessages(packet) }
            client.onAnswer = { packet in Self.printMessages(packet, prefix: "(recovered) ") }
        }
        let start = Date()
        var lastReport = Date()
        while !client.handler.ended && (seconds == 0 || Date().timeIntervalSince(start) < seconds) {
            client.poll(timeoutMilliseconds: 100)
            if Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                report(client, symbols: c.symbols)
            }
        }
        report(client, symbols: c.symbols)
        if client.handler.ended { print("rtes-feed: End of Session") }
    }

    func report(_ client: FeedClient, symbols: [InstrumentSpec]) {
        let h = client.handler.counters
        var line = "session \(client.handler.session?.description ?? "?") next \(client.handler.expected): "
            + "\(h.messages) messages in \(h.packets) packets, \(h.heartbeats) heartbeats, \(h.gaps) gaps, "
            + "\(h.requests) re-requests, \(client.answers) answers, \(h.messageErrors) errors"
        for (i, spec) in symbols.enumerated() {
            let bid = client.handler.replica.depth(instrument: InstrumentIndex(i), side: .bid).first
            let ask = client.handler.replica.depth(instrument: InstrumentIndex(i), side: .ask).first
            func show(_ level: DepthLevel?) -> String { level.map { "\($0.shares)@\(PriceText.format($0.price))" } ?? "-" }
            line += "\n  \(spec.symbol.description.padding(toLength: 8, withPad: " ", startingAt: 0)) \(show(bid)) / \(show(ask))"
                + (client.handler.replica.isHalted(InstrumentIndex(i)) ? " HALTED" : "")
        }
        print(line)
    }

    static func printMessages(_ packet: UnsafeRawBufferPointer, prefix: String = "") {
        guard case .success(let p) = MoldUDP64.readPacket(packet) else { return print("\(prefix)malformed packet") }
        if p.isHeartbeat { return print("\(prefix)\(p.sequence) heartbeat") }
        if p.isEndOfSession { return print("\(prefix)\(p.sequence) end of session") }
        p.forEachMessage { sequence, bytes in
            switch ITCHDecoder.decode(bytes) {
            case .success(let m): print("\(prefix)\(sequence) \(m)")
            case .failure(let e): print("\(prefix)\(sequence) \(e)")
            }
        }
    }
}
