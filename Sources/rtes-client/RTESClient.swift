import ArgumentParser
import ExchangeClient
import ExchangeClock
import ExchangeCore
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
              rtes-client --user DEMO1 --password demo1pass buy 100 AAPL 230.00
              export RTES_CLIENT_PASSWORD=demo2pass
              rtes-client --user DEMO2 sell 100 AAPL 230.00 --tif ioc
              rtes-client -u DEMO1 --password demo1pass cancel C1732200000001
              rtes-client -u DEMO1 --password demo1pass replace C1732200000001 200 229.95
              rtes-client -u DEMO1 --password demo1pass modify C1732200000001 S 50
              rtes-client -u DEMO1 --password demo1pass --sequence 1 listen

            Prices are decimal with at most 4 places; `market` (or MKT) sends a market order. \
            Order tokens default to C + the wall clock in milliseconds (day-unique per account).

            Exit status: 0 the exchange accepted the request; 1 it refused it (Rejected, \
            Cancel Reject, Login Rejected); 2 no answer in time, or the connection failed; \
            64 bad command line.
            """,
        subcommands: [Buy.self, Sell.self, Cancel.self, Replace.self, Modify.self, Listen.self]
    )

    // Declared here too so that they may come before the subcommand's name.
    @OptionGroup var session: SessionOptions
}

/// How to reach the exchange and log in; shared by every subcommand (they may come before
/// or after the subcommand's name).
struct SessionOptions: ParsableArguments {
    @Option(help: "The exchange's host (its order-entry port is exchange.tcp_port).")
    var host = "127.0.0.1"

    @Option(help: "The order-entry port.")
    var port = 8888

    @Option(name: [.customLong("user"), .short], help: "SoupBinTCP username (1-6 characters).")
    var user: String

    @Option(help: ArgumentHelp(
        "SoupBinTCP password. Without it, the environment variable RTES_CLIENT_PASSWORD is used (keeps it off the command line).",
        valueName: "password"))
    var password: String?

    @Option(help: "Seconds to wait for the exchange's answer to the request.")
    var wait: Double = 2

    @Option(help: "Seconds to keep printing after the answer (executions and other messages that follow).")
    var linger: Double = 0.2

    @Option(help: "Ask for sequenced messages from this number on: 0 only new ones, 1 the whole day's (replayed first).")
    var sequence: UInt64 = 0

    @Flag(help: "Also print server heartbeats and the exchange's timestamp of each message.")
    var verbose = false

    func resolvedPassword() throws -> String {
        if let password { return password }
        if let value = getenv("RTES_CLIENT_PASSWORD") { return String(cString: value) }
        throw ValidationError("give --password, or set RTES_CLIENT_PASSWORD")
    }
}

/// What the answer to a request was.
enum Answer {
    case accepted
    case refused(String)
}

/// Logs in, sends with `request`, prints every packet until `answer` recognises one (and
/// `linger` seconds more), logs out, and exits with the outcome's status.
func runSession(_ options: SessionOptions, request: (OrderEntryClient) throws(ClientError) -> String,
                answer: (OUCHMessage) -> Answer?) throws {
    let password = try options.resolvedPassword()
    do throws(ClientError) {
        let client = try OrderEntryClient.connect(
            host: options.host, port: options.port, username: options.user, password: password, sequence: options.sequence,
            timeout: .milliseconds(Int(options.wait * 1_000)))
        defer { client.close() }
        print("logged in as \(options.user) to \(options.host):\(options.port), session \(client.session ?? "?"), next sequence \(client.nextSequence)")
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
