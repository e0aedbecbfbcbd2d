import ExchangeConfig
@testable import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Logging
import Synchronization
import Testing

/// One exchange per counters file, and a counters file no one else can write through: the
/// instance lock, the file's mode, links at its path, a stop requested during start-up.
@Suite(.serialized) struct InstanceHygiene {
    /// A temporary directory removed with everything in it when the test ends.
    final class Directory {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "rtes-instance-\(getpid())-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func configuration() throws -> ExchangeConfiguration {
        var c = try ConfigurationLoader.load(json: testConfiguration(metricsPort: freePort(), name: "INSTANCE"), source: "instance.json",
                                             environment: [:], host: .current()).configuration
        c.exchange.tcpPort = 0
        c.exchange.metricsPort = 0
        c.marketData.retransmitPort = 0
        c.marketData.snapshotPort = 0
        return c
    }

    static func start(_ counters: String, stopRequested: (@Sendable () -> String?)? = nil) throws -> Appliance {
        try Appliance.start(
            configuration(), options: Appliance.Options(countersPath: counters, apiKeys: devKeys, stopRequested: stopRequested),
            logger: Logger(label: "instance-test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    static func mode(_ path: String) throws -> mode_t {
        var info = stat()
        try #require(lstat(path, &info) == 0)
        return info.st_mode & 0o777
    }

    @Test func aSecondExchangeWithTheSameCountersFileIsRefusedNamingThePIDAndTheFirstTradesOn() throws {
        let directory = try Directory()
        let counters = directory.path + "/counters"
        let first = try Self.start(counters)
        defer { _ = first.drain() }
        let base = "http://127.0.0.1:\(try #require(first.admin).port)"
        #expect(httpGet(base + "/ready")?.status == 200)

        var refusal: Error?
        do { _ = try Self.start(counters) } catch { refusal = error }
        let message = String(describing: try #require(refusal))
        #expect(message.contains("PID \(getpid())"), "\(message)")
        #expect(message.contains("counters.lock"), "\(message)")

        // The first exchange is untouched: its file is still the one readers open, still ready.
        #expect(httpGet(base + "/ready")?.status == 200)
        #expect(httpGet(base + "/metrics")?.body.contains("rtes_up 1") == true)
        let reader = try CountersRegion.open(path: counters)
        #expect(reader.snapshot().state == .running)
        #expect(reader.snapshot().pid == UInt64(getpid()))
        #expect(!FileManager.default.fileExists(atPath: counters + ".starting"))
    }

    @Test func theCountersFileAndItsLockAreOnlyTheExchangeUsers() throws {
        let directory = try Directory()
        let counters = directory.path + "/counters"
        let appliance = try Self.start(counters)
        defer { _ = appliance.drain() }
        #expect(try Self.mode(counters) == 0o600)
        #expect(try Self.mode(counters + ".lock") == 0o600)
        let pid = try String(contentsOfFile: counters + ".lock", encoding: .utf8)
        #expect(pid == "\(getpid())\n")
    }

    @Test func aSymbolicLinkAtTheCountersPathIsRefusedAndItsTargetUntouched() throws {
        let directory = try Directory()
        let target = directory.path + "/precious"
        let original = "an operator's file\n"
        try original.write(toFile: target, atomically: false, encoding: .utf8)
        let counters = directory.path + "/counters"
        try #require(symlink(target, counters) == 0)

        var refusal: Error?
        do { _ = try Self.start(counters) } catch { refusal = error }
        let message = String(describing: try #require(refusal))
        #expect(message.contains("symbolic link"), "\(message)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == original)
        #expect(!FileManager.default.fileExists(atPath: counters + ".starting"))
    }

    @Test func aSymbolicLinkAtTheLockPathIsRefused() throws {
        let directory = try Directory()
        let target = directory.path + "/precious"
        try "keep\n".write(toFile: target, atomically: false, encoding: .utf8)
        let counters = directory.path + "/counters"
        try #require(symlink(target, counters + ".lock") == 0)
        var refusal: Error?
        do { _ = try Self.start(counters) } catch { refusal = error }
        #expect(String(describing: try #require(refusal)).contains("symbolic link"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep\n")
        #expect(!FileManager.default.fileExists(atPath: counters))
    }

    @Test func aStopRequestedDuringStartUpStopsItAndLeavesNoCountersFile() throws {
        let directory = try Directory()
        let counters = directory.path + "/counters"
        let asked = Mutex(0)
        var stopped: Error?
        // The stop arrives at the third question: some regions are allocated by then.
        do {
            _ = try Self.start(counters, stopRequested: { asked.withLock { $0 += 1; return $0 >= 3 ? "SIGINT" : nil } })
        } catch { stopped = error }
        let error = try #require(stopped as? Appliance.StartStopped)
        #expect(error.request == "SIGINT")
        #expect(asked.withLock { $0 } == 3)
        #expect(!FileManager.default.fileExists(atPath: counters))
        #expect(!FileManager.default.fileExists(atPath: counters + ".starting"))
        // The lock went with it: the next start takes it.
        let next = try Self.start(counters)
        _ = next.drain()
    }
}
