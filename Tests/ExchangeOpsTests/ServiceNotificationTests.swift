import ExchangeOps
import ExchangeTestRig
import ExchangeRuntime
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// systemd's notification protocol on a datagram socket the test creates: what
/// `ServiceNotifier` sends, the watchdog's heartbeat rule, and the real process's READY=1
/// and STOPPING=1.
@Suite(.serialized) struct ServiceNotificationTests {
    /// An AF_UNIX datagram socket bound to a fresh path (or an abstract name), closed and
    /// unlinked by `close()`.
    struct NotifySocket {
        let fd: Int32
        let name: String
        let path: String?

        init(abstract: Bool = false) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            let unique = "rtes-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            path = abstract ? nil : NSTemporaryDirectory() + unique
            name = path ?? "@" + unique
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            if abstract { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            try #require(bound == 0)
        }

        /// The next datagram, waiting at most `timeout` (nil when none came).
        func receive(timeout: Duration = .seconds(10)) -> String? {
            let deadline = Deadline(after: timeout)
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while !deadline.hasPassed {
                guard poll(&poller, 1, deadline.remainingMilliseconds()) > 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 4_096)
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            }
            return nil
        }

        func close() {
            Glibc.close(fd)
            if let path { unlink(path) }
        }
    }

    @Test func sendsEachStateAsOneDatagramToAPathOrAnAbstractSocket() throws {
        for abstract in [false, true] {
            let socket = try NotifySocket(abstract: abstract)
            defer { socket.close() }
            let notifier = try #require(ServiceNotifier.fromEnvironment(["NOTIFY_SOCKET": socket.name]))
            #expect(notifier.send("READY=1\nSTATUS=serving"))
            #expect(socket.receive() == "READY=1\nSTATUS=serving")
            #expect(notifier.send("STOPPING=1"))
            #expect(socket.receive() == "STOPPING=1")
        }
        #expect(ServiceNotifier.fromEnvironment([:]) == nil)
        #expect(ServiceNotifier.fromEnvironment(["NOTIFY_SOCKET": "relative"]) == nil)
    }

    @Test func readsTheWatchdogIntervalForThisProcessOnly() {
        #expect(ServiceNotifier.watchdogSeconds(["WATCHDOG_USEC": "10000000"]) == 10)
        #expect(ServiceNotifier.watchdogSeconds(["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid())"]) == 10)
        #expect(ServiceNotifier.watchdogSeconds(["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"], pid: 2) == nil)
        #expect(ServiceNotifier.watchdogSeconds(["WATCHDOG_USEC": "soon"]) == nil)
        #expect(ServiceNotifier.watchdogSeconds([:]) == nil)
    }

    @Test func theWatchdogHoldsOnlyWhileEveryHeartbeatMoves() {
        var watch = HeartbeatWatch(window: 5)
        func beats(_ engine: UInt64, _ gateway: UInt64, running: Bool = true) -> [HeartbeatWatch.Beat] {
            [HeartbeatWatch.Beat(slot: .engine, heartbeat: engine, running: running),
             HeartbeatWatch.Beat(slot: .gateway, heartbeat: gateway, running: true)]
        }
        do {
            let holds = watch.allProgressing(beats(1_024, 1_024), now: 0)
            #expect(holds)
        }
        do {
            let holds = watch.allProgressing(beats(2_048, 2_048), now: 4)
            #expect(holds)
        }
        // The engine is stuck at 2,048: still within the window at 8, past it at 10.
        do {
            let holds = watch.allProgressing(beats(2_048, 3_072), now: 8)
            #expect(holds)
        }
        do {
            let holds = watch.allProgressing(beats(2_048, 4_096), now: 10)
            #expect(!holds)
        }
        // It moves again: the watchdog holds again.
        do {
            let holds = watch.allProgressing(beats(3_072, 5_120), now: 11)
            #expect(holds)
        }
        // An agent that stopped running never holds.
        do {
            let holds = watch.allProgressing(beats(4_096, 6_144, running: false), now: 12)
            #expect(!holds)
        }
        do {
            let holds = watch.allProgressing([], now: 13)
            #expect(!holds)
        }
    }

    @Test(.enabled(if: ExchangeProcess.built, "trading_exchange is not built: run `swift build --build-tests` (make test does)"))
    func theProcessSaysReadyPingsTheWatchdogAndSaysStopping() throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let port = freePort()
        let config = try ExchangeProcess.writeConfig(testConfiguration(metricsPort: port, name: "TEST-NOTIFY-\(getpid())"))
        let counters = NSTemporaryDirectory() + "rtes-notify-\(getpid()).counters"
        defer { unlink(config); unlink(counters) }
        let (process, out, err) = try ExchangeProcess.start(
            [config, "--counters", counters], environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "2000000"])
        let ready = socket.receive()
        #expect(ready == "READY=1\nSTATUS=serving")
        // Pings every half second while the agents run (WATCHDOG_USEC / 4).
        #expect(socket.receive() == "WATCHDOG=1")
        process.terminate()  // SIGTERM
        var last: String?
        while let next = socket.receive(timeout: .seconds(5)) {
            last = next
            if next.hasPrefix("STOPPING=1") { break }
        }
        #expect(last == "STOPPING=1\nSTATUS=draining")
        let run = ExchangeProcess.finish(process, out, err)
        #expect(run.status == 0, "stderr: \(run.errors)")
    }
}
