import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// The admin plane serves a process without CAP_NET_ADMIN — what every exchange run by a
/// normal user or by the systemd unit (user rtes) is. It once set TCP_NODELAY at the socket
/// level, where that number is SO_DEBUG, which only CAP_NET_ADMIN may set: every admin
/// connection was closed at accept, and only root (as the tests run) was ever served.
extension ExchangeProcess {
    static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: built, "trading_exchange is not built"),
          .enabled(if: getuid() == 0 && setpriv != nil, "needs root and util-linux's setpriv to drop CAP_NET_ADMIN"))
    func theAdminPlaneServesAProcessWithoutNetAdmin() throws {
        let port = freePort()
        let config = try Self.writeConfig(testConfiguration(metricsPort: port, name: "TEST-NOADMINCAP-\(getpid())"))
        let counters = NSTemporaryDirectory() + "rtes-noadmincap-\(getpid()).counters"
        defer { unlink(config); unlink(counters); unlink(counters + ".lock") }
        // Root keeps only what the bounding set allows across exec: everything but CAP_NET_ADMIN.
        let (process, out, err) = try Self.start([config, "--counters", counters], launcher: [Self.setpriv!, "--bounding-set=-net_admin"])
        var finished: Run?
        defer {
            if finished == nil {
                kill(process.processIdentifier, SIGKILL)
                _ = Self.finish(process, out, err)
            }
        }
        // Once setpriv has exec'd the exchange: CAP_NET_ADMIN (bit 12) is not effective.
        var status = ""
        let exchanged = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(5)) {
            status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            return status.hasPrefix("Name:\ttrading_exchang") || !process.isRunning
        }
        let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }.map { UInt64($0.split(separator: "\t").last ?? "", radix: 16) ?? 0 }
        #expect(exchanged && effective.map { $0 & (1 << 12) == 0 } == true, "CAP_NET_ADMIN (12) still effective: \(status.prefix(600))")
        var ready: (status: Int, body: String)?
        var live: (status: Int, body: String)?
        let answered = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            ready = httpGet("http://127.0.0.1:\(port)/ready", timeout: 1)
            live = httpGet("http://127.0.0.1:\(port)/live", timeout: 1)
            return (ready?.status == 200 && live?.status == 200) || !process.isRunning
        }
        #expect(answered && ready?.status == 200 && live?.status == 200,
                "/ready \(ready.map { "\($0.status)" } ?? "no answer"), /live \(live.map { "\($0.status)" } ?? "no answer")")
        process.terminate()
        finished = Self.finish(process, out, err)
        #expect(finished?.status == 0, "stderr: \(finished?.errors.suffix(2_000) ?? "")")
    }
}
