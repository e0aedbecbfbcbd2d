import ExchangeTestSupport
import Foundation
import Glibc

/// A child process started with posix_spawn and reaped with waitpid, standard output and
/// error to a file, every descriptor above 2 closed in the child. Not Foundation's `Process`:
/// it learns that a child ended from a socket the child inherits, and the postmaster pg_ctl
/// starts inherits it too and keeps it open — `waitUntilExit` then never returns (seen here),
/// and a server started while another child runs would keep that child "running" as well.
final class SpawnedProcess {
    let pid: pid_t
    let outputPath: String
    private(set) var status: Int32?

    init(_ path: String, _ arguments: [String], environment: [String: String], output: String) throws {
        outputPath = output
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard let closeFrom = Self.addCloseFrom else { throw LocalPostgres.Failure("glibc lacks posix_spawn_file_actions_addclosefrom_np (2.34+)") }
        _ = closeFrom(&actions, 3)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard result == 0 else { throw LocalPostgres.Failure("cannot start \(path): \(String(cString: strerror(result)))") }
        pid = child
    }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not import.
    static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = exitStatus(within: 10)
        }
    }

    /// Whether it still runs (reaping it, and keeping its status, when it has ended).
    var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid {
            // Exit status, or 128 + the signal that ended it (as a shell says).
            status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            return false
        }
        return reaped == 0
    }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Waits at most `seconds` for it to end; its status, or nil when it still runs.
    func exitStatus(within seconds: Int) -> Int32? {
        let deadline = Deadline(seconds: Double(seconds))
        while isRunning {
            if deadline.hasPassed { return nil }
            usleep(10_000)
        }
        return status
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// The environment a child gets: this process's, without RTES_* and PG* variables, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") && !$0.key.hasPrefix("PG") }
            .merging(extra) { $1 }
    }
}
