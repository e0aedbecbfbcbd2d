import Glibc

/// A server the benchmark runs as a child process (trading_exchange, the QuickFIX acceptor),
/// its output to a file. Start it through `setpriv --pdeathsig KILL` so that it dies with the
/// benchmark whatever ends it. `pause()` / `resume()` (SIGSTOP / SIGCONT) keep a spinning
/// server off the CPU while another is measured; `stop()` ends it (SIGTERM, then SIGKILL
/// after 10 s) and reaps it.
final class ChildProcess {
    let pid: pid_t
    private var exited = false

    init(_ arguments: [String], environment: [String: String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
        guard result == 0 else { throw BenchFailure("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    deinit { stop() }

    func pause() {
        if !exited { kill(pid, SIGSTOP) }
    }

    func resume() {
        if !exited { kill(pid, SIGCONT) }
    }

    /// Its wait status if it has exited (reaped now), else nil.
    func exitedAlready() -> Int32? {
        guard !exited else { return 0 }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exited = true
        return status
    }

    /// Ends it (SIGTERM, SIGKILL after 10 s) and reaps it; its exit status, or nil when it had
    /// to be killed, was killed by a signal, or was gone already.
    @discardableResult
    func stop() -> Int32? {
        guard !exited else { return nil }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<1_000 {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : nil
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        exited = true
        return nil
    }
}
