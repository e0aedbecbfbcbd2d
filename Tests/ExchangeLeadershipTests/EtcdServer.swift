import ExchangeConfig
import ExchangeLeadership
import Foundation
import Testing

/// A real etcd (Debian's etcd-server) started for one test: a temporary data directory,
/// free loopback ports, healthy before the test starts, and killed and removed afterwards
/// whatever the outcome.
final class EtcdServer: @unchecked Sendable {
    /// The etcd binary, if installed.
    static let binary: String? = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let missing = "etcd is not installed (apt-get install etcd-server; .ci/deps does)"

    let process = Process()
    let directory: URL
    let endpoint: LeadershipSettings.Endpoint
    let client: EtcdClient

    private init() throws {
        guard let binary = Self.binary else { throw EtcdServerError(message: Self.missing) }
        // In memory where the host has /dev/shm: etcd fsyncs its WAL on every write, and with
        // the rest of the suite fsyncing journals beside it a disk-backed etcd answered so late
        // that no candidate could win within the test's bounds (the outcomes under test do not
        // depend on etcd's own durability).
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = URL(fileURLWithPath: base)
            .appendingPathComponent("rtes-etcd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let clientPort = try freeLoopbackPort()
        var peerPort = try freeLoopbackPort()
        while peerPort == clientPort { peerPort = try freeLoopbackPort() }
        endpoint = LeadershipSettings.Endpoint(address: IPv4Address("127.0.0.1")!, port: clientPort)
        client = EtcdClient(endpoints: [endpoint])
        let clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", "rtes-test", "--data-dir", directory.appendingPathComponent("data").path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "rtes-test=\(peerURL)", "--initial-cluster-state", "new",
        ]
        process.environment = ["PATH": "/usr/bin:/bin"]
        let logPath = directory.appendingPathComponent("etcd.log").path
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw EtcdServerError(message: "cannot create \(logPath)")
        }
        defer { try? log.close() }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Starts etcd, waits (at most `healthWithin`) for /health, runs `body`, and stops etcd
    /// whatever happens.
    static func with<T>(healthWithin: Duration = .seconds(20), _ body: (EtcdServer) async throws -> T) async throws -> T {
        let server = try EtcdServer()
        defer { server.stop() }
        let clock = ContinuousClock()
        let deadline = clock.now + healthWithin
        while !(await server.client.isHealthy(timeout: .milliseconds(500))) {
            guard server.process.isRunning else { throw EtcdServerError(message: "etcd exited at start: \(server.log)") }
            guard clock.now < deadline else { throw EtcdServerError(message: "etcd was not healthy within \(healthWithin): \(server.log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await body(server)
    }

    var log: String {
        let text = (try? String(contentsOf: directory.appendingPathComponent("etcd.log"), encoding: .utf8)) ?? "(no log)"
        return String(text.suffix(2_000))
    }

    /// SIGSTOP: etcd holds its sockets open and answers nothing.
    func pause() { kill(process.processIdentifier, SIGSTOP) }
    func resume() { kill(process.processIdentifier, SIGCONT) }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

struct EtcdServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A loopback port no one listens on now (the kernel's choice for port 0).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw EtcdServerError(message: "socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw EtcdServerError(message: "bind: errno \(errno)") }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw EtcdServerError(message: "getsockname: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
}

/// Polls `condition` every 10 ms until it holds or `within` passes; returns whether it held.
/// (A bound on waiting for a real server, never what decides an outcome by itself.)
func eventually(within: Duration, _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + within
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// The suites that start etcd and campaign against it with a 2 s lease run one after the
/// other, never beside each other: each is timing-sensitive (a keepalive every two thirds of a
/// second), and two of them at once — appliances, etcd servers, a SIGSTOPped etcd — on this
/// 2-CPU machine once starved one of them past its lease in a full `make test`.
@Suite(.serialized) struct EtcdSuites {}
