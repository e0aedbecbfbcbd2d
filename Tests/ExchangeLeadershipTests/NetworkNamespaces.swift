import Foundation
import Glibc

/// Hosts for the partition tests: network namespaces this test creates (unique names), joined
/// pairwise by veth links created directly inside them (nothing is added to the host's own
/// namespace), each link able to go down and up again. Everything is removed by `remove()` —
/// the processes started in them (SIGKILL, by pid) first, then the namespaces — which the
/// deinit calls too, whatever the test's outcome.
final class NetworkNamespaces: @unchecked Sendable {
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why namespaces cannot be used here (nil: they can): no `ip`, or `ip netns add` refused
    /// (not root, no CAP_SYS_ADMIN, a kernel without network namespaces). Probed once.
    static let unavailable: String? = {
        guard ip != nil else { return "iproute2's ip is not installed" }
        let probe = "rtes-probe-\(getpid())"
        let added = run(["netns", "add", probe])
        guard added.status == 0 else { return "`ip netns add` failed (\(added.output.trimmingCharacters(in: .whitespacesAndNewlines)))" }
        _ = run(["netns", "delete", probe])
        return nil
    }()

    let prefix: String
    private(set) var names: [String] = []
    private var processes: [Process] = []
    private let lock = NSLock()

    /// Namespaces `prefix-<role>` for each role (e.g. "e", "a", "b", "c"), loopback up. Stale
    /// namespaces of earlier runs of this test whose process is gone are removed first.
    init(roles: [String]) throws {
        Self.removeStale()
        prefix = "rtes-ft\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        do {
            for role in roles {
                let name = "\(prefix)-\(role)"
                try Self.check(["netns", "add", name])
                names.append(name)
                try Self.check(["-n", name, "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    func name(_ role: String) -> String { "\(prefix)-\(role)" }

    /// A veth link between two namespaces: `left` gets `leftAddress`/24 on interface
    /// `leftInterface`, `right` likewise; both up.
    func link(_ left: String, _ leftInterface: String, _ leftAddress: String,
              _ right: String, _ rightInterface: String, _ rightAddress: String) throws {
        try Self.check(["-n", name(left), "link", "add", leftInterface, "type", "veth", "peer", "name", rightInterface, "netns", name(right)])
        try Self.check(["-n", name(left), "addr", "add", "\(leftAddress)/24", "dev", leftInterface])
        try Self.check(["-n", name(right), "addr", "add", "\(rightAddress)/24", "dev", rightInterface])
        try Self.check(["-n", name(left), "link", "set", leftInterface, "up"])
        try Self.check(["-n", name(right), "link", "set", rightInterface, "up"])
    }

    /// The partition: one end of a link down (nothing crosses it; no reset is sent), or up again.
    func setLink(_ role: String, _ interface: String, up: Bool) throws {
        try Self.check(["-n", name(role), "link", "set", interface, up ? "up" : "down"])
    }

    /// Starts `arguments` inside the namespace of `role` (`ip netns exec` execs it: the pid is
    /// the program's), output to `log`.
    func start(in role: String, _ arguments: [String], environment: [String: String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ip!)
        process.arguments = ["netns", "exec", name(role)] + arguments
        process.environment = environment
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { processes.append(process) }
        return process
    }

    /// Runs `body` on a thread of its own that has entered the namespace of `role` (its sockets
    /// are that host's), waiting at most `timeout`; nil when it did not finish in time (the
    /// thread is left to end by its own bounds) or could not enter.
    func onHost<T>(_ role: String, timeout: Duration, _ body: @escaping @Sendable () -> T) -> T? {
        let box = ResultBox<T>()
        let path = "/run/netns/\(name(role))"
        let thread = Thread {
            defer { box.done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            guard Self.enter(fd) else { return }
            box.value = body()
        }
        thread.start()
        let (seconds, attoseconds) = timeout.components
        let wait = DispatchTime.now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        guard box.done.wait(timeout: wait) == .success else { return nil }
        return box.value
    }

    /// setns(fd, CLONE_NEWNET) for the calling thread (looked up at run time: not every libc
    /// header exposes it to Swift).
    static func enter(_ fd: Int32) -> Bool {
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return false }
        return unsafeBitCast(symbol, to: SetNS.self)(fd, 0x4000_0000) == 0  // CLONE_NEWNET
    }

    /// Kills every process started here (SIGKILL, by pid) and deletes the namespaces. Idempotent.
    func remove() {
        let started = lock.withLock { () -> [Process] in
            defer { processes = [] }
            return processes
        }
        for process in started where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for name in names { _ = Self.run(["netns", "delete", name]) }
        names = []
    }

    /// Namespaces named by an earlier run of this test (rtes-ftPID-…) whose process is gone.
    static func removeStale() {
        guard let listing = try? FileManager.default.contentsOfDirectory(atPath: "/run/netns") else { return }
        for name in listing where name.hasPrefix("rtes-ft") {
            let digits = name.dropFirst("rtes-ft".count).prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid(), kill(pid, 0) != 0 else { continue }
            _ = run(["netns", "delete", name])
        }
    }

    @discardableResult
    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        guard let ip else { return (127, "no ip") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (126, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func check(_ arguments: [String]) throws {
        let result = run(arguments)
        guard result.status == 0 else {
            throw NamespaceError(message: "ip \(arguments.joined(separator: " ")): status \(result.status): \(result.output)")
        }
    }
}

/// What a thread on another host produced, and when it finished.
final class ResultBox<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

struct NamespaceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
