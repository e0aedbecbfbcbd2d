import CMallocCounter
import ExchangeClock
@testable import ExchangeFeed
@testable import ExchangeMarketData
import ExchangeTLS
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Testing

/// The snapshot service with market_data.snapshot_tls on, against real TLS peers —
/// `openssl s_client`, Python's `ssl` module and the feed's own `SnapshotClient` — on
/// loopback. The agent turns on the test's thread with a `ManualClock` while each peer runs
/// (a process, or a thread of its own for SnapshotClient); every wait is bounded and names
/// what did not happen, and every peer process is ended by its test.
@Suite(.serialized) struct SnapshotTLS {
    typealias Cell = MarketDataCounters

    static let openssl = SnapshotPeer.which("openssl")
    static let python = SnapshotPeer.which("python3")

    /// configs/tls/make-dev-certs.sh's output for the rig's account ALICE (and BOB, who is
    /// not an account), made once per run in a temporary directory removed at exit.
    static let certificates: Result<String, SnapshotPeer.Failed> = {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-snapshot-tls-\(getpid())").path
        let keys = base + "-keys.json"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        do {
            try #"{"accounts": [{"username": "ALICE"}, {"username": "BOB"}]}"#.write(toFile: keys, atomically: true, encoding: .utf8)
            let result = try SnapshotPeer.run(root.appendingPathComponent("configs/tls/make-dev-certs.sh").path, [base, keys], timeout: 300)
            try? FileManager.default.removeItem(atPath: keys)
            guard result.status == 0 else { return .failure(SnapshotPeer.Failed(output: result.output)) }
        } catch {
            return .failure(SnapshotPeer.Failed(output: "\(error)"))
        }
        certificateDirectory = base
        atexit { if let path = SnapshotTLS.certificateDirectory { try? FileManager.default.removeItem(atPath: path) } }
        return .success(base)
    }()
    nonisolated(unsafe) static var certificateDirectory: String?

    static func file(_ name: String) throws -> String { try certificates.get() + "/" + name }

    /// A rig whose snapshot service speaks TLS (mutual: client certificates from the dev CA,
    /// CN = username), its books holding `commands` commands' resting orders.
    func rig(mutual: Bool = false, commands: Int = 300) throws -> SnapshotTestRig {
        var c = SnapshotTestRig.defaultConfiguration()
        c.snapshotTLS = try TLSContextSource(settings: TLSServerSettings(
            certificateFile: try Self.file("server.pem"), keyFile: try Self.file("server.key"),
            clientCAFile: mutual ? try Self.file("ca.pem") : nil))
        return try SnapshotTestRig(configuration: c, commands: commands)
    }

    /// Python's ssl: logs in, reads the snapshot, logs out; prints what happened.
    static let pythonClient = #"""
    import socket, ssl, struct, sys
    port, cafile, cert, key, user, password, version = sys.argv[1:8]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    if version == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    if cert != "-":
        ctx.load_cert_chain(cert, key)
    try:
        raw = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        print("HANDSHAKE", s.version(), flush=True)
        body = b"L" + user.ljust(6).encode() + password.ljust(10).encode() + b" " * 10 + b"0".rjust(20)
        s.sendall(struct.pack(">H", len(body)) + body)
        buf = b""
        messages = 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                print("CLOSED after", messages, "messages", flush=True)
                sys.exit(3)
            buf += chunk
            while len(buf) >= 2:
                n = struct.unpack(">H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                t, p, buf = buf[2:3], buf[3:2 + n], buf[2 + n:]
                if t == b"A":
                    print("ACCEPTED", p[:10].decode().strip(), flush=True)
                elif t == b"J":
                    print("REJECTED", p.decode(), flush=True)
                    sys.exit(2)
                elif t == b"S":
                    if p[:1] == b"G" and len(p) == 21:
                        print("END", int(p[1:]), "MESSAGES", messages, flush=True)
                        s.sendall(b"\x00\x01O")
                        s.close()
                        sys.exit(0)
                    messages += 1
    except ssl.SSLError as e:
        print("SSLERROR", e.reason, str(e), flush=True)
        sys.exit(4)
    except OSError as e:
        print("OSERROR", e, flush=True)
        sys.exit(5)
    """#

    func pythonPeer(_ port: UInt16, certificate: String? = nil, user: String = "ALICE", password: String = "s3cret",
                version: String = "any") throws -> SnapshotPeer {
        try SnapshotPeer(Self.python!, ["-c", Self.pythonClient, "\(port)", try Self.file("ca.pem"),
                                        try certificate.map { try Self.file("\($0).pem") } ?? "-",
                                        try certificate.map { try Self.file("\($0).key") } ?? "-", user, password, version])
    }

    /// Turns the agent until every peer has exited (at most `seconds` of the host's time);
    /// `each` runs every turn (a test moves the clock there). False when one did not exit.
    func serve(_ rig: SnapshotTestRig, _ agent: inout MarketDataAgent<ManualClock>, _ peers: [SnapshotPeer], seconds: Double = 60,
               each: (borrowing MarketDataAgent<ManualClock>) -> Void = { _ in }) -> Bool {
        let deadline = Deadline(seconds: seconds)
        while peers.contains(where: \.isRunning) && !deadline.hasPassed {
            rig.turns(&agent, 1)
            each(agent)
        }
        let done = !peers.contains(where: \.isRunning)
        for peer in peers { peer.end() }
        return done
    }

    // ---- Python's ssl ----------------------------------------------------------------

    @Test(.enabled(if: python != nil, "python3 is not installed"), arguments: ["1.3", "1.2"])
    func pythonGetsTheSnapshotOverTLS(version: String) throws {
        let rig = try rig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let peer = try pythonPeer(agent.snapshotPort, version: version)
        #expect(serve(rig, &agent, [peer]), "the Python client did not finish in 60 s: \(peer.output)")
        let output = peer.output
        #expect(peer.status == 0, "\(output)")
        #expect(output.contains("HANDSHAKE TLSv\(version)"), "\(output)")
        #expect(output.contains("ACCEPTED SNAP"), "\(output)")
        #expect(output.contains("END ") && !output.contains("MESSAGES 0"), "\(output)")
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        #expect(rig.counter(Cell.snapshotTLSFailures) == 0)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func mutualTLSServesTheCertificatesOwnAccountAndRefusesAnotherAccountsCertificate() throws {
        let rig = try rig(mutual: true)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let own = try pythonPeer(agent.snapshotPort, certificate: "client-ALICE")
        #expect(serve(rig, &agent, [own]), "the Python client did not finish in 60 s: \(own.output)")
        #expect(own.status == 0 && own.output.contains("END "), "\(own.output)")

        // BOB's certificate (valid, from the trusted CA) logging in as ALICE, with ALICE's
        // right password: Login Rejected A, before the password is ever checked.
        let other = try pythonPeer(agent.snapshotPort, certificate: "client-BOB")
        #expect(serve(rig, &agent, [other]), "the Python client did not finish in 60 s: \(other.output)")
        #expect(other.status == 2 && other.output.contains("REJECTED A"), "\(other.output)")

        // No certificate at all: the handshake is refused.
        let none = try pythonPeer(agent.snapshotPort)
        #expect(serve(rig, &agent, [none]), "the Python client did not finish in 60 s: \(none.output)")
        #expect(none.status == 4 || none.status == 5, "\(none.output)")
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        #expect(rig.counter(Cell.snapshotLoginsRejected) == 1)
        #expect(rig.counter(Cell.snapshotTLSFailures) == 1)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"),
          arguments: [("expired-client", "CERTIFICATE_EXPIRED"), ("other-client", "UNKNOWN_CA")])
    func aBadClientCertificateIsRefusedWithItsReason(certificate: String, reason: String) throws {
        let rig = try rig(mutual: true, commands: 0)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        // expired-client and other-client both have CN DEMO1.
        let peer = try pythonPeer(agent.snapshotPort, certificate: certificate, user: "DEMO1")
        #expect(serve(rig, &agent, [peer]), "the Python client did not finish in 60 s: \(peer.output)")
        #expect(peer.status == 4, "\(peer.output)")
        #expect(peer.output.contains("SSLERROR") && peer.output.contains(reason), "\(peer.output)")
        rig.turns(&agent, 5)
        #expect(rig.counter(Cell.snapshotTLSFailures) == 1)
        #expect(rig.counter(Cell.snapshotsServed) == 0)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func aPlaintextClientIsRefusedAndCountedWhileATLSClientIsServed() throws {
        let rig = try rig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let plain = try SnapshotTestClient(port: agent.snapshotPort)
        plain.login()
        let peer = try pythonPeer(agent.snapshotPort)
        #expect(serve(rig, &agent, [peer]) { _ in plain.poll() }, "the Python client did not finish in 60 s: \(peer.output)")
        #expect(rig.pump(&agent, [plain]) { _ in plain.closed }, "the plaintext client was not disconnected")
        #expect(!plain.frames.contains { $0.type == SoupPacketType.loginAccepted }, "the plaintext client was let in")
        #expect(peer.status == 0 && peer.output.contains("END "), "\(peer.output)")
        #expect(rig.counter(Cell.snapshotTLSFailures) == 1)
        #expect(rig.counter(Cell.snapshotsServed) == 1)
    }

    // ---- The heap ----------------------------------------------------------------------

    /// Once a connection's handshake is done and its first record out, sending the rest of
    /// its snapshot allocates on the agent's thread only what OpenSSL allocates per record
    /// (TLSHeapAllocations: 2 blocks per TLS 1.3 record), every block freed: the service's own
    /// TLS path (staging, sends, completions) allocates nothing.
    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func sendingASnapshotOverTLSAllocatesOnlyOpenSSLsPerRecordBlocks() throws {
        let rig = try rig(commands: 15_000)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let peer = try pythonPeer(agent.snapshotPort, version: "1.3")
        defer { peer.end() }
        // Until the connection is in a pass and has sent its first record (OpenSSL's record
        // buffers are made by then).
        var slot = -1
        let deadline = Deadline(seconds: 60)
        while slot < 0 && !deadline.hasPassed {
            rig.turns(&agent, 1)
            slot = (0..<agent.snapshots.capacity).first { agent.snapshots.sessions[$0].inPass && agent.snapshots.sessions[$0].passSent > 0 } ?? -1
        }
        try #require(slot >= 0, "the TLS client's snapshot did not start in 60 s: \(peer.output)")
        let sentBefore = agent.snapshots.sessions[slot].passSent
        let chunksBefore = agent.snapshots.pass.chunks
        rtes_malloc_counter_start()
        while agent.snapshots.sessions[slot].inPass && !deadline.hasPassed {
            _ = agent.doWork()
        }
        let counts = rtes_malloc_counter_stop()
        let bytes = agent.snapshots.sessions[slot].passSent - sentBefore
        let chunks = Int(agent.snapshots.pass.chunks - chunksBefore)
        #expect(!agent.snapshots.sessions[slot].inPass, "the snapshot did not finish in 60 s")
        #expect(bytes > 50_000, "only \(bytes) bytes were measured")
        // Records: at most one per 16 KiB, plus a short one where a chunk or a duty cycle's
        // send budget ends.
        let records = UInt64(bytes / 16_384 + 2 * chunks + 2)
        #expect(counts.allocations == counts.frees, "\(counts.allocations) allocations, \(counts.frees) frees")
        #expect(counts.allocations <= 2 * records, "\(counts.allocations) allocations for at most \(records) records (\(bytes) bytes)")
        #expect(serve(rig, &agent, [peer]), "the Python client did not finish: \(peer.output)")
        #expect(peer.status == 0, "\(peer.output)")
    }

    // ---- openssl s_client --------------------------------------------------------------

    @Test(.enabled(if: openssl != nil, "openssl is not installed"))
    func opensslSClientWithAClientCertificateGetsTheSnapshot() throws {
        let rig = try rig(mutual: true)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        var login = [UInt8](repeating: 0, count: 64)
        let n = login.withUnsafeMutableBytes {
            SoupBinTCP.loginRequest(username: SoupUsername("ALICE")!, password: SoupPassword("s3cret")!, to: $0.baseAddress!)
        }
        let peer = try SnapshotPeer(Self.openssl!, [
            "s_client", "-connect", "127.0.0.1:\(agent.snapshotPort)", "-CAfile", try Self.file("ca.pem"), "-verify_return_error",
            "-verify_ip", "127.0.0.1", "-cert", try Self.file("client-ALICE.pem"), "-key", try Self.file("client-ALICE.key"),
            "-quiet", "-brief",
        ], input: Data(login[0..<n]))
        // Once the snapshot is out the server waits for a Logout s_client never sends: the
        // idle timeout (the test's clock) closes it, and s_client exits.
        var moved = false
        #expect(serve(rig, &agent, [peer]) { _ in
            if !moved && rig.counter(Cell.snapshotsServed) == 1 {
                moved = true
                rig.clock.advance(nanoseconds: rig.configuration.snapshotIdleTimeoutNanoseconds + 1_000_000)
            }
        }, "s_client did not finish in 60 s: \(peer.output)")
        let output = peer.outputBytes
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("Protocol version: TLSv1.3"), "\(text)")
        #expect(rig.counter(Cell.snapshotsServed) == 1)
        // The End of Snapshot frame: 00 16 'S' 'G' + 20 digits.
        let marker: [UInt8] = [0x00, 0x16, 0x53, 0x47]
        #expect(output.count >= 4 && (0...(output.count - 4)).contains { Array(output[$0..<($0 + 4)]) == marker },
                "no End of Snapshot in s_client's output")
        #expect(rig.counter(Cell.snapshotTLSFailures) == 0)
    }

    // ---- The feed's SnapshotClient -------------------------------------------------------

    @Test func theFeedsSnapshotClientGetsTheSameSnapshotOverTLSAsOverTCP() throws {
        func fetch(_ rig: SnapshotTestRig, tls: TLSContext?) throws -> SnapshotClient.Snapshot {
            var agent = try rig.makeAgent()
            defer { agent.onClose() }
            rig.publishAll(&agent)
            let port = agent.snapshotPort
            let box = ResultBox()
            let thread = Thread {
                box.set(SnapshotClient.fetch(host: 0x7F00_0001, port: port, username: SoupUsername("ALICE")!,
                                             password: SoupPassword("s3cret")!, timeoutMilliseconds: 60_000, tls: tls))
            }
            thread.start()
            let deadline = Deadline(seconds: 60)
            while box.get() == nil && !deadline.hasPassed { rig.turns(&agent, 1) }
            let result = try #require(box.get(), "SnapshotClient did not finish in 60 s")
            // Let the client's Logout arrive before the agent closes.
            rig.turns(&agent, 5)
            return try result.get()
        }
        let plain = try fetch(SnapshotTestRig(commands: 300), tls: nil)
        let client = try TLSContext.client(caFile: try Self.file("ca.pem"))
        let encrypted = try fetch(try rig(commands: 300), tls: client)
        #expect(plain.messages.count > 100, "the snapshot has only \(plain.messages.count) messages")
        #expect(encrypted.session == plain.session)
        #expect(encrypted.nextSequence == plain.nextSequence)
        // Timestamps are the snapshot's own (when its pass began): the rest is equal.
        func untimed(_ m: [UInt8]) -> [UInt8] {
            var m = m
            if m.count >= 11 { for i in 5..<11 { m[i] = 0 } }
            return m
        }
        #expect(encrypted.messages.map(untimed) == plain.messages.map(untimed))
    }

    @Test func theFeedsSnapshotClientSaysWhyATLSHandshakeFailed() throws {
        let rig = try rig(commands: 0)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let port = agent.snapshotPort
        // A client that trusts another CA: the server's certificate is refused on the client side.
        let client = try TLSContext.client(caFile: try Self.file("other-ca.pem"))
        let box = ResultBox()
        let thread = Thread {
            box.set(SnapshotClient.fetch(host: 0x7F00_0001, port: port, username: SoupUsername("ALICE")!,
                                         password: SoupPassword("s3cret")!, timeoutMilliseconds: 60_000, tls: client))
        }
        thread.start()
        let deadline = Deadline(seconds: 60)
        while box.get() == nil && !deadline.hasPassed { rig.turns(&agent, 1) }
        let result = try #require(box.get(), "SnapshotClient did not finish in 60 s")
        guard case .failure(.tls(let reason)) = result else {
            Issue.record("expected a TLS failure, got \(result)")
            return
        }
        #expect(reason.hasPrefix("certificate from an unknown CA"), "\(reason)")
        #expect(rig.pump(&agent, []) { _ in rig.counter(Cell.snapshotTLSFailures) == 1 }, "the server did not count the failed handshake")
    }

    // ---- Reload ------------------------------------------------------------------------

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func aReloadServesNewConnectionsWithTheNewCertificate() throws {
        // The server's files, copied where the test can replace them.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-snapshot-reload-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func install(_ name: String) throws {
            for (from, to) in [("\(name).pem", "server.pem"), ("\(name).key", "server.key")] {
                try? FileManager.default.removeItem(atPath: directory + "/" + to)
                try FileManager.default.copyItem(atPath: try Self.file(from), toPath: directory + "/" + to)
            }
        }
        try install("server")
        var c = SnapshotTestRig.defaultConfiguration()
        let source = try TLSContextSource(settings: TLSServerSettings(certificateFile: directory + "/server.pem",
                                                                     keyFile: directory + "/server.key"))
        c.snapshotTLS = source
        let rig = try SnapshotTestRig(configuration: c, commands: 0)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let before = try pythonPeer(agent.snapshotPort)
        #expect(serve(rig, &agent, [before]), "\(before.output)")
        #expect(before.status == 0, "\(before.output)")

        // The other CA's server certificate, reloaded: a client trusting only the dev CA refuses it.
        try install("other-server")
        try source.reload()
        let after = try pythonPeer(agent.snapshotPort)
        #expect(serve(rig, &agent, [after]), "\(after.output)")
        #expect(after.status == 4 && after.output.contains("CERTIFICATE_VERIFY_FAILED"), "\(after.output)")
    }
}

/// A result handed from a client's thread to the test's.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<SnapshotClient.Snapshot, SnapshotClient.Failure>?
    func set(_ result: Result<SnapshotClient.Snapshot, SnapshotClient.Failure>) { lock.withLock { value = result } }
    func get() -> Result<SnapshotClient.Snapshot, SnapshotClient.Failure>? { lock.withLock { value } }
}

/// A peer program (openssl, python3) writing its output to a file, so that it never blocks on
/// a full pipe while the test turns the agent; ended (terminated if need be) by `end()`.
final class SnapshotPeer {
    struct Failed: Error, CustomStringConvertible {
        var output: String
        var description: String { "make-dev-certs.sh failed: \(output)" }
    }

    let process = Process()
    let outputPath: String
    private let input = Pipe()

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
            return directory + "/" + name
        }
        return nil
    }

    /// Runs a program to its end (at most `timeout` seconds).
    static func run(_ executable: String, _ arguments: [String], timeout: Double) throws -> (status: Int32, output: String) {
        let peer = try SnapshotPeer(executable, arguments)
        let deadline = Deadline(seconds: timeout)
        while peer.isRunning && !deadline.hasPassed { usleep(10_000) }
        peer.end()
        return (peer.status, peer.output)
    }

    /// `input`: written to its standard input, which then stays open until `end()`.
    init(_ executable: String, _ arguments: [String], input data: Data? = nil) throws {
        outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-peer-\(getpid())-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        try output.close()
        if let data { input.fileHandleForWriting.write(data) }
    }

    deinit {
        end()
        try? FileManager.default.removeItem(atPath: outputPath)
    }

    var isRunning: Bool { process.isRunning }

    /// Ends the program: terminated when still running; waits for it.
    func end() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
    }

    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }
    var outputBytes: [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: outputPath)))) ?? [] }
    var output: String { String(decoding: outputBytes, as: UTF8.self) }
}
