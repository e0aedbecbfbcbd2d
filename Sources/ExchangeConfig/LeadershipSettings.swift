/// The `leadership` section: where etcd is and how this host campaigns for the leader key
/// (docs/FAILOVER.md). `ExchangeLeadership` and `rtes-leader` read it; `trading_exchange`
/// campaigns (a primary) or watches and promotes itself (a standby) when the section is
/// present (`configured`).
public struct LeadershipSettings: Sendable, Equatable {
    /// One etcd client endpoint: an IPv4 address and a port.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var address: IPv4Address
        public var port: UInt16

        public init(address: IPv4Address, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// `address:port`, as the configuration writes it.
        public var description: String { "\(address):\(port)" }

        /// Parses `a.b.c.d:port`; nil when it is not one.
        public init?(_ text: Substring) {
            guard let colon = text.lastIndex(of: ":"), let address = IPv4Address(String(text[..<colon])),
                  let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
            self.init(address: address, port: port)
        }
    }

    /// The most endpoints `endpoints` may list.
    public static let maximumEndpoints = 16
    /// The shortest lease etcd keeps as asked with its default timing (its minimum TTL is
    /// 1.5 × its election timeout, 1.5 s by default; a shorter grant is raised to that).
    public static let ttlSecondsRange: ClosedRange<Int> = 2...60

    /// `endpoints`: etcd's client URLs as `address:port`, comma-separated, tried in order.
    public var endpoints = [Endpoint(address: IPv4Address(rawValue: 0x7F00_0001), port: 2_379)]
    /// `key_prefix`: the leader key is `<key_prefix>/leader`.
    public var keyPrefix = "/rtes"
    /// `candidate_name`: what followers learn as the leader's name/address; empty: the host name.
    public var candidateName = ""
    /// `lease_ttl_seconds`: the leader key's lease; a leader that cannot renew it within this
    /// long stops leading.
    public var leaseTTLSeconds = 5

    /// Whether the configuration has a `leadership` section: `trading_exchange` campaigns only then.
    public var configured = false

    /// The leader key.
    public var leaderKey: String { keyPrefix + "/leader" }

    /// The documented defaults.
    public init() {}

    /// Parses a comma-separated endpoint list; nil when any element is not `address:port`,
    /// the list is empty or too long.
    public static func parseEndpoints(_ text: String) -> [Endpoint]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        guard (1...maximumEndpoints).contains(parts.count) else { return nil }
        var endpoints: [Endpoint] = []
        for part in parts {
            guard let endpoint = Endpoint(part) else { return nil }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    /// Whether `prefix` is a usable key prefix: starts with '/', does not end with one, 1–256
    /// printable ASCII characters without spaces.
    public static func isValidKeyPrefix(_ prefix: String) -> Bool {
        (2...256).contains(prefix.utf8.count) && prefix.hasPrefix("/") && !prefix.hasSuffix("/")
            && prefix.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Whether `name` is a usable candidate name: empty (the host name) or 1–128 printable
    /// ASCII characters without spaces.
    public static func isValidCandidateName(_ name: String) -> Bool {
        name.utf8.count <= 128 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension Substring {
    /// Without leading and trailing spaces (comma-separated lists in settings).
    func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
