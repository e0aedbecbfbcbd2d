import ExchangeCore

/// The shard map (docs/SHARDS.md): which `trading_exchange` primary owns which symbols, and
/// where each shard's order entry (primary, backup), ITCH feed, re-request servers and
/// snapshot services are. The exchanges read it (`exchange.shard`, `exchange.shard_map`) to
/// keep only their own symbols; clients (`ShardedClient`, `rtes-client --shard-map`) read
/// it to route each order to the shard that owns its symbol.
///
/// ```json
/// { "shards": [
///   { "name": "alpha", "symbols": ["AAPL", "MSFT"],
///     "order_entry": ["10.0.0.1:8888", "10.0.0.2:8888"], "itch": "239.3.0.1:9999",
///     "re_request": ["10.0.0.1:9998", "10.0.0.2:9998"], "snapshot": ["10.0.0.1:8889", "10.0.0.2:8889"] } ] }
/// ```
///
/// Validated as a whole, every problem reported at once with its place in the file: every
/// symbol in exactly one shard, names unique, no TCP address (order entry, re-request,
/// snapshot) in two places, no ITCH group and port used by two shards.
public struct ShardMap: Sendable, Equatable {
    /// An IPv4 address and a port, written `a.b.c.d:port`.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var address: IPv4Address
        public var port: UInt16

        public init(address: IPv4Address, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// Parses `a.b.c.d:port` (port 1–65535); nil when it is not one.
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let address = IPv4Address(String(text[..<colon])),
                  let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
            self.init(address: address, port: port)
        }

        public var description: String { "\(address):\(port)" }
    }

    /// One shard: a primary (and its standbys) owning `symbols`.
    public struct Shard: Sendable, Equatable {
        /// 1–32 characters of a–z, 0–9, '-' and '_': it is part of the leader key and a directory name.
        public var name: String
        /// The symbols this shard owns, in the map's order.
        public var symbols: [Symbol]
        /// Order entry (SoupBinTCP/OUCH), the primary first, then its backups.
        public var orderEntry: [Endpoint]
        /// The ITCH feed's multicast group and UDP port (MoldUDP64).
        public var itch: Endpoint
        /// The MoldUDP64 re-request servers, primary first (may be empty).
        public var reRequest: [Endpoint]
        /// The snapshot (Glimpse-style) services, primary first (may be empty).
        public var snapshot: [Endpoint]

        public init(name: String, symbols: [Symbol], orderEntry: [Endpoint], itch: Endpoint, reRequest: [Endpoint] = [],
                    snapshot: [Endpoint] = []) {
            self.name = name
            self.symbols = symbols
            self.orderEntry = orderEntry
            self.itch = itch
            self.reRequest = reRequest
            self.snapshot = snapshot
        }
    }

    /// The most shards a map may list.
    public static let maximumShards = 256
    /// The most addresses one list (`order_entry`, `re_request`, `snapshot`) may hold.
    public static let maximumAddresses = 8

    public let shards: [Shard]
    /// Which shard (its index in `shards`) owns each symbol.
    private let owner: [Symbol: Int]

    /// A map of `shards`; throws the problems when it is not a valid one.
    public init(shards: [Shard]) throws(ConfigurationError) {
        let issues = Self.problems(shards, locations: nil)
        guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        self.init(validated: shards)
    }

    private init(validated shards: [Shard]) {
        self.shards = shards
        var owner: [Symbol: Int] = [:]
        for (index, shard) in shards.enumerated() {
            for symbol in shard.symbols { owner[symbol] = index }
        }
        self.owner = owner
    }

    public static func == (a: ShardMap, b: ShardMap) -> Bool { a.shards == b.shards }

    /// The shard named `name`.
    public func shard(named name: String) -> Shard? { shards.first { $0.name == name } }

    /// The index in `shards` of the shard that owns `symbol`; nil when no shard does.
    public func shardIndex(of symbol: Symbol) -> Int? { owner[symbol] }

    /// The shard that owns `symbol`; nil when no shard does.
    public func shard(owning symbol: Symbol) -> Shard? { owner[symbol].map { shards[$0] } }

    /// Every symbol of the map, shard by shard.
    public var symbols: [Symbol] { shards.flatMap(\.symbols) }

    // MARK: Reading

    /// Reads and validates the shard map file at `path`.
    public static func load(path: String) throws(ConfigurationError) -> ShardMap {
        switch ConfigurationLoader.readFile(path, describedAs: "shard map") {
        case .success(let bytes): return try parse(bytes: bytes, source: .file(path))
        case .failure(let issue): throw ConfigurationError(issues: [issue])
        }
    }

    /// Parses and validates shard map text; `source` names it in issues.
    public static func parse(json: String, source: String) throws(ConfigurationError) -> ShardMap {
        try parse(bytes: Array(json.utf8), source: .file(source))
    }

    static func parse(bytes: [UInt8], source: SourceLocation.Source) throws(ConfigurationError) -> ShardMap {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes, source: source)
        } catch {
            throw ConfigurationError(issues: [ConfigurationIssue(path: "", location: error.location, message: "not valid JSON: \(error.message)")])
        }
        var reader = Reader()
        let shards = reader.shards(root)
        let issues = reader.issues + (reader.issues.isEmpty ? problems(shards, locations: reader.locations) : [])
        guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        return ShardMap(validated: shards)
    }

    /// Whether `name` is a usable shard name.
    public static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    /// The cross-shard rules; `locations` maps `shards[i].field` paths to where they were written.
    private static func problems(_ shards: [Shard], locations: [String: SourceLocation]?) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        func issue(_ path: String, _ message: String) {
            issues.append(ConfigurationIssue(path: path, location: locations?[path], message: message))
        }
        if shards.isEmpty { issue("shards", "must list at least one shard") }
        if shards.count > maximumShards { issue("shards", "must list at most \(maximumShards) shards; found \(shards.count)") }
        var names: [String: Int] = [:]
        var symbols: [Symbol: String] = [:]
        var tcp: [Endpoint: String] = [:]
        var feeds: [Endpoint: String] = [:]
        for (index, shard) in shards.enumerated() {
            let at = "shards[\(index)]"
            if !isValidName(shard.name) {
                issue(at + ".name", "\(quoted(shard.name)) is not a shard name: 1 to 32 characters of a-z, 0-9, '-' and '_' "
                    + "(it becomes part of the etcd leader key and of the journal directory)")
            } else if let first = names[shard.name] {
                issue(at + ".name", "\(quoted(shard.name)) is already the name of shards[\(first)]; shard names must be unique")
            } else {
                names[shard.name] = index
            }
            if shard.symbols.isEmpty { issue(at + ".symbols", "shard \(shard.name) must own at least one symbol") }
            for symbol in shard.symbols {
                if let other = symbols[symbol] {
                    issue(at + ".symbols", other == shard.name
                        ? "\(symbol) is listed twice in shard \(shard.name)"
                        : "\(symbol) is in shard \(other) and in shard \(shard.name); every symbol belongs to exactly one shard")
                } else {
                    symbols[symbol] = shard.name
                }
            }
            if shard.orderEntry.isEmpty { issue(at + ".order_entry", "shard \(shard.name) needs at least one order-entry address (its primary)") }
            for (field, list) in [("order_entry", shard.orderEntry), ("re_request", shard.reRequest), ("snapshot", shard.snapshot)] {
                if list.count > maximumAddresses { issue(at + "." + field, "lists \(list.count) addresses; at most \(maximumAddresses)") }
                for endpoint in list {
                    let here = "shard \(shard.name)'s \(field)"
                    if let other = tcp[endpoint] {
                        issue(at + "." + field, "\(endpoint) is both \(other) and \(here): every address of the map must differ")
                    } else {
                        tcp[endpoint] = here
                    }
                }
            }
            if !shard.itch.address.isMulticast || shard.itch.address.rawValue >> 8 == 0xE0_0000 {
                issue(at + ".itch", "\(shard.itch.address) is not a usable multicast group: 224.0.1.0 to 239.255.255.255")
            }
            if let other = feeds[shard.itch] {
                issue(at + ".itch", "\(shard.itch) is already shard \(other)'s feed: each shard publishes on its own group and port")
            } else {
                feeds[shard.itch] = shard.name
            }
        }
        return issues
    }

    /// Reads the JSON tree into shards, recording shape problems (unknown keys, wrong types).
    private struct Reader {
        var issues: [ConfigurationIssue] = []
        var locations: [String: SourceLocation] = [:]

        mutating func fail(_ path: String, _ value: JSONValue?, _ message: String) {
            issues.append(ConfigurationIssue(path: path, location: value?.location, message: message))
        }

        mutating func shards(_ root: JSONValue) -> [Shard] {
            guard let object = root.object else {
                fail("", root, "the shard map must be a JSON object such as {\"shards\": [...]}; found \(root.summary)")
                return []
            }
            for member in object.members where member.key != "shards" {
                issues.append(ConfigurationIssue(path: member.key, location: member.keyLocation,
                                                 message: "unknown key; a shard map has only \"shards\""))
            }
            guard let value = object["shards"] else {
                fail("shards", root, "is required: a non-empty array of shards")
                return []
            }
            guard case .array(let elements) = value.kind else {
                fail("shards", value, "must be an array of shards; found \(value.summary)")
                return []
            }
            locations["shards"] = value.location
            var shards: [Shard] = []
            for (index, element) in elements.enumerated() {
                if let shard = self.shard(element, at: "shards[\(index)]") { shards.append(shard) }
            }
            return issues.isEmpty ? shards : []
        }

        static let keys = ["name", "symbols", "order_entry", "itch", "re_request", "snapshot"]

        mutating func shard(_ value: JSONValue, at path: String) -> Shard? {
            guard let object = value.object else {
                fail(path, value, "must be an object with \(Self.keys.joined(separator: ", ")); found \(value.summary)")
                return nil
            }
            for member in object.members where !Self.keys.contains(member.key) {
                issues.append(ConfigurationIssue(path: path + "." + member.key, location: member.keyLocation,
                                                 message: "unknown key; a shard has \(Self.keys.joined(separator: ", "))"))
            }
            for (first, duplicate) in object.duplicates {
                issues.append(ConfigurationIssue(path: path + "." + duplicate.key, location: duplicate.keyLocation,
                                                 message: "is given twice (first at \(first.keyLocation))"))
            }
            for member in object.members { locations[path + "." + member.key] = member.value.location }
            let before = issues.count
            let name = string(object, "name", at: path, required: true) ?? ""
            let symbols: [Symbol] = strings(object, "symbols", at: path, required: true).compactMap { text, location in
                guard (1...8).contains(text.utf8.count),
                      text.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }),
                      let symbol = Symbol(text) else {
                    issues.append(ConfigurationIssue(path: path + ".symbols", location: location,
                                                     message: "\(quoted(text)) is not a symbol: 1 to 8 characters of A-Z, 0-9 and '.'"))
                    return nil
                }
                return symbol
            }
            let orderEntry = endpoints(object, "order_entry", at: path, required: true)
            let reRequest = endpoints(object, "re_request", at: path, required: false)
            let snapshot = endpoints(object, "snapshot", at: path, required: false)
            var itch = Endpoint(address: IPv4Address(rawValue: 0), port: 0)
            if let text = string(object, "itch", at: path, required: true) {
                if let endpoint = Endpoint(text) {
                    itch = endpoint
                } else {
                    fail(path + ".itch", object["itch"], "\(quoted(text)) is not a multicast group and port such as \"239.3.0.1:9999\"")
                }
            }
            guard issues.count == before else { return nil }
            return Shard(name: name, symbols: symbols, orderEntry: orderEntry, itch: itch, reRequest: reRequest, snapshot: snapshot)
        }

        mutating func string(_ object: JSONObject, _ key: String, at path: String, required: Bool) -> String? {
            guard let value = object[key] else {
                if required { fail(path + "." + key, nil, "is required") }
                return nil
            }
            guard case .string(let text) = value.kind else {
                fail(path + "." + key, value, "must be a string; found \(value.summary)")
                return nil
            }
            return text
        }

        mutating func strings(_ object: JSONObject, _ key: String, at path: String, required: Bool) -> [(String, SourceLocation)] {
            guard let value = object[key] else {
                if required { fail(path + "." + key, nil, "is required") }
                return []
            }
            guard case .array(let elements) = value.kind else {
                fail(path + "." + key, value, "must be an array of strings; found \(value.summary)")
                return []
            }
            var out: [(String, SourceLocation)] = []
            for element in elements {
                guard case .string(let text) = element.kind else {
                    fail(path + "." + key, element, "must hold only strings; found \(element.summary)")
                    continue
                }
                out.append((text, element.location))
            }
            return out
        }

        mutating func endpoints(_ object: JSONObject, _ key: String, at path: String, required: Bool) -> [Endpoint] {
            strings(object, key, at: path, required: required).compactMap { text, location in
                guard let endpoint = Endpoint(text) else {
                    issues.append(ConfigurationIssue(path: path + "." + key, location: location,
                                                     message: "\(quoted(text)) is not an IPv4 address and port such as \"127.0.0.1:8888\" "
                                                        + "(host names are not accepted)"))
                    return nil
                }
                return endpoint
            }
        }
    }
}
