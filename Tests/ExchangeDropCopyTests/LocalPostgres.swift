import Foundation
import Glibc

/// A real PostgreSQL server of the test's own (Debian's `postgresql` package: initdb and
/// pg_ctl from /usr/lib/postgresql/<version>/bin): a cluster initialised in a temporary
/// directory, listening on 127.0.0.1 at a free port and on a Unix socket in that directory,
/// password (SCRAM) authentication over TCP. `stop()` and `start()` take it away and bring it
/// back mid-test; `remove()` stops it and deletes the directory (call it in a `defer`). As root
/// (the CI machines) the server runs as the `postgres` user the package creates, since
/// PostgreSQL refuses to run as root. psql (postgresql-client) answers the test's queries, an
/// independent reader of what the store wrote.
final class LocalPostgres {
    static let user = "rtes"
    static let password = "dropcopy-test-\(UInt32.random(in: 0...UInt32.max))"
    static let database = "postgres"

    /// initdb's directory, or nil when the package is not installed.
    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return nil
    }()

    static var psqlPath: String? {
        if let binaries, FileManager.default.isExecutableFile(atPath: binaries + "/psql") { return binaries + "/psql" }
        return FileManager.default.isExecutableFile(atPath: "/usr/bin/psql") ? "/usr/bin/psql" : nil
    }

    static var available: Bool {
        guard binaries != nil, psqlPath != nil else { return false }
        return getuid() != 0 || getpwnam("postgres") != nil
    }

    static let unavailableReason = "PostgreSQL's server is not installed (Debian's postgresql: .ci/deps installs it)"

    let directory: String
    let port: Int
    var running = false
    /// With TLS: `ssl=on` with this certificate and key, and TCP clients accepted over TLS only.
    let tls: (certificate: String, key: String)?

    init(tls: (certificate: String, key: String)? = nil) throws {
        self.tls = tls
        var template = Array("/tmp/rtes-pg-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw Failure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = try Self.freePort()
        do {
            guard FileManager.default.createFile(atPath: directory + "/pw", contents: Data((Self.password + "\n").utf8)) else {
                throw Failure("cannot write the password file in \(directory)")
            }
            if getuid() == 0, let pw = getpwnam("postgres") {
                for path in [directory, directory + "/pw"] { chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) }
            }
            try asServer("initdb", ["-D", directory + "/data", "-U", Self.user, "--pwfile=\(directory)/pw", "--auth-host=scram-sha-256",
                                   "--auth-local=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"])
            if let tls {
                // The server's copies (it wants its key 0600 and its own); TCP only over TLS (hostssl).
                for (from, to) in [(tls.certificate, "server.pem"), (tls.key, "server.key")] {
                    try FileManager.default.copyItem(atPath: from, toPath: directory + "/" + to)
                    chmod(directory + "/" + to, 0o600)
                    if getuid() == 0, let pw = getpwnam("postgres") { chown(directory + "/" + to, pw.pointee.pw_uid, pw.pointee.pw_gid) }
                }
                let hba = directory + "/data/pg_hba.conf"
                let rules = try String(contentsOfFile: hba, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix("host ") ? "hostssl" + $0.dropFirst(4) : $0 }.joined(separator: "\n")
                try Data(rules.utf8).write(to: URL(fileURLWithPath: hba))
            }
            try start()
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// Starts the server and waits (pg_ctl -w, at most 60 s) until it accepts connections.
    func start() throws {
        try asServer("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                                "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off"
                                    + (tls == nil ? "" : " -c ssl=on -c ssl_cert_file=\(directory)/server.pem -c ssl_key_file=\(directory)/server.key"),
                                "start"])
        running = true
    }

    /// Stops the server at once (`immediate`: connections are cut, as a crash would).
    func stop() throws {
        try asServer("pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "-t", "60", "stop"])
        running = false
    }

    /// Stops the server if it runs and removes the directory; safe to call twice.
    func remove() {
        if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
            try? stop()
            // pg_ctl failed: end the postmaster by the PID it wrote.
            if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
               let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), pid > 1 {
                kill(pid, SIGKILL)
            }
        }
        running = false
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs one of the server's programs (as `postgres` when this is root); throws with its output when it fails.
    @discardableResult
    func asServer(_ program: String, _ arguments: [String]) throws -> String {
        let binary = Self.binaries! + "/" + program
        if getuid() == 0 {
            return try Self.run("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--reset-env", binary] + arguments)
        }
        return try Self.run(binary, arguments)
    }

    /// psql's answer to `sql`: unaligned, tuples only, fields separated by `|`.
    func query(_ sql: String) throws -> String {
        try Self.run(Self.psqlPath!, ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", Self.database, "-X", "-A", "-t",
                                      "-v", "ON_ERROR_STOP=1", "-c", sql],
                     environment: ["PGPASSWORD": Self.password, "PGCONNECT_TIMEOUT": "30"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs a program to its end, at most 120 s (pg_ctl's own -t and psql's PGCONNECT_TIMEOUT
    /// are shorter); throws with its output when it fails.
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "rtes-pg-output-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(outputPath) }
        let child = try SpawnedProcess(path, arguments, environment: SpawnedProcess.environment(environment), output: outputPath)
        let status = child.exitStatus(within: 120)
        let text = child.output
        guard status == 0 else {
            throw Failure("\((path as NSString).lastPathComponent) \(arguments.prefix(3).joined(separator: " ")) … "
                + (status.map { "exited \($0)" } ?? "did not end within 120 s") + ": \(text.suffix(2_000))")
        }
        return text
    }

    /// A TCP port on 127.0.0.1 nothing listens on now (the kernel's pick).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
