import ArgumentParser
import ExchangeClient
import ExchangeConfig
import ExchangeClock
import ExchangeCore
import ExchangeTools
import ExchangeWire
import Glibc

@main
struct RTESClient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-client",
        abstract: "Send one order, cancel, replace or modify to the RTES exchange and print every reply.",
        discussion: """
            Logs in over SoupBinTCP 3.0 (OUCH 4.2), sends one request, prints every message the \
            exchange sends back (the answer, and executions that follow within --linger), logs out.

            Examples (the exchange of `make run`, accounts of configs/api_keys.dev.json):
              rtes-client --user DEMO1 buy 100 AAPL 230.00          (asks for the password)
              export RTES_CLIENT_PASSWORD=demo2pass
              rtes-client --user DEMO2 sell 100 AAPL 230.00 --tif ioc
              rtes-client -u DEMO1 --password-file ~/.rtes-password cancel C1732200000001
              rtes-client -u DEMO1 replace C1732200000001 200 229.95
              rtes-client -u DEMO1 modify C1732200000001 S 50
              rtes-client -u DEMO1 --sequence 1 listen
              rtes-client -u DEMO1 --address 10.0.0.1:8888,10.0.0.2:8888 buy 100 AAPL 230.00
              rtes-client -u DEMO1 --shard-map configs/shards.dev.json buy 100 GOOGL 170.00
              rtes-client -u DEMO1 --shard-map configs/shards.dev.json --shard beta cancel C1732200000001

            With several --address (a primary and its standby), the first that accepts is used; \
            a connection lost while logged in fails over to the next address (round the list, \
            40 attempts at most, 50 ms doubling to 500 ms between them; 15 s without a byte, not \
            even a heartbeat, counts as lost) and resumes the session from the next message not \
            yet printed, so nothing is printed twice or skipped.

            With --shard-map (docs/SHARDS.md), an order goes to the shard that owns its symbol, \
            at that shard's order-entry addresses (primary first, failing over as above).

            The password is never taken on the command line (ps shows it to every user): it \
            comes from --password-file FILE (a line USERNAME:PASSWORD, or the password alone), \
            else the environment variable RTES_CLIENT_PASSWORD, else a prompt on the terminal.

            Prices are decimal with at most 4 places; `market` (or MKT) sends a market order. \
            Order tokens default to C + the wall clock in milliseconds (day-unique per account). \
            Every argument is checked before connecting.

            Exit status: 0 the exchange accepted the request; 1 it refused it (Rejected, \
            Cancel Reject, Login Rejected); 2 no answer in time, or the connection failed; \
            64 bad command line, or no password.
            """,
        version: RTESVersion.current,
        subcommands: [Buy.self, Sell.self, Cancel.self, Replace.self, Modify.self, Listen.self]
    )

    // Declared here too so that they may come before the subcommand's name.
    @OptionGroup var session: SessionOptions
}

/// How to reach the exchange and log in; shared by every subcommand (they may come before
/// or after the subcommand's name).
struct SessionOptions: ParsableArguments {
    @Option(help: "The exchange's host (its order-entry port is exchange.tcp_port). Default 127.0.0.1.")
    var host: String?

    @Option(help: "The order-entry port. Default 8888.")
    var port: Int?

    @Option(name: .customLong("address"), help: ArgumentHelp(
        "An order-entry address HOST:PORT instead of --host and --port; repeat it, or separate addresses by commas, for a primary and its backups: the first that accepts is used, and a connection lost while logged in fails over to the next, resuming the session where it stopped.",
        valueName: "host:port"))
    var addressTexts: [String] = []

    @Option(name: .customLong("shard-map"), help: ArgumentHelp(
        "A shard map (docs/SHARDS.md) instead of --address: the order goes to the order-entry addresses of the shard that owns its symbol (cancel, replace, modify and listen name the shard with --shard).",
        valueName: "FILE"))
    var shardMap: String?

    @Option(help: ArgumentHelp("With --shard-map: the shard to use (required for commands without a symbol).", valueName: "NAME"))
    var shard: String?

    @Option(name: [.customLong("user"), .short], help: "SoupBinTCP username (1-6 characters).")
    var user: String

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "A file with the password: a line USERNAME:PASSWORD, or the password alone. Without it: RTES_CLIENT_PASSWORD, else a prompt.",
        valueName: "file"))
    var passwordFile: String?

    /// Refused with a message saying how to give the password instead (never used).
    @Option(help: .hidden)
    var password: String?

    @Option(help: "Seconds to wait for the exchange's answer to the request.")
    var wait: Double = 2

    @Option(help: "Seconds to keep printing after the answer (executions and other messages that follow).")
    var linger: Double = 0.2

    @Option(help: "Ask for sequenced messages from this number on: 0 only new ones, 1 the whole day's (replayed first).")
    var sequence: UInt64 = 0

    @Flag(help: "Also print server heartbeats and the exchange's timestamp of each message.")
    var verbose = false

    @Flag(help: ArgumentHelp(
        "Speak TLS (the exchange's gateway.tls on): the server's CA from RTES_CA_CERT; for mutual TLS the client certificate and key from RTES_TLS_CLIENT_CERT and RTES_TLS_CLIENT_KEY (%u: the username)."))
    var tls = false

    func validate() throws {
        if password != nil { throw ValidationError(PasswordLookup.refusal(option: "--password", variable: "RTES_CLIENT_PASSWORD")) }
        guard !user.isEmpty, SoupUsername(user) != nil else { throw ValidationError("--user \"\(user)\": 1 to 6 printable ASCII characters") }
        if let port { guard (1...65_535).contains(port) else { throw ValidationError("--port \(port): 1 to 65535") } }
        if !addressTexts.isEmpty && (host != nil || port != nil) {
            throw ValidationError("--address replaces --host and --port: give one or the other")
        }
        if shardMap != nil && (!addressTexts.isEmpty || host != nil || port != nil) {
            throw ValidationError("--shard-map replaces --address, --host and --port: give one or the other")
        }
        if shard != nil && shardMap == nil { throw ValidationError("--shard needs --shard-map") }
        if shardMap == nil { _ = try argument { () throws(ClientError) in try addresses() } }
        guard wait > 0, linger >= 0 else { throw ValidationError("--wait must be above 0 and --linger at least 0 (seconds)") }
    }

    /// The addresses to try, in order: with --shard-map the shard's (named by --shard, else the
    /// one that owns `symbol`), else every --address, else --host:--port.
    func addresses(for symbol: Symbol? = nil) throws(ClientError) -> [ExchangeAddress] {
        if let shardMap {
            let map: ShardMap
            do throws(ConfigurationError) {
                map = try ShardMap.load(path: shardMap)
            } catch {
                throw ClientError.invalidArgument("--shard-map \(shardMap): \(error)")
            }
            if let shard {
                guard let named = map.shard(named: shard) else {
                    throw ClientError.invalidArgument("--shard \(shard): the shard map lists \(map.shards.map(\.name).joined(separator: ", "))")
                }
                if let symbol, map.shard(owning: symbol)?.name != shard {
                    throw ClientError.invalidArgument("\(symbol) is not shard \(shard)'s (shard map \(shardMap))")
                }
                return ShardedClient.addresses(of: named)
            }
            guard let symbol else { throw ClientError.invalidArgument("with --shard-map, this command needs --shard NAME (it has no symbol)") }
            guard let owner = map.shard(owning: symbol) else {
                throw ClientError.invalidArgument("no shard of \(shardMap) owns \(symbol)")
            }
            return ShardedClient.addresses(of: owner)
        }
        if addressTexts.isEmpty { return [ExchangeAddress(host: host ?? "127.0.0.1", port: port ?? 8888)] }
        return try ExchangeAddress.parseList(addressTexts)
    }

    /// Logs in at the first address that accepts; with more than one, a lost connection fails
    /// over to the next (each failover printed).
    func connect(password: String, options: OrderEntryClient.Options, timeout: Duration, symbol: Symbol? = nil) throws(ClientError) -> OrderEntryClient {
        let list = try addresses(for: symbol)
        let client = try OrderEntryClient.connect(addresses: list, username: user, password: password, sequence: sequence, options: options,
                                                  failover: list.count > 1 ? FailoverPolicy() : nil, timeout: timeout)
        client.onFailover = { print($0.description) }
        return client
    }

    /// The password from --password-file, RTES_CLIENT_PASSWORD or the terminal; without one
    /// the tool stops (status 64) before connecting.
    func resolvedPassword() -> String {
        do throws(PasswordError) {
            let password = try PasswordLookup.forProcess(file: passwordFile, variable: "RTES_CLIENT_PASSWORD").password(for: user)
            guard SoupPassword(password) != nil else { fail("the password of \(user) is longer than SoupBinTCP's 10 characters", status: 64) }
            return password
        } catch {
            fail(error.description, status: 64)
        }
    }
}

/// What the answer to a request was.
enum Answer {
    case accepted
    case refused(String)
}

/// Logs in, sends with `request`, prints every packet until `answer` recognises one (and
/// `linger` seconds more), logs out, and exits with the outcome's status.
func runSession(_ options: SessionOptions, symbol: Symbol? = nil, request: (OrderEntryClient) throws(ClientError) -> String,
                answer: (OUCHMessage) -> Answer?) throws {
    let password = options.resolvedPassword()
    do throws(ClientError) {
        let tls = options.tls ? try ClientTLSEnvironment.context(forUser: options.user) : nil
        let client = try options.connect(password: password, options: OrderEntryClient.Options(tls: tls),
                                         timeout: .milliseconds(Int(options.wait * 1_000)), symbol: symbol)
        defer { client.close() }
        print("logged in as \(options.user) to \(client.currentAddress), session \(client.session ?? "?"), next sequence \(client.nextSequence)")
        if options.sequence > 0 {
            // Replayed messages come first; print them before sending anything.
            for packet in try client.packets(for: .milliseconds(200)) { show(packet, options) }
        }
        print("sent " + (try request(client)))
        var outcome: Answer?
        let clock = TSCClock.calibrated(.monotonic)
        func ticks(after seconds: Double) -> UInt64 { clock.ticks() &+ clock.ticks(forNanoseconds: UInt64(max(0, seconds) * 1e9)) }
        var deadline = ticks(after: options.wait)
        while true {
            let now = clock.ticks()
            guard deadline > now,
                let packet = try client.poll(timeout: .nanoseconds(Int64(clock.nanoseconds(inTicks: deadline &- now))))
            else { break }
            show(packet, options)
            if outcome == nil, let message = packet.message, let result = answer(message) {
                outcome = result
                deadline = ticks(after: options.linger)
            }
        }
        _ = try? client.logout(timeout: .seconds(1))
        switch outcome {
        case .accepted:
            return
        case .refused(let why):
            fail("refused: \(why)", status: 1)
        case nil:
            fail("no answer from the exchange within \(options.wait) s", status: 2)
        }
    } catch {
        exitFor(error)
    }
}

/// Exits with the status a failure calls for: 1 refused login, 64 a value the protocol
/// cannot carry, 2 anything else (connection, timeout, malformed data).
func exitFor(_ error: ClientError) -> Never {
    switch error {
    case .loginRejected: fail(error.description, status: 1)
    case .invalidArgument: fail(error.description, status: 64)
    default: fail(error.description, status: 2)
    }
}

func show(_ packet: ServerPacket, _ options: SessionOptions) {
    if case .heartbeat = packet, !options.verbose { return }
    if options.verbose, let message = packet.message {
        print(MessageText.time(message.timestamp) + " " + packet.description)
    } else {
        print(packet.description)
    }
}

func fail(_ message: String, status: Int32) -> Never {
    var line = "rtes-client: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}
