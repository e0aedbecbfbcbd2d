import ArgumentParser
import ExchangeBookReplica
import ExchangeConfig
import ExchangeCore
import ExchangeFeed
import ExchangeTLS
import ExchangeTools
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
        discussion: """
            Reads the group, ports and symbols from the exchange's configuration file.

            A gap the re-request server can still fill is recovered by re-requests. A gap older \
            than its history (market_data.retransmit_history_messages of the configuration), or \
            one whose re-requests go unanswered, can only be repaired from a snapshot: rtes-feed \
            says so and rejoins through the snapshot service by itself when it has an account \
            (--snapshot USER or --user USER); without one it stops with status 1.

            When the exchange restarts — the feed's MoldUDP64 session changes (a new trading \
            day) or its sequence numbers go back within the session — rtes-feed says so, naming \
            the old and new session and sequence, and discards the book. With an account it \
            rejoins through the snapshot service; without one it starts a fresh book at the new \
            session and says the book is incomplete until the next start of day (a new session \
            seen from its first message needs neither).

            The account's password is never taken on the command line (ps shows it to every \
            user): it comes from --password-file FILE (a line USERNAME:PASSWORD, or the password \
            alone), else the environment variable RTES_FEED_PASSWORD, else a prompt on the \
            terminal — asked once, at the start.

            With --tls the snapshot connection speaks TLS (the exchange's \
            market_data.snapshot_tls on): the exchange's certificate is checked against the CA \
            in RTES_CA_CERT (unset: the system's trust store) and the configuration's \
            exchange.bind_address; for mutual TLS the client certificate and key come from \
            RTES_TLS_CLIENT_CERT and RTES_TLS_CLIENT_KEY, in which %u stands for the username. \
            The multicast feed and re-requests are UDP and never encrypted.

            Exit status: 0 End of Session or the time limit; 1 the feed could not be followed \
            (sockets, snapshot service, a gap with no account to rejoin with); 64 bad command \
            line or no password.
            """,
        version: RTESVersion.current)

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String

    @Option(help: "Seconds to follow the feed (0: until End of Session).")
    var seconds: Double = 0

    @Option(help: ArgumentHelp("Start from a snapshot, logging in as this account of the API keys file (and rejoin through one when needed).",
                               valueName: "user"))
    var snapshot: String?

    @Option(help: ArgumentHelp("The account to rejoin through the snapshot service with, when a gap is older than the re-request history.",
                               valueName: "user"))
    var user: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "A file with the account's password: a line USERNAME:PASSWORD, or the password alone. Without it: RTES_FEED_PASSWORD, else a prompt.",
        valueName: "file"))
    var passwordFile: String?

    @Option(name: .customLong("backup"), help: ArgumentHelp(
        "The IPv4 address of a standby exchange serving the configuration's ports (repeat, or separate by commas): a re-request that goes unanswered is repeated there (round the list), and a snapshot that cannot be had from exchange.bind_address is fetched there.",
        valueName: "address"))
    var backupTexts: [String] = []

    @Flag(help: "Print every message (decoded), not only the summary.")
    var messages = false

    @Flag(help: ArgumentHelp(
        "Speak TLS to the snapshot service (market_data.snapshot_tls on): the server's CA from RTES_CA_CERT; for mutual TLS the client certificate and key from RTES_TLS_CLIENT_CERT and RTES_TLS_CLIENT_KEY (%u: the username)."))
    var tls = false

    func validate() throws {
        for (option, value) in [("--snapshot", snapshot), ("--user", user)] {
            guard let value else { continue }
            if value.contains(":") {
                throw ValidationError(PasswordLookup.refusal(option: "\(option) USER:PASSWORD", variable: "RTES_FEED_PASSWORD")
                    + " (\(option) takes the username alone)")
            }
            guard !value.isEmpty, SoupUsername(value) != nil else { throw ValidationError("\(option) \"\(value)\": 1 to 6 printable ASCII characters") }
        }
        if let snapshot, let user, snapshot != user { throw ValidationError("--snapshot \(snapshot) and --user \(user) name different accounts") }
        if tls && snapshot == nil && user == nil { throw ValidationError("--tls is for the snapshot service: give --snapshot USER or --user USER") }
        guard seconds >= 0 else { throw ValidationError("--seconds \(seconds): 0 or more") }
        _ = try backups()
    }

    /// Every --backup, parsed.
    func backups() throws -> [IPv4Address] {
        try backupTexts.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { text in
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let address = IPv4Address(trimmed) else { throw ValidationError("--backup \"\(trimmed)\": an IPv4 address, e.g. 10.0.0.2") }
            return address
        }
    }

    func run() throws {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
        } catch {
            Self.fail("\(config) cannot be used:\n\(error)", status: 64)
        }
        let c = loaded.configuration
        // The account's password, asked once before anything starts.
        var account: (SoupUsername, SoupPassword)? = nil
        if let name = snapshot ?? user {
            do throws(PasswordError) {
                let text = try PasswordLookup.forProcess(file: passwordFile, variable: "RTES_FEED_PASSWORD").password(for: name)
                guard let password = SoupPassword(text) else { Self.fail("the password of \(name) is longer than SoupBinTCP's 10 characters", status: 64) }
                account = (SoupUsername(name)!, password)
            } catch {
                Self.fail(error.description, status: 64)
            }
        }
        // --tls: the client context, made now so that a missing or unusable file stops here.
        var tlsContext: TLSContext? = nil
        if tls, let name = snapshot ?? user {
            var settings = TLSClientSettings.fromEnvironment(ProcessInfo.processInfo.environment)
            func expand(_ path: String) -> String { path.replacingOccurrences(of: "%u", with: name) }
            settings.certificateFile = settings.certificateFile.map(expand)
            settings.keyFile = settings.keyFile.map(expand)
            do {
                tlsContext = try settings.makeContext()
            } catch {
                Self.fail("--tls: \(error.description)", status: 64)
            }
        }
        let backupHosts = (try? backups()) ?? []
        let snapshotBackups = backupHosts.map { FeedServiceAddress(host: $0.rawValue, port: c.marketData.snapshotPort) }
        let client: FeedClient
        do {
            client = try FeedClient(following: c, backups: backupHosts)
        } catch {
            Self.fail("cannot join \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort) on \(c.marketData.interface): \(error)", status: 1)
        }
        client.handler.historyMessages = UInt64(c.marketData.retransmitHistoryMessages)
        print("rtes-feed: joined \(c.exchange.udpMulticastGroup):\(c.exchange.udpPort) on \(c.marketData.interface); "
            + "re-requests to \(c.exchange.bindAddress):\(c.marketData.retransmitPort)"
            + (backupHosts.isEmpty ? "" : ", then " + backupHosts.map { "\($0):\(c.marketData.retransmitPort)" }.joined(separator: ", ")))
        func join() {
            guard let account else { return }
            switch client.joinFromSnapshot(host: c.exchange.bindAddress.rawValue, port: c.marketData.snapshotPort,
                                           username: account.0, password: account.1, tls: tlsContext, backups: snapshotBackups) {
            case .success(let next): print("rtes-feed: snapshot loaded, \(client.handler.replica.orderCount) orders; continuing at \(next)")
            case .failure(let failure):
                Self.fail("snapshot from \(c.exchange.bindAddress):\(c.marketData.snapshotPort) failed: \(failure)", status: 1)
            }
        }
        if snapshot != nil { join() }
        client.onRestart = { restart in
            print("rtes-feed: \(restart); the book is discarded")
            if client.handler.incompleteSince == nil {
                print("rtes-feed: following session \(restart.session) from its first message")
            } else if account == nil {
                print("rtes-feed: no account to rejoin with (--user USER): a fresh book from sequence \(restart.sequence) of session "
                    + "\(restart.session), INCOMPLETE until the next start of day")
            } else {
                print("rtes-feed: rejoining through the snapshot service")
            }
        }
        if let account {
            client.resynchronisation = FeedClient.SnapshotAccount(host: c.exchange.bindAddress.rawValue, port: c.marketData.snapshotPort,
                                                                  username: account.0, password: account.1, tls: tlsContext,
                                                                  backups: snapshotBackups)
        }
        client.onResynchronised = { outcome in
            switch outcome {
            case .success(let next):
                print("rtes-feed: snapshot loaded, \(client.handler.replica.orderCount) orders; continuing at \(next)")
            case .failure(let failure):
                Self.fail("snapshot from \(c.exchange.bindAddress):\(c.marketData.snapshotPort) after a restart failed: \(failure)", status: 1)
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
            if let need = client.handler.snapshotNeeded {
                guard account != nil else {
                    report(client, symbols: c.symbols)
                    Self.fail("\(need); give --user USER (an account of the API keys file) to rejoin through the snapshot service", status: 1)
                }
                print("rtes-feed: \(need); rejoining through the snapshot service")
                join()
            }
            if Date().timeIntervalSince(lastReport) >= 1 {
                lastReport = Date()
                report(client, symbols: c.symbols)
            }
        }
        report(client, symbols: c.symbols)
        if client.handler.ended { print("rtes-feed: End of Session") }
    }

    /// Says what went wrong on standard error and exits (no usage text: the command line was fine).
    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rtes-feed: \(message)\n".utf8))
        Foundation.exit(status)
    }

    func report(_ client: FeedClient, symbols: [InstrumentSpec]) {
        let h = client.handler.counters
        var line = "session \(client.handler.session?.description ?? "?") next \(client.handler.expected): "
            + "\(h.messages) messages in \(h.packets) packets, \(h.heartbeats) heartbeats, \(h.gaps) gaps, "
            + "\(h.requests) re-requests, \(client.answers) answers, \(h.messageErrors) errors, \(h.restarts) restarts"
            + (client.handler.incompleteSince.map { " — book INCOMPLETE since \($0.session) sequence \($0.sequence)" } ?? "")
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
