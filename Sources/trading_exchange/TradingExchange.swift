import ArgumentParser
import ExchangeConfig
import ExchangeCore
import ExchangeOps
import ExchangeRuntime
import ExchangeTools
import Foundation
import Logging

/// The exchange process.
@main
struct TradingExchange: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trading_exchange",
        abstract: "RTES — a real-time trading exchange simulator.",
        discussion: """
            Starts the exchange described by CONFIG: the order gateway (SoupBinTCP 3.0 / OUCH 4.2 on
            exchange.tcp_port, io_uring), the matching engine with pre-trade risk, rings between the
            agents, a counters file in shared memory (read it with rtes-stat), and the admin HTTP plane
            on exchange.metrics_port (/metrics /health /ready /live /debug/orderbook/SYMBOL). The
            accounts that may log in come from the API keys file named by RTES_API_KEYS_FILE. Logs what it obtained (pinning, memory locking, huge
            pages, NUMA nodes, kernel features). SIGTERM or SIGINT: stop accepting work, drain every
            ring, print the final counters, exit 0; during start-up, start-up stops and what it had
            started stops again (exit 0). SIGHUP: with gateway.tls, fix.tls, market_data.snapshot_tls
            or admin.tls on, read RTES_TLS_CERT, RTES_TLS_KEY and RTES_CA_CERT's files again for new
            connections (a failure keeps the old).
            SIGUSR1 (durability async or sync): write a day snapshot into the day's journal
            directory (the log names the file, the sequence and the time).

            One exchange per counters file: the first takes the lock <counters>.lock (holding its
            PID); a second with the same exchange name or --counters refuses at once, naming that PID.
            The counters file appears only once every port is bound (mode 0600, or 0640 for
            exchange.counters_group).

            With a journal (durability.mode async or sync, docs/DURABILITY.md) every command is
            journaled in durability.directory/<YYYY-MM-DD>; at start, today's journal is replayed
            (the books, every session's sequence numbers and the feed continue where they were) or,
            when there is none, a new trading day starts. A journal that cannot be recovered stops
            start-up with what was found; --new-day then starts a new day, keeping it aside.

            With durability.replication async or sync (docs/FAILOVER.md): replication.role primary
            streams the durable journal to one standby on replication.listen_port (in sync, output
            waits for the standby's acknowledgement, replication.sync_ack); role standby opens no
            client port, connects to replication.primary, journals what it receives into its own
            durability.directory and applies it to its own engine.

            With a leadership section (etcd, docs/FAILOVER.md): a primary campaigns for the leader key
            before it opens a client port, journals its fencing token first, and releases answers only
            while its lease is confirmed (it stops acknowledging, for good, when it is not); a standby
            campaigns beside its replica and, once it wins (the leader's lease expired or it resigned),
            stops the replica and starts as primary from its own journal, as a restart would: sessions
            and the feed continue their sequences.

            --check validates the configuration, the RTES_* environment and the API keys file, and prints
            the memory the configuration takes (the regions start-up maps, market data's heap, the
            io_uring and buffer rings the kernel maps, by the same sizing).

            Exit status: 0 after a clean stop (or a valid --check), 2 for a configuration that cannot
            be used (every problem is listed), 1 when something the configuration asks for cannot be
            obtained (memory, threads, a listening port).

            Logging: RTES_LOG_LEVEL = trace | debug | info (default) | notice | warning | error | critical.
            RTES_LOG_FORMAT = text (default) | json (one JSON object per line: time, level, label,
            message, source, file, line, metadata) | journald (the syslog priority prefix <N> that
            systemd-journald reads, so journalctl -p filters by level). Logs go to standard error.
            At debug, the orders rejected each second are logged by reason, in words.

            Under systemd: with NOTIFY_SOCKET set (Type=notify) it sends READY=1 once serving and
            STOPPING=1 when it starts draining; with WATCHDOG_USEC set (WatchdogSec=) it sends
            WATCHDOG=1 only while every agent thread makes progress, so a stuck agent gets it restarted.
            Secrets come only from the environment (never the file, never the logs).

            \(ConfigurationLoader.environmentHelp())
            """,
        version: RTESVersion.current)

    @Argument(help: "The exchange configuration (JSON), e.g. configs/config.dev.json.")
    var config: String

    @Flag(help: "Validate the configuration and the RTES_* environment, print every problem (or the memory the configuration takes), and exit.")
    var check = false

    @Option(help: "The counters file in shared memory (default /dev/shm/rtes.<exchange name>.counters).")
    var counters: String?

    @Option(help: "Feed a recorded demo order stream at this many commands per second beside the clients (0: off); its clients are numbered after the accounts.")
    var demoFlow: Int = 0

    @Option(help: "Seed of the demo order stream.")
    var demoSeed: UInt64 = 1

    @Flag(help: "With a journal (durability.mode async or sync): start a new trading day even though today's journal exists or cannot be recovered; that journal is moved aside, kept, and every session and the feed start again at sequence 1.")
    var newDay = false

    @Option(help: "A standby its primary refuses as diverged (its journal holds records the primary lacks, e.g. an old primary rejoining as the new one's standby): refuse (stop, exit 1) or move_aside (move the day's journal and snapshots to <day>.diverged-<unix time>, kept, and follow the primary from sequence 1). Overrides replication.on_divergence.")
    var onDivergence: String?

    func validate() throws {
        if let onDivergence, ReplicationDivergence(rawValue: onDivergence) == nil {
            throw ValidationError("--on-divergence must be \(ReplicationDivergence.allCases.map(\.rawValue).joined(separator: " or ")), got \(onDivergence)")
        }
        guard demoFlow >= 0 && demoFlow <= 10_000_000 else { throw ValidationError("--demo-flow must be between 0 and 10000000, got \(demoFlow)") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let level: Logger.Level
        switch LogLevelSetting.parse(environment["RTES_LOG_LEVEL"]) {
        case .success(let l): level = l
        case .failure(let message):
            FileHandle.standardError.write(Data("trading_exchange: \(message)\n".utf8))
            throw ExitCode(2)
        }
        let format: LogFormat
        switch LogFormat.parse(environment["RTES_LOG_FORMAT"]) {
        case .success(let f): format = f
        case .failure(let message):
            FileHandle.standardError.write(Data("trading_exchange: \(message)\n".utf8))
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap(OperatorLogHandler.factory(format: format, level: level))
        let logger = Logger(label: "rtes")

        var loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config, environment: environment, host: .current())
        } catch {
            FileHandle.standardError.write(Data("trading_exchange: \(config) cannot be used:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        if let onDivergence, let choice = ReplicationDivergence(rawValue: onDivergence) {
            loaded.configuration.replication.onDivergence = choice
        }
        for warning in loaded.warnings { logger.warning("\(warning)") }
        guard let keysPath = loaded.secrets.apiKeysFile?.reveal() else {
            FileHandle.standardError.write(Data("""
                trading_exchange: RTES_API_KEYS_FILE is not set: the order gateway needs the accounts that may log in.
                Point it at an API keys file, e.g. RTES_API_KEYS_FILE=configs/api_keys.dev.json (see README, "Accounts").

                """.utf8))
            throw ExitCode(2)
        }
        let keys: APIKeys
        do {
            let (loadedKeys, keyWarnings) = try APIKeys.load(path: keysPath, allowPlainPasswords: loaded.configuration.auth.allowUnhashedAccounts)
            keys = loadedKeys
            for warning in keyWarnings { logger.warning("\(warning)") }
        } catch {
            FileHandle.standardError.write(Data("trading_exchange: the API keys file (RTES_API_KEYS_FILE) cannot be used:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        let day = loaded.configuration.tradingDay
        if day.enabled && day.clockRate == 1 && TimeZone(identifier: day.timeZone) == nil {
            FileHandle.standardError.write(Data("trading_exchange: \(config): trading_day.time_zone: the host's time zone data has no zone \"\(day.timeZone)\"\n".utf8))
            throw ExitCode(2)
        }
        if check {
            print("\(config): valid (\(loaded.configuration.symbols.count) symbols, \(keys.accounts.count) accounts, \(loaded.warnings.count) warnings)")
            // The sizes start-up maps its regions with (the same plan), and the feed's history.
            print(MemoryPlan(loaded.configuration, accounts: keys.accounts.count, dropCopyAccounts: keys.accounts.filter(\.dropCopy).count).summary)
            return
        }

        // Signals are taken by sigwait below: block them before any thread starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        // SIGHUP: reload the TLS certificate and key (any port's TLS on); it never stops the exchange.
        sigaddset(&signals, SIGHUP)
        sigaddset(&signals, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let path = counters ?? CountersSnapshot.defaultPath(exchangeName: loaded.configuration.exchange.name)
        logger.info("starting \(loaded.configuration.exchange.name) from \(config); counters in \(path)")
        var appliance: Appliance
        var options = Appliance.Options(countersPath: path, demoFlowRate: demoFlow, demoFlowSeed: demoSeed, apiKeys: keys,
                                        stopRequested: Self.pendingStopSignal, newDay: newDay)
        // An emergency shutdown (a trigger's, or POST /emergency/shutdown) drains as SIGTERM
        // does: once the kill switch and the halt it queued have reached the engine (at most
        // two seconds), the process sends itself SIGTERM, which the loop below takes.
        let shutdownQueue = ShutdownQueue()
        options.emergencyShutdown = { _ in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(2)
                while (shutdownQueue.depth?() ?? 0) > 0 && Date() < deadline { usleep(10_000) }
                kill(getpid(), SIGTERM)
            }
        }
        do {
            appliance = try Appliance.start(loaded.configuration, options: options, logger: logger)
        } catch let stopped as Appliance.StartStopped {
            // Ctrl-C or SIGTERM while starting: honoured like one after start (exit 0).
            logger.notice("\(stopped)")
            return
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        logger.info("running; SIGTERM or SIGINT stops")
        // Under systemd (Type=notify): ready now; the watchdog pinged while the agents progress.
        let notifier = ServiceNotifier.fromEnvironment(environment)
        let watchdog = ServiceNotifier.watchdogSeconds(environment)
        notifier?.send("READY=1\nSTATUS=serving")
        let current = CurrentAppliance(appliance)
        shutdownQueue.depth = { current.appliance.emergency?.pendingActions ?? 0 }
        let monitor = ServiceMonitor(snapshot: { current.appliance.counters.snapshot() }, notifier: notifier, watchdogSeconds: watchdog,
                                     logger: logger, emergency: { s, now in current.appliance.emergency?.turn(s, now: now) })
        monitor.start()

        var received: Int32 = 0
        // A standby is looked at every 10 ms: for a promotion (with a leadership seat), and
        // for a refusal as diverged. (Two cheap reads; at 100 ms the look alone added 50 ms on
        // average, up to 100, to every failover.)
        var timeout = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        func next() -> Int32 {
            guard appliance.replicationStandby != nil else {
                var signal: Int32 = 0
                sigwait(&signals, &signal)
                return signal
            }
            let signal = sigtimedwait(&signals, nil, &timeout)
            return signal > 0 ? signal : 0
        }
        received = next()
        while received == 0 || received == SIGHUP || received == SIGUSR1 {
            if received == 0 {
                if let reason = appliance.divergence {
                    guard loaded.configuration.replication.onDivergence == .moveAside else {
                        let line = "stopping: the primary refused this standby as diverged: \(reason). replication.on_divergence "
                            + "is refuse: nothing was changed; move the day's journal directory aside by hand, or start with "
                            + "--on-divergence move_aside"
                        logger.critical("\(line)")
                        monitor.stop()
                        _ = appliance.drain()
                        throw ExitCode(1)
                    }
                    do {
                        appliance = try appliance.rejoinAfterDivergence(loaded.configuration, options: options)
                        current.appliance = appliance
                        notifier?.send("STATUS=standby (journal moved aside after divergence)")
                    } catch {
                        logger.critical("rejoin after divergence failed: \(error)")
                        monitor.stop()
                        throw ExitCode(1)
                    }
                } else if appliance.promotionDue {
                    do {
                        appliance = try appliance.promote(loaded.configuration, options: options)
                        current.appliance = appliance
                        logger.notice("promoted: serving as primary (fencing token \(appliance.fencingToken))")
                        notifier?.send("STATUS=serving (promoted to primary)")
                    } catch {
                        logger.critical("promotion failed: \(error)")
                        monitor.stop()
                        throw ExitCode(1)
                    }
                }
            } else if received == SIGHUP {
                logger.notice("SIGHUP: \(appliance.reloadTLS())")
            } else if !appliance.requestSnapshot() {
                // SIGUSR1: a day snapshot now (the snapshot agent logs the file, sequence and time).
                logger.warning("SIGUSR1: no snapshot: durability.mode is none (no journal)")
            }
            received = next()
        }
        logger.info("\(received == SIGINT ? "SIGINT" : "SIGTERM"): draining")
        notifier?.send("STOPPING=1\nSTATUS=draining")
        monitor.stop()
        let final = appliance.drain()
        print("final counters\n" + final.text())
        if let hash = final.values("engine")["state_hash"] {
            // The same digest, printed the same way, as `rtes-journal replay` of today's journal.
            logger.info("stopped; engine state hash \(StateHasher.text(hash))")
        } else {
            logger.info("stopped")
        }
    }
}

/// The operators' queue an emergency shutdown waits on before it drains (set once started).
final class ShutdownQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (@Sendable () -> Int)?
    /// Operator actions still waiting for the gateway.
    var depth: (@Sendable () -> Int)? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// The appliance the service monitor reads (it changes once, on a promotion).
final class CurrentAppliance: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Appliance
    init(_ appliance: Appliance) { value = appliance }
    var appliance: Appliance {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

extension TradingExchange {
    /// SIGINT or SIGTERM when one is pending (they are blocked during start-up, so they wait
    /// here until start-up asks), else nil.
    @Sendable static func pendingStopSignal() -> String? {
        var pending = sigset_t()
        guard sigpending(&pending) == 0 else { return nil }
        if sigismember(&pending, SIGINT) == 1 { return "SIGINT" }
        if sigismember(&pending, SIGTERM) == 1 { return "SIGTERM" }
        return nil
    }
}

enum LogLevelSetting {
    /// RTES_LOG_LEVEL, or info when unset.
    static func parse(_ text: String?) -> Result<Logger.Level, LevelError> {
        guard let text, !text.isEmpty else { return .success(.info) }
        if let level = Logger.Level(rawValue: text.lowercased()) { return .success(level) }
        return .failure(LevelError(text: text))
    }

    struct LevelError: Error, CustomStringConvertible {
        var text: String
        var description: String {
            "RTES_LOG_LEVEL=\(text) is not a log level; use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}
