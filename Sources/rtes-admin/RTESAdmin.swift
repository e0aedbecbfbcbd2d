import ArgumentParser
import ExchangeTools
import Foundation
import Glibc

/// `rtes-admin`: drives the exchange's admin API (docs/OPERATIONS.md, "The admin API") — halts
/// and resumes, kill switches and reinstatements, mass cancels, a snapshot, the start and end
/// of the trading day — as an operator of the keys file, over plain HTTP.
@main
struct RTESAdmin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-admin",
        abstract: "Take an operator's action on a running RTES exchange through its admin API.",
        discussion: """
            Every action is a POST to the admin plane (exchange.metrics_port) with HTTP Basic credentials of an \
            operator of the API keys file, and a reason, which the exchange journals with the operator's name next to \
            the action's commands (rtes-journal dump shows them). Roles: read_only takes no action; operator halts, \
            resumes, kills, reinstates and cancels all for an account or a firm; admin also kills and reinstates the \
            whole exchange, takes a snapshot and starts or ends the trading day.

            The password is never an argument: it comes from --password-file FILE (a line USERNAME:PASSWORD, or a \
            password alone), else the environment variable RTES_ADMIN_PASSWORD, else a prompt on the terminal.

            On success the exchange's JSON answer (what was queued for the engine) is printed. Exit status: 0 taken, \
            1 refused by the exchange (401 credentials, 403 role, 400 missing or bad reason, 404 unknown target, \
            429 throttled, 503 not taking actions; its reason on standard error), 2 no answer (connection refused, \
            timeout, not HTTP), 64 a usage error.
            """,
        version: RTESVersion.current,
        subcommands: [Halt.self, Resume.self, Kill.self, Reinstate.self, CancelAll.self, Snapshot.self, Day.self, EmergencyShutdown.self])
}

/// What every action needs: where, who, why.
struct Connection: ParsableArguments {
    @Option(help: "The admin plane's root URL (plain HTTP).")
    var url = "http://127.0.0.1:8080"
    @Option(help: "The operator's username (the keys file's operators).")
    var user: String
    @Option(help: "A file holding the operator's password (USERNAME:PASSWORD lines, or a password alone). Else RTES_ADMIN_PASSWORD, else a prompt.")
    var passwordFile: String?
    @Option(help: ArgumentHelp("Refused: it would put the password on the command line.", visibility: .hidden))
    var password: String?
    @Option(help: "Why (journaled with the operator's name): 1 to 160 printable ASCII characters.")
    var reason: String
    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 10

    func validate() throws {
        if password != nil { throw ValidationError(PasswordLookup.refusal(option: "--password", variable: "RTES_ADMIN_PASSWORD")) }
        guard (1...160).contains(reason.utf8.count), reason.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw ValidationError("--reason: 1 to 160 printable ASCII characters")
        }
        guard timeout > 0 && timeout <= 3_600 else { throw ValidationError("--timeout: more than 0 and at most 3600 seconds") }
        if case .failure(let failure) = AdminURL.parse(url) { throw ValidationError(failure.description) }
    }

    /// POSTs `path` with `query` (and the reason); prints the answer, or says why not and exits.
    func post(_ path: String, _ query: [(String, String)] = []) throws {
        let url = try AdminURL.parse(url).get()
        let secret: String
        do {
            secret = try PasswordLookup.forProcess(file: passwordFile, variable: "RTES_ADMIN_PASSWORD").password(for: user)
        } catch {
            fail(.usage(error.description))
        }
        let items = query + [("reason", reason)]
        let target = path + "?" + items.map { "\($0.0)=\(AdminHTTP.encode($0.1))" }.joined(separator: "&")
        switch AdminHTTP.post(url, target, user: user, password: secret, timeout: timeout) {
        case .success(let answer) where (200..<300).contains(answer.status):
            print(answer.body.trimmingCharacters(in: .whitespacesAndNewlines))
        case .success(let answer):
            fail(.refused(status: answer.status, reason: AdminHTTP.errorMessage(answer.body)))
        case .failure(let failure):
            fail(failure)
        }
    }

    func fail(_ failure: AdminFailure) -> Never {
        FileHandle.standardError.write(Data("rtes-admin: \(failure)\n".utf8))
        Glibc.exit(failure.exitCode)
    }
}

/// `--account`, `--firm` or `--exchange`: exactly one.
struct Target: ParsableArguments {
    @Option(help: "An account (username in the keys file).")
    var account: String?
    @Option(help: "A firm: every account of the keys file whose firm it is.")
    var firm: String?
    @Flag(help: "The whole exchange (admin role).")
    var exchange = false

    func validate(allowExchange: Bool) throws {
        let count = (account != nil ? 1 : 0) + (firm != nil ? 1 : 0) + (exchange ? 1 : 0)
        guard count == 1 else {
            throw ValidationError(allowExchange ? "give exactly one of --account, --firm, --exchange" : "give exactly one of --account, --firm")
        }
        if exchange && !allowExchange { throw ValidationError("--exchange: cancel-all takes an account or a firm") }
    }

    var query: [(String, String)] {
        if let account { return [("account", account)] }
        if let firm { return [("firm", firm)] }
        return [("exchange", "true")]
    }
}

struct Halt: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Halt a symbol (or, with --market, every symbol): orders wait, nothing executes.")
    @Argument(help: "The symbol.") var symbol: String?
    @Flag(help: "Every symbol.") var market = false
    @OptionGroup var connection: Connection

    func validate() throws {
        guard (symbol != nil) != market else { throw ValidationError("give a SYMBOL or --market (not both)") }
    }

    func run() throws { try connection.post("/trading/halt", symbol.map { [("symbol", $0)] } ?? []) }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a halted symbol (or, with --market, every symbol): a halt cross, then continuous trading.")
    @Argument(help: "The symbol.") var symbol: String?
    @Flag(help: "Every symbol.") var market = false
    @OptionGroup var connection: Connection

    func validate() throws {
        guard (symbol != nil) != market else { throw ValidationError("give a SYMBOL or --market (not both)") }
    }

    func run() throws { try connection.post("/trading/resume", symbol.map { [("symbol", $0)] } ?? []) }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Kill switch: cancel the resting orders of an account, a firm or the whole exchange and reject their new orders until reinstated.")
    @OptionGroup var target: Target
    @OptionGroup var connection: Connection
    func validate() throws { try target.validate(allowExchange: true) }
    func run() throws { try connection.post("/admin/kill", target.query) }
}

struct Reinstate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Lift the kill switch of an account, a firm or the whole exchange.")
    @OptionGroup var target: Target
    @OptionGroup var connection: Connection
    func validate() throws { try target.validate(allowExchange: true) }
    func run() throws { try connection.post("/admin/reinstate", target.query) }
}

struct CancelAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-all", abstract: "Cancel every resting order of an account or a firm (new orders stay allowed).")
    @OptionGroup var target: Target
    @OptionGroup var connection: Connection
    func validate() throws { try target.validate(allowExchange: false) }
    func run() throws { try connection.post("/admin/cancel-all", target.query) }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ask for a day snapshot now (as SIGUSR1 does; needs a journal).")
    @OptionGroup var connection: Connection
    func run() throws { try connection.post("/admin/snapshot") }
}

struct Day: ParsableCommand {
    enum Edge: String, ExpressibleByArgument, CaseIterable { case start, end }
    static let configuration = CommandConfiguration(
        abstract: "Start or end the trading day: the engine's Start or End of Day, announced to every session and on the feed.")
    @Argument(help: "start or end.") var edge: Edge
    @OptionGroup var connection: Connection
    func run() throws { try connection.post(edge == .start ? "/admin/day/start" : "/admin/day/end") }
}
