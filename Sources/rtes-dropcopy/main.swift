import ArgumentParser
import ExchangeConfig
import ExchangeDropCopy
import ExchangeRuntime
import ExchangeTools
import Foundation
import Logging

/// The trade store: follows a journal and writes the day's orders, executions and trades
/// into PostgreSQL (docs/DROPCOPY.md).
struct RTESDropCopy: ParsableCommand {
    static let passwordVariable = "RTES_DROPCOPY_PASSWORD"

    static let configuration = CommandConfiguration(
        commandName: "rtes-dropcopy",
        abstract: "Write a trading day's orders, executions and trades into PostgreSQL, exactly once, from the exchange's journal.",
        discussion: """
            Follows the journal directory of one trading day (DIRECTORY: <durability.directory>/<day>) from \
            sequence 1, applies every record to a replica of the exchange's engine built from CONFIG and the API \
            keys file (RTES_API_KEYS_FILE, as trading_exchange reads them) and writes what the engine did into \
            PostgreSQL: table orders (one row per accepted order, and per Replace's new order), executions (one \
            row per order event a session receives — accepted, replaced, canceled, modified, rejected, \
            cancel_rejected, executed once for each side) and trades (one row per fill, buyer and seller), in the \
            schema given by --schema, created with its tables when absent.

            Exactly once: each batch of up to --batch-records records is written in one transaction together \
            with the progress row (table progress: the journal, its day and the last sequence whose rows are \
            stored). After a restart of rtes-dropcopy (even kill -9) it reads that row, starts its replica from the \
            newest day snapshot in DIRECTORY (the exchange's snapshot-*.rtsnap) covering a sequence at or below \
            it (else from sequence 1), replays the records from there up to it without writing and writes from \
            the next one. When PostgreSQL cannot be reached or a statement \
            fails, the batch is kept and the connection retried, 100 ms doubling to --retry-max-ms between \
            attempts, each attempt logged; once connected the progress row says what of the batch is still to \
            write. A statement or connection that takes longer than --timeout-seconds is given up and retried.

            It never reads a record before it is durable: a live journal (the default) is read up to the \
            durable sequence the running exchange publishes in its counters file (--counters, else \
            /dev/shm/rtes.<exchange.name>.counters from CONFIG), and rtes-dropcopy runs until SIGTERM or \
            SIGINT. With --finished the journal is complete (no exchange writes it): it is read through its last \
            whole record (a torn tail is not read) and rtes-dropcopy exits once that is stored. The journal is \
            named by its first segment; once the exchange has retired its first segments under a day \
            snapshot, the name is taken from the one progress row of the day in the database, and the \
            replica must start from a snapshot in the directory.

            TLS to PostgreSQL (TCP only): --pg-tls require encrypts without checking the server's certificate; \
            --pg-tls verify-full also checks that it chains to a CA of --pg-ca-file (PEM) and names --host (a DNS \
            name, or an IP address in its subjectAltName). TLS 1.2 or 1.3. A handshake that fails is logged with \
            its reason and retried like any failed connection.

            The password: the file given with --password-file, else RTES_DROPCOPY_PASSWORD, else none (for \
            PostgreSQL's trust or peer authentication). It never appears on the command line or in the log. \
            Log lines go to standard error.

            Exit status: 0 stored (--finished) or stopped by a signal; 2 the journal cannot be followed \
            (damaged, unreadable, its first segments retired without a progress row and snapshot to go on); 64 a usage error (options, CONFIG, the keys file).
            """,
        version: RTESVersion.current)

    @Argument(help: "The journal directory of one trading day.")
    var directory: String

    @Option(help: ArgumentHelp("The exchange configuration (JSON) the journal is written under.", valueName: "config"))
    var config: String

    @Flag(help: "The journal is complete: store it through its last whole record, then exit.")
    var finished = false

    @Option(help: ArgumentHelp("A live journal's exchange counters file (default: from CONFIG's exchange.name).", valueName: "file"))
    var counters: String?

    @Option(help: "PostgreSQL's host (an IPv4 address or a name), over TCP.")
    var host = "127.0.0.1"

    @Option(help: "PostgreSQL's port (also the number in its Unix socket's name).")
    var port = 5432

    @Option(help: ArgumentHelp("Connect through the Unix socket in this directory instead of TCP.", valueName: "directory"))
    var socketDirectory: String?

    @Option(help: "The PostgreSQL user.")
    var user = "rtes"

    @Option(help: "The database.")
    var database = "rtes"

    @Option(help: "The schema holding the tables (lower-case letters, digits, underscores).")
    var schema = "rtes"

    @Option(name: .customLong("pg-tls"), help: ArgumentHelp(
        "TLS to PostgreSQL over TCP: disable, require (encrypted, the server's certificate not checked) or verify-full "
            + "(its certificate must chain to --pg-ca-file and name --host).", valueName: "mode"))
    var pgTLS = "disable"

    @Option(name: .customLong("pg-ca-file"), help: ArgumentHelp("The CA certificates (PEM) that verify-full trusts.", valueName: "file"))
    var pgCAFile: String?

    @Option(help: ArgumentHelp("A file holding the password (USER:PASSWORD lines, or the password alone).", valueName: "file"))
    var passwordFile: String?

    @Option(help: "The most journal records whose rows go into one transaction (1-1000000).")
    var batchRecords = 20_000

    @Option(name: .customLong("retry-max-ms"), help: "The longest pause between two attempts to reach PostgreSQL, in milliseconds (100-600000).")
    var retryMaxMilliseconds = 5_000

    @Option(help: "How long a connection attempt or one statement may take, in seconds (1-3600).")
    var timeoutSeconds: Int64 = 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard (1...1_000_000).contains(batchRecords) else { throw ValidationError("--batch-records must be 1-1000000") }
        guard (100...600_000).contains(retryMaxMilliseconds) else { throw ValidationError("--retry-max-ms must be 100-600000") }
        guard (1...3_600).contains(timeoutSeconds) else { throw ValidationError("--timeout-seconds must be 1-3600") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard DropCopyDatabase.isPlainName(schema) else {
            throw ValidationError("--schema \(schema): use lower-case letters, digits and underscores, starting with a letter")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
        guard !(finished && counters != nil) else { throw ValidationError("--counters is for a live journal; --finished reads none") }
        guard ["disable", "require", "verify-full"].contains(pgTLS) else {
            throw ValidationError("--pg-tls \(pgTLS): use disable, require or verify-full")
        }
        guard (pgTLS == "verify-full") == (pgCAFile != nil) else {
            throw ValidationError(pgTLS == "verify-full" ? "--pg-tls verify-full needs --pg-ca-file"
                                                         : "--pg-ca-file is for --pg-tls verify-full")
        }
        guard pgTLS == "disable" || socketDirectory == nil else {
            throw ValidationError("--pg-tls is for TCP; PostgreSQL does not speak TLS on its Unix socket (--socket-directory)")
        }
    }

    /// The TLS mode the options name, its CA file checked now (exit 64 when it cannot be used).
    func tlsMode() -> DropCopyDatabase.TLS {
        let mode: DropCopyDatabase.TLS = switch pgTLS {
        case "require": .require
        case "verify-full": .verifyFull(caFile: pgCAFile!)
        default: .disable
        }
        do throws(DropCopyStoreError) {
            _ = try mode.context()
        } catch {
            Self.fail("--pg-tls \(pgTLS): \(error)")
        }
        return mode
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rtes-dropcopy")
        let environment = ProcessInfo.processInfo.environment
        let (configuration, keys) = try Self.loadConfiguration(path: config, environment: environment)
        let lookup = PasswordLookup(file: passwordFile, variable: Self.passwordVariable, environment: environment, prompt: nil)
        let password: String?
        do {
            password = try lookup.password(for: user)
        } catch .notGiven {
            password = nil
        } catch {
            Self.fail("\(error)")
        }
        let address: DropCopyDatabase.Address = socketDirectory.map { .unixSocket(directory: $0, port: port) } ?? .tcp(host: host, port: port)
        let limit: DurableLimitSource = finished ? .finished
            : .live(countersPath: counters ?? CountersSnapshot.defaultPath(exchangeName: configuration.exchange.name))
        var settings = DropCopy.Settings(
            directory: directory, configuration: configuration, keys: keys,
            database: DropCopyDatabase(address: address, user: user, database: database, password: password, schema: schema,
                                       timeoutSeconds: timeoutSeconds, tls: tlsMode()),
            limit: limit)
        settings.batchRecords = batchRecords
        settings.retryMaxMilliseconds = retryMaxMilliseconds
        let dropCopy = DropCopy(settings: settings, logger: logger)
        let signals = Self.stopOnSignals(dropCopy)
        defer { signals.forEach { $0.cancel() } }
        switch dropCopy.run() {
        case .finished, .stopped: return
        case .failed: throw ExitCode(2)
        }
    }

    /// SIGTERM and SIGINT ask the run to stop (handled on a dispatch queue, not in the handler).
    static func stopOnSignals(_ dropCopy: DropCopy) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { dropCopy.stop() }
            source.resume()
            return source
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("rtes-dropcopy: \(message)\n".utf8))
        Foundation.exit(64)
    }

    /// The configuration and the API keys, as trading_exchange loads them; a problem with
    /// either is said on standard error, exit 64.
    static func loadConfiguration(path: String, environment: [String: String]) throws -> (ExchangeConfiguration, APIKeys) {
        let loaded: LoadedConfiguration
        do {
            // This machine's facts are not the exchange's: skip the checks that depend on them.
            loaded = try ConfigurationLoader.load(path: path, environment: environment,
                                                  host: HostFacts(cpuCount: Int(Int32.max), localAddresses: nil))
        } catch {
            fail("the configuration \(path) cannot be used:\n\(error)")
        }
        guard let keysPath = loaded.secrets.apiKeysFile?.reveal() else {
            fail("RTES_API_KEYS_FILE is not set: the replica needs the API keys file the exchange ran with "
                + "(each account's risk limits change outcomes)")
        }
        do {
            let (keys, _) = try APIKeys.load(path: keysPath, allowPlainPasswords: loaded.configuration.auth.allowUnhashedAccounts)
            return (loaded.configuration, keys)
        } catch {
            fail("the API keys file (RTES_API_KEYS_FILE) cannot be used:\n\(error)")
        }
    }
}

RTESDropCopy.main()
