import CExchangeShim
import Foundation
import Glibc

/// The real exchange: `trading_exchange` started as a child process on a configuration
/// written for the benchmark (shared threading mode, busy_spin, pinned to one CPU, limits
/// and token history no run reaches), listening on 127.0.0.1 ports chosen free.
///
/// The child is started through `setpriv --pdeathsig KILL`, so it dies with the benchmark
/// whatever ends it (a crash, SIGKILL, Ctrl-C); `stop()` ends it normally (SIGTERM, then
/// SIGKILL after 10 s). `pause()` / `resume()` (SIGSTOP / SIGCONT) keep its spinning thread
/// off the CPU while another server is measured.
final class ExchangeProcess {
    struct Settings {
        var binary: String
        var apiKeysFile: String
        var cpu: Int
        var fifoPriority: Int
        /// Order tokens one account may need (the exchange's history holds that many for each account).
        var tokenHistory: Int
        /// Accounts in the API keys file (the exchange refuses a token history the accounts could fill together).
        var accounts: Int = 1
        var marketData: Bool
        var startTimeoutSeconds: Double
        var snapshotWorkPerTurn: Int? = nil
        var snapshotMaxMegabytesPerSecond: Int? = nil
        /// ClOrdIDs one FIX session may need in the run; nil: no FIX port.
        var fixClOrdIDs: Int? = nil
        /// Accounts that log on over FIX (fix.max_sessions: each session's tables are allocated at start).
        var fixSessions: Int = 8
        /// `gateway.tls` on with this certificate and key (RTES_TLS_CERT, RTES_TLS_KEY); nil: off.
        var tls: (certificate: String, key: String)? = nil
    }

    let port: UInt16
    /// What the exchange calls itself on its FIX port (fix.sender_comp_id).
    static let fixTargetCompID = "RTES"
    /// The market-data feed (when enabled): the multicast group and port, the re-request port.
    static let group: UInt32 = 0xEF07_0001  // 239.7.0.1
    let feedPort: UInt16
    let retransmitPort: UInt16
    let snapshotPort: UInt16
    let metricsPort: UInt16
    /// The FIX 4.4 acceptor's port (with `fixClOrdIDs`).
    let fixPort: UInt16
    let directory: String
    let configPath: String
    let logPath: String
    private let child: ChildProcess
    var pid: pid_t { child.pid }

    init(_ settings: Settings) throws {
        guard access(settings.binary, X_OK) == 0 else {
            throw BenchFailure("\(settings.binary) is not an executable: build it first (swift build -c release --product trading_exchange)")
        }
        guard access(settings.apiKeysFile, R_OK) == 0 else { throw BenchFailure("cannot read the API keys file \(settings.apiKeysFile)") }
        var template = Array("/tmp/gateway-bench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        configPath = directory + "/exchange.json"
        logPath = directory + "/exchange.log"
        let ports = try FreePorts.take(6)
        port = ports[0]
        feedPort = ports[1]
        retransmitPort = ports[3]
        snapshotPort = ports[4]
        metricsPort = ports[2]
        fixPort = ports[5]
        try Self.configuration(settings, ports: ports).write(toFile: configPath, atomically: true, encoding: .utf8)

        var environment = ProcessInfo.processInfo.environment
        environment["RTES_API_KEYS_FILE"] = URL(fileURLWithPath: settings.apiKeysFile).standardizedFileURL.path
        environment["RTES_CONFIG"] = nil
        if let tls = settings.tls {
            environment["RTES_TLS_CERT"] = URL(fileURLWithPath: tls.certificate).standardizedFileURL.path
            environment["RTES_TLS_KEY"] = URL(fileURLWithPath: tls.key).standardizedFileURL.path
        }
        let arguments = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", settings.binary, configPath,
                         "--counters", directory + "/counters"]
        child = try ChildProcess(arguments, environment: environment, output: logPath)
        do {
            try waitUntilListening(timeoutSeconds: settings.startTimeoutSeconds)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// SIGSTOP: the exchange's threads stop spinning; its sockets stay open.
    func pause() { child.pause() }

    /// SIGCONT.
    func resume() { child.resume() }

    /// Ends the exchange (SIGTERM, SIGKILL after 10 s) and reaps it; its exit status, or nil
    /// when it had to be killed or was gone already.
    @discardableResult
    func stop() -> Int32? { child.stop() }

    /// The lines of the exchange's /metrics whose names start with one of `prefixes` (empty
    /// when the admin plane does not answer).
    func metrics(_ prefixes: [String]) -> [String] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var address = FreePorts.loopback(port: metricsPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return [] }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".utf8)
        _ = send(fd, request, request.count, Int32(MSG_NOSIGNAL))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        return String(decoding: response, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { line in prefixes.contains { line.hasPrefix($0) } }
    }

    /// The last lines the exchange logged.
    func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Connects until the gateway and then the admin plane accept (then closes each probe
    /// connection at once). The admin plane binds last, once start-up is complete: the
    /// gateway's port alone is open while the exchange still maps its memory.
    private func waitUntilListening(timeoutSeconds: Double) throws {
        let deadline = rtes_monotonic_ns() + UInt64(timeoutSeconds * 1e9)
        while rtes_monotonic_ns() < deadline {
            if let status = child.exitedAlready() {
                throw BenchFailure("trading_exchange exited during start-up (status \(status)); its log (\(logPath)):\n\(logTail())")
            }
            if FreePorts.accepts(port: port) && FreePorts.accepts(port: metricsPort) { return }
            usleep(50_000)
        }
        throw BenchFailure("trading_exchange did not accept connections on 127.0.0.1:\(port) and :\(metricsPort) within \(timeoutSeconds) s " +
                           "(does this build have the order gateway?); its log (\(logPath)):\n\(logTail())")
    }

    /// The benchmark configuration (JSON; configs/README.md describes every key).
    static func configuration(_ s: Settings, ports: [UInt16]) -> String {
        // One FIX session per account of the keys file; ClOrdIDs are kept for the whole day.
        let fix = s.fixClOrdIDs.map {
            #"\#n  "fix": { "port": \#(ports[5]), "sender_comp_id": "\#(fixTargetCompID)", "max_sessions": \#(s.fixSessions), "max_cl_ord_ids": \#(min(9_999_999, $0)) },"#
        } ?? ""
        let symbols = BenchMarket.instruments.map {
            #"    { "symbol": "\#($0.symbol)", "tick_size": 0.01, "lot_size": 1, "price_collar_pct": 10, "reference_price": \#($0.referenceDollars) }"#
        }.joined(separator: ",\n")
        return """
            {
              "exchange": { "name": "RTES-GWBENCH", "bind_address": "127.0.0.1", "tcp_port": \(ports[0]),
                            "udp_multicast_group": "239.7.0.1", "udp_port": \(ports[1]), "metrics_port": \(ports[2]) },
              "symbols": [
            \(symbols)
              ],
              "risk": { "max_order_size": \(BenchMarket.maxOrderShares), "max_notional_per_client": \(BenchMarket.maxOpenNotionalDollars),
                        "max_orders_per_second": \(BenchMarket.maxOrdersPerSecond), "price_collar_enabled": true,
                        "self_trade_prevention": "cancel_newest" },
              "performance": { "order_pool_size": \(BenchMarket.orderPoolSize), "queue_capacity": 65536,
                               "enable_cpu_pinning": true, "tcp_nodelay": true, "max_clients": \(BenchMarket.maxClients),
                               "price_levels": \(BenchMarket.priceLevels), "threading_mode": "shared", "idle_strategy": "busy_spin",
                               "cores": { "gateway": \(s.cpu), "engine": \(s.cpu), "market_data": \(s.cpu) },
                               "hugepages": "auto", "lock_memory": false, "realtime_priority": \(s.fifoPriority) },
              "gateway": { "session_name": "GWBENCH", "max_connections": 64, "session_history_messages": 65536,
                           "send_queue_bytes": 4194304, "max_messages_per_second": 100000000,
                           "token_history": \(s.tokenHistory * s.accounts), "max_tokens_per_account": \(s.tokenHistory),
                           "recv_buffer_size": 4096, "recv_buffer_count": 1024, "tls": "\(s.tls == nil ? "off" : "on")" },\(fix)
              "market_data": { "enabled": \(s.marketData), "interface": "127.0.0.1", "ttl": 0,
                               "retransmit_port": \(ports[3]), "snapshot_port": \(ports[4])\(s.snapshotWorkPerTurn.map { ", \"snapshot_work_per_turn\": \($0)" } ?? "")\(s.snapshotMaxMegabytesPerSecond.map { ", \"snapshot_max_mb_per_second\": \($0)" } ?? "") }
            }

            """
    }
}

/// Ports on 127.0.0.1.
enum FreePorts {
    /// `count` distinct ports that were free a moment ago (bound to port 0 together, then released).
    static func take(_ count: Int) throws -> [UInt16] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw BenchFailure("socket: \(String(cString: strerror(errno)))") }
            sockets.append(fd)
            var address = loopback(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw BenchFailure("cannot find a free port: \(String(cString: strerror(errno)))") }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }

    /// Whether something accepts a TCP connection on 127.0.0.1:`port` now.
    static func accepts(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
