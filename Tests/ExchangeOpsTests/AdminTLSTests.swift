import ExchangeConfig
import ExchangeEngine
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeTLS
import Foundation
import Glibc
import Testing

/// The admin plane with admin.tls on: curl and Python's ssl fetch /metrics and /health over
/// HTTPS; a plaintext HTTP client is refused and counted while TLS clients are served; the
/// bounds (idle timeout) still close a client that never completes its handshake. The plane
/// runs on its own threads; each peer program is waited for with a bound and ended.
@Suite(.serialized) struct AdminTLS {
    static let curl = AdminPeer.which("curl")
    static let python = AdminPeer.which("python3")

    /// configs/tls/make-dev-certs.sh's output, made once per run in a temporary directory.
    static let certificates: Result<String, AdminPeer.Failed> = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-admin-tls-\(getpid())").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = AdminPeer.run(root.appendingPathComponent("configs/tls/make-dev-certs.sh").path, [path], timeout: 300)
        guard result.status == 0 else { return .failure(AdminPeer.Failed(output: result.output)) }
        certificateDirectory = path
        atexit { if let path = AdminTLS.certificateDirectory { try? FileManager.default.removeItem(atPath: path) } }
        return .success(path)
    }()
    nonisolated(unsafe) static var certificateDirectory: String?

    static func file(_ name: String) throws -> String { try certificates.get() + "/" + name }

    /// An admin plane on its own (as AdminPlaneBounds's), speaking HTTPS.
    final class Plane {
        let counters = CountersRegion.anonymous(name: "ADMIN-TLS", ticksPerSecond: 1_000_000_000)
        let snapshotMemory = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 64)
        let state: AdminState
        let server: AdminServer

        init(idleMilliseconds: Int = 10_000) throws {
            counters.state = .running
            snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: 1 << 16)
            var settings = AdminSettings()
            settings.idleTimeoutMilliseconds = idleMilliseconds
            settings.tls = .on
            state = AdminState(cells: counters.cells, snapshots: OrderBookSnapshotClient(base: snapshotMemory, maxLevels: 16),
                               instruments: [], settings: settings)
            // Mutual TLS is never asked of admin clients: the CA is not given to the server.
            let source = try TLSContextSource(settings: TLSServerSettings(
                certificateFile: try AdminTLS.file("server.pem"), keyFile: try AdminTLS.file("server.key")))
            server = try AdminServer.start(host: "127.0.0.1", port: 0, state: state, tls: source)
        }

        var port: Int { server.port }

        func stop() {
            server.stop()
            snapshotMemory.deallocate()
        }
    }

    /// curl's body and status code (`-w`), or its error.
    func fetch(_ port: Int, _ path: String) throws -> (status: Int32, output: String) {
        AdminPeer.run(Self.curl!, ["-sS", "--max-time", "30", "--cacert", try Self.file("ca.pem"), "-w", "\nHTTP %{http_code}\n",
                                   "https://127.0.0.1:\(port)\(path)"], timeout: 60)
    }

    @Test(.enabled(if: curl != nil, "curl is not installed"))
    func curlFetchesMetricsAndHealthOverHTTPS() throws {
        let plane = try Plane()
        defer { plane.stop() }
        let metrics = try fetch(plane.port, "/metrics")
        #expect(metrics.status == 0, "\(metrics.output)")
        #expect(metrics.output.contains("HTTP 200"), "\(metrics.output)")
        #expect(metrics.output.contains("rtes_admin_connections_total"), "\(metrics.output)")
        let health = try fetch(plane.port, "/health")
        #expect(health.status == 0, "\(health.output)")
        #expect(health.output.contains("\"status\""), "\(health.output)")
        #expect(health.output.contains("HTTP 200") || health.output.contains("HTTP 503"), "\(health.output)")
        let live = try fetch(plane.port, "/live")
        #expect(live.output.contains("{\"alive\":true}") && live.output.contains("HTTP 200"), "\(live.output)")
        #expect(plane.state.connections.closed(.tlsFailed) == 0)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"), arguments: ["1.3", "1.2"])
    func pythonFetchesMetricsOverHTTPS(version: String) throws {
        let plane = try Plane()
        defer { plane.stop() }
        let script = """
        import ssl, sys, urllib.request
        ctx = ssl.create_default_context(cafile=sys.argv[2])
        v = ssl.TLSVersion.TLSv1_3 if sys.argv[3] == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
        with urllib.request.urlopen("https://127.0.0.1:%s/metrics" % sys.argv[1], context=ctx, timeout=30) as r:
            body = r.read().decode()
            print("STATUS", r.status, "LINES", len(body.splitlines()))
            print("HAS", "rtes_admin_connections_open" in body)
        """
        let run = AdminPeer.run(Self.python!, ["-c", script, "\(plane.port)", try Self.file("ca.pem"), version], timeout: 60)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("STATUS 200") && run.output.contains("HAS True"), "\(run.output)")
    }

    @Test(.enabled(if: curl != nil, "curl is not installed"))
    func aPlaintextClientIsRefusedAndCountedWhileHTTPSClientsAreServed() throws {
        let plane = try Plane()
        defer { plane.stop() }
        // A TLS connection open (its handshake done) before and after the plaintext one.
        let plain = try RawHTTPConnection(port: plane.port)
        #expect(plain.sendAll("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"))
        let (bytes, closed) = plain.readUntilClosed(deadline: Deadline(after: .seconds(30)))
        #expect(closed, "the plaintext client was not disconnected")
        #expect(!String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/"), "the plaintext client got an HTTP answer")
        #expect(waitUntil(timeout: .seconds(30)) { plane.state.connections.closed(.tlsFailed) == 1 })
        let metrics = try fetch(plane.port, "/metrics")
        #expect(metrics.status == 0 && metrics.output.contains("HTTP 200"), "\(metrics.output)")
        #expect(metrics.output.contains(#"rtes_admin_connections_closed_total{reason="tls_failed"} 1"#), "\(metrics.output)")
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func pipelinedRequestsThatAreNeverReadAreStillBoundedOverTLS() throws {
        let plane = try Plane(idleMilliseconds: 500)
        defer { plane.stop() }
        // Up to 50 MB of pipelined GET /metrics over TLS, never reading an answer: the plane
        // stops reading while answers wait, and closes the connection.
        let script = """
        import socket, ssl, sys
        ctx = ssl.create_default_context(cafile=sys.argv[2])
        raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        req = b"GET /metrics HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n" * 100
        sent = 0
        try:
            while sent < 50_000_000:
                s.sendall(req)
                sent += len(req)
            print("NOT CLOSED after", sent, "bytes")
        except (OSError, ssl.SSLError) as e:
            print("CLOSED after", sent, "bytes:", type(e).__name__)
        """
        let before = residentBytes()
        let run = AdminPeer.run(Self.python!, ["-c", script, "\(plane.port)", try Self.file("ca.pem")], timeout: 90)
        let grown = residentBytes() - before
        #expect(grown < 100 << 20, "the process grew by \(grown >> 20) MB")
        #expect(run.output.contains("CLOSED after") && !run.output.contains("NOT CLOSED"), "\(run.output)")
        #expect(waitUntil(timeout: .seconds(30)) {
            plane.state.connections.closed(.idle) + plane.state.connections.closed(.pipelined) == 1
        }, "closed: idle \(plane.state.connections.closed(.idle)), pipelined \(plane.state.connections.closed(.pipelined))")
        #expect(plane.state.connections.closed(.tlsFailed) == 0)
    }

    @Test func aClientThatNeverCompletesItsHandshakeIsClosedByTheIdleTimeout() throws {
        let plane = try Plane(idleMilliseconds: 300)
        defer { plane.stop() }
        // Half a ClientHello (a record header that promises more), then silence.
        let slow = try RawHTTPConnection(port: plane.port)
        #expect(slow.sendSome([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]) == 6)
        let (_, closed) = slow.readUntilClosed(deadline: Deadline(after: .seconds(30)))
        #expect(closed, "the silent handshake was not closed")
        #expect(waitUntil(timeout: .seconds(30)) { plane.state.connections.closed(.idle) == 1 })
    }
}

/// A peer program run to its end with a bound, its output collected through a file (so it
/// never blocks on a full pipe).
enum AdminPeer {
    struct Failed: Error, CustomStringConvertible {
        var output: String
        var description: String { "make-dev-certs.sh failed: \(output)" }
    }

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
            return directory + "/" + name
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double,
                    environment: [String: String]? = nil) -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-admin-peer-\(getpid())-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        do {
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try output.close()
        } catch {
            return (-1, "\(executable): \(error)")
        }
        let deadline = Deadline(seconds: timeout)
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }
}
