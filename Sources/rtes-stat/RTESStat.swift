import ArgumentParser
import ExchangeConfig
import ExchangeOps
import ExchangeRuntime
import ExchangeTools
import Foundation

/// Prints an exchange's counters live, reading its counters file in shared memory without
/// disturbing its agents.
@main
struct RTESStat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-stat",
        abstract: "Print a running RTES exchange's counters, live.",
        discussion: """
            Give the counters file, or the exchange's configuration to find it (/dev/shm/rtes.<name>.counters).
            An exchange whose process is gone without having stopped (killed, crashed) is reported as gone,
            from the PID in the counters file and the lock beside it (<counters>.lock).

            Exit status: 0, 1 when the counters file cannot be read, 2 for a configuration that cannot be
            used, 3 when the exchange's process is gone without having stopped.
            """,
        version: RTESVersion.current)

    @Option(help: "The counters file.")
    var counters: String?

    @Option(help: "The exchange configuration, to find the counters file by the exchange's name.")
    var config: String?

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    @Flag(help: "Print once and exit.")
    var once = false

    @Flag(help: "Also list every registered counter block, counter by counter, as the file's directory names them.")
    var all = false

    func validate() throws {
        guard counters != nil || config != nil else { throw ValidationError("give --counters FILE or --config CONFIG") }
        guard interval >= 0.1 && interval <= 3_600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
    }

    func run() throws {
        var path = counters ?? ""
        if counters == nil, let config {
            do {
                let loaded = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, host: .current())
                path = CountersSnapshot.defaultPath(exchangeName: loaded.configuration.exchange.name)
            } catch {
                FileHandle.standardError.write(Data("rtes-stat: \(config) cannot be used:\n\(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let region: CountersRegion
        do {
            region = try CountersRegion.open(path: path)
        } catch {
            FileHandle.standardError.write(Data("rtes-stat: \(error) (is the exchange running?)\n".utf8))
            throw ExitCode(1)
        }
        var previous: CountersSnapshot?
        let lockPath = InstanceLock.path(forCounters: path)
        while true {
            let now = region.snapshot()
            if !once { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(now.text(previous: previous, seconds: interval))
            if all { print(now.directoryText()) }
            if now.state != .stopped, case .gone(let reason) = InstanceLock.holder(pid: now.pid, lockPath: lockPath) {
                print("GONE     \(reason); the counters above are its last (state \(now.state) was never updated)")
                throw ExitCode(3)
            }
            if once || now.state == .stopped { return }
            previous = now
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
