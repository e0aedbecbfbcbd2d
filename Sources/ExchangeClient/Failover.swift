import ExchangeClock
import Glibc

/// One order-entry address of the exchange: a host (name or numeric address) and a port. A
/// client given several (the primary's, then the standby's, as Nasdaq publishes primary and
/// backup ports) connects to the first that accepts and moves to the next on a failover.
public struct ExchangeAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `HOST:PORT`, `[IPv6]:PORT`, or a port alone (on `defaultHost`).
    public static func parse(_ text: String, defaultHost: String = "127.0.0.1") throws(ClientError) -> ExchangeAddress {
        let trimmed = text.trimmingSpaces
        let host: String
        let portText: Substring
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ClientError.invalidArgument("address \"\(text)\": [IPv6]:PORT, HOST:PORT or PORT")
            }
            portText = rest.dropFirst()
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = String(trimmed[..<colon])
            portText = trimmed[trimmed.index(after: colon)...]
        } else {
            host = defaultHost
            portText = Substring(trimmed)
        }
        guard !host.isEmpty, let port = Int(portText), (1...65_535).contains(port) else {
            throw ClientError.invalidArgument("address \"\(text)\": HOST:PORT (or [IPv6]:PORT, or PORT) with a port of 1 to 65535")
        }
        return ExchangeAddress(host: host, port: port)
    }

    /// Every address of `texts`, each of which may hold several separated by commas
    /// (`--address a:1 --address b:2` or `--address a:1,b:2`), in order.
    public static func parseList(_ texts: [String], defaultHost: String = "127.0.0.1") throws(ClientError) -> [ExchangeAddress] {
        var addresses: [ExchangeAddress] = []
        for text in texts {
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                addresses.append(try parse(String(part), defaultHost: defaultHost))
            }
        }
        return addresses
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// How an `OrderEntryClient` with several addresses fails over when its connection is lost
/// or refused: it tries the next address, then the one after (round the list), up to
/// `maximumAttempts` connections in all, waiting `initialBackoff` before the second attempt
/// and twice as long before each next one, at most `maximumBackoff`. Each attempt is bounded
/// by the client's connect timeout and `loginTimeout`. The worst case before the failover
/// gives up is therefore bounded and computable (`worstCaseBackoff` plus the attempts'
/// timeouts).
public struct FailoverPolicy: Sendable, Equatable {
    public var maximumAttempts: Int
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    public var loginTimeout: Duration
    /// Nothing at all received (not even a Server Heartbeat, which the exchange sends every
    /// `gateway.heartbeat_interval_ms`, 1 s by default) for this long while logged in: the
    /// connection is taken as lost and the client fails over. This is how a primary host that
    /// vanished without its kernel closing the connection (power lost, cut off) is noticed.
    /// Nil: never (only a closed or reset connection counts).
    public var silenceTimeout: Duration?

    /// The defaults outlast a lease of a few seconds (the standby takes over one TTL after
    /// the primary's last renewal): 40 attempts, 50 ms doubling to 500 ms, about 17 s of waiting;
    /// 15 s of silence is a lost connection (SoupBinTCP's customary bound, 15 heartbeats).
    public init(maximumAttempts: Int = 40, initialBackoff: Duration = .milliseconds(50), maximumBackoff: Duration = .milliseconds(500),
                loginTimeout: Duration = .seconds(5), silenceTimeout: Duration? = .seconds(15)) {
        self.silenceTimeout = silenceTimeout
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.loginTimeout = loginTimeout
    }

    /// The wait before attempt `attempt` (1 is the first: no wait).
    public func backoff(beforeAttempt attempt: Int) -> Duration {
        guard attempt > 1 else { return .zero }
        var wait = initialBackoff
        var step = 2
        while step < attempt && wait < maximumBackoff {
            wait = wait * 2
            step += 1
        }
        return min(wait, maximumBackoff)
    }

    /// The sum of every wait between attempts when all of them fail.
    public var worstCaseBackoff: Duration {
        (1...maximumAttempts).reduce(Duration.zero) { $0 + backoff(beforeAttempt: $1) }
    }
}

/// What a failover did: from which address to which, why, after how many attempts, and
/// where the session resumed (the sequence number of the next message the caller gets).
public struct FailoverEvent: Sendable, Equatable, CustomStringConvertible {
    public var from: ExchangeAddress
    public var to: ExchangeAddress
    public var reason: ClientError
    public var attempts: Int
    public var resumedAt: UInt64

    public var description: String {
        "failed over from \(from) to \(to) after \(attempts) attempt(s) (\(reason)); session resumed at sequence \(resumedAt)"
    }
}

enum FailoverWait {
    /// Waits `duration` (the back-off between attempts: client behaviour, never a test's outcome).
    static func sleep(_ duration: Duration) {
        let nanoseconds = Monotonic.nanoseconds(duration)
        guard nanoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
