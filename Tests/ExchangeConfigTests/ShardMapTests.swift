@testable import ExchangeConfig
import ExchangeCore
import Foundation
import Testing

/// The shard map (docs/SHARDS.md) and a sharded exchange's configuration: every symbol in
/// exactly one shard, names, addresses and feeds unique, every problem named with its place;
/// an exchange started as a shard keeps only its symbols, its own leader key and journal.
@Suite struct ShardMapTests {
    static let twoShards = #"""
        { "shards": [
          { "name": "alpha", "symbols": ["AAPL", "MSFT"], "order_entry": ["127.0.0.1:9001", "127.0.0.1:9011"],
            "itch": "239.3.0.1:9101", "re_request": ["127.0.0.1:9102"], "snapshot": ["127.0.0.1:9103"] },
          { "name": "beta", "symbols": ["QQQ"], "order_entry": ["127.0.0.1:9201", "127.0.0.1:9211"], "itch": "239.3.0.2:9101" }
        ] }
        """#

    static func mapIssues(_ json: String) -> [ConfigurationIssue] {
        do {
            _ = try ShardMap.parse(json: json, source: "shards.json")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aValidMapRoutesEverySymbolToItsShard() throws {
        let map = try ShardMap.parse(json: Self.twoShards, source: "shards.json")
        #expect(map.shards.map(\.name) == ["alpha", "beta"])
        #expect(map.shard(owning: Symbol("MSFT")!)?.name == "alpha")
        #expect(map.shardIndex(of: Symbol("QQQ")!) == 1)
        #expect(map.shardIndex(of: Symbol("IBM")!) == nil)
        #expect(map.shards[0].orderEntry.map(\.description) == ["127.0.0.1:9001", "127.0.0.1:9011"])
        #expect(map.shards[0].itch.description == "239.3.0.1:9101")
        #expect(map.shards[1].reRequest.isEmpty && map.shards[0].snapshot.map(\.port) == [9103])
    }

    @Test func aSymbolInTwoShardsIsRefusedNamingBoth() {
        let json = Self.twoShards.replacingOccurrences(of: #"["QQQ"]"#, with: #"["QQQ", "AAPL"]"#)
        let found = Self.mapIssues(json)
        #expect(found.count == 1)
        #expect(found.first?.path == "shards[1].symbols")
        #expect(found.first?.message.contains("AAPL is in shard alpha and in shard beta") == true, "\(found)")
        #expect(found.first?.location?.line == 4, "the issue names where the shard was written: \(found)")
    }

    @Test func namesAddressesAndFeedsMustBeUnique() {
        let json = Self.twoShards
            .replacingOccurrences(of: #""name": "beta""#, with: #""name": "alpha""#)
            .replacingOccurrences(of: "127.0.0.1:9211", with: "127.0.0.1:9011")
            .replacingOccurrences(of: "239.3.0.2:9101", with: "239.3.0.1:9101")
        let found = Self.mapIssues(json)
        #expect(found.paths == ["shards[1].name", "shards[1].order_entry", "shards[1].itch"], "\(found)")
        #expect(found.at("shards[1].order_entry").first?.message.contains("127.0.0.1:9011 is both shard alpha's order_entry") == true)
    }

    @Test func malformedEntriesAreNamedOneByOne() {
        let json = #"""
            { "shards": [ { "name": "Alpha!", "symbols": ["aapl", 3], "order_entry": ["localhost:80"], "itch": "10.0.0.1:1",
                            "colour": "red" } ], "extra": 1 }
            """#
        let found = Self.mapIssues(json)
        #expect(found.paths.isSuperset(of: ["extra", "shards[0].colour", "shards[0].symbols", "shards[0].order_entry"]), "\(found)")
        #expect(found.contains { $0.message.contains("\"aapl\" is not a symbol") })
        #expect(found.contains { $0.message.contains("host names are not accepted") })
        // Once the shape is right, the rules: a bad name and a feed that is not multicast.
        let shaped = #"{ "shards": [ { "name": "Alpha!", "symbols": ["AAPL"], "order_entry": ["127.0.0.1:80"], "itch": "10.0.0.1:1" } ] }"#
        #expect(Self.mapIssues(shaped).paths == ["shards[0].name", "shards[0].itch"])
        #expect(Self.mapIssues(#"{ "shards": [] }"#).first?.message.contains("at least one shard") == true)
        #expect(Self.mapIssues("[1]").first?.message.contains("must be a JSON object") == true)
        #expect(Self.mapIssues("{").first?.message.contains("not valid JSON") == true)
    }

    // MARK: A sharded exchange

    final class MapFile {
        let path = NSTemporaryDirectory() + "rtes-shardmap-\(getpid())-\(UUID().uuidString).json"
        init(_ json: String) throws { try json.write(toFile: path, atomically: true, encoding: .utf8) }
        deinit { unlink(path) }
    }

    static func exchange(_ map: MapFile, shard: String, tcp: Int = 9001, feed: String = "239.3.0.1", udp: Int = 9101,
                         retransmit: Int = 9102, snapshot: Int = 9103) -> String {
        #"""
        { "exchange": { "shard": "\#(shard)", "shard_map": "\#(map.path)", "tcp_port": \#(tcp),
                        "udp_multicast_group": "\#(feed)", "udp_port": \#(udp) },
          "market_data": { "retransmit_port": \#(retransmit), "snapshot_port": \#(snapshot) },
          "durability": { "mode": "async", "directory": "/var/lib/rtes/journal" },
          "leadership": { "key_prefix": "/rtes" },
          "symbols": [ { "symbol": "AAPL", "reference_price": 150 }, { "symbol": "QQQ", "reference_price": 400 },
                       { "symbol": "MSFT", "reference_price": 420 } ] }
        """#
    }

    @Test func aShardKeepsOnlyItsSymbolsAndGetsItsOwnLeaderKeyAndJournal() throws {
        let map = try MapFile(Self.twoShards)
        let alpha = try load(Self.exchange(map, shard: "alpha")).configuration
        #expect(alpha.symbols.map(\.symbol.description) == ["AAPL", "MSFT"], "configuration order, only the shard's")
        #expect(alpha.leadership.leaderKey == "/rtes/alpha/leader")
        #expect(alpha.durability.directory == "/var/lib/rtes/journal/alpha")
        let beta = try load(Self.exchange(map, shard: "beta", tcp: 9211, feed: "239.3.0.2", retransmit: 9302, snapshot: 9303)).configuration
        #expect(beta.symbols.map(\.symbol.description) == ["QQQ"])
        #expect(beta.leadership.leaderKey == "/rtes/beta/leader")
        // The shard is overridable like any setting (RTES_EXCHANGE_SHARD).
        let overridden = try load(Self.exchange(map, shard: "alpha", tcp: 9211, feed: "239.3.0.2", retransmit: 9302, snapshot: 9303),
                                  environment: ["RTES_EXCHANGE_SHARD": "beta"]).configuration
        #expect(overridden.symbols.map(\.symbol.description) == ["QQQ"])
        // Unsharded, nothing changes.
        let plain = try load(minimalJSON).configuration
        #expect(plain.exchange.shard.isEmpty && plain.leadership.leaderKey == "/rtes/leader" && plain.durability.directory == "data/journal")
    }

    @Test func aShardWhosePortsOrFeedAreNotTheMapsIsRefused() throws {
        let map = try MapFile(Self.twoShards)
        let found = issues(Self.exchange(map, shard: "alpha", tcp: 9201, feed: "239.3.0.2", retransmit: 9999, snapshot: 9103))
        #expect(found.paths == ["exchange.udp_multicast_group", "exchange.tcp_port", "market_data.retransmit_port"], "\(found)")
        #expect(found.at("exchange.tcp_port").first?.message.contains("127.0.0.1:9001, 127.0.0.1:9011") == true, "\(found)")
    }

    @Test func anUnknownShardAMissingMapOrAnUndefinedSymbolIsNamed() throws {
        let map = try MapFile(Self.twoShards)
        #expect(issues(Self.exchange(map, shard: "gamma")).first?.message.contains("which the shard map") == true)
        let undefined = try MapFile(Self.twoShards.replacingOccurrences(of: #"["QQQ"]"#, with: #"["QQQ", "IBM"]"#))
        let found = issues(Self.exchange(undefined, shard: "beta", tcp: 9211, feed: "239.3.0.2", retransmit: 9302, snapshot: 9303))
        #expect(found.first?.path == "symbols" && found.first?.message.contains("IBM") == true, "\(found)")
        let gone = issues(#"{ "exchange": { "shard": "alpha", "shard_map": "/nonexistent/shards.json" }, "symbols": [{"symbol": "AAPL", "reference_price": 1}] }"#)
        #expect(gone.first?.path == "exchange.shard_map" && gone.first?.message.contains("cannot open the shard map") == true, "\(gone)")
        let half = issues(#"{ "exchange": { "shard": "alpha" }, "symbols": [{"symbol": "AAPL", "reference_price": 1}] }"#)
        #expect(half.first?.path == "exchange.shard" && half.first?.message.contains("exchange.shard_map is not") == true, "\(half)")
        let badMap = try MapFile(#"{ "shards": [] }"#)
        #expect(issues(Self.exchange(badMap, shard: "alpha")).first?.message.contains("at least one shard") == true)
    }

    @Test func theExampleShardMapAndConfigurationsLoad() throws {
        let map = try ShardMap.load(path: configsDirectory + "/shards.dev.json")
        #expect(map.shards.count == 2)
        for (file, shard) in [("config.shard-alpha.json", "alpha"), ("config.shard-beta.json", "beta")] {
            // The examples name the map relative to the repository (where `make run` starts); here, absolutely.
            let text = try String(contentsOfFile: configsDirectory + "/" + file, encoding: .utf8)
            #expect(text.contains(#""shard_map": "configs/shards.dev.json""#), "\(file)")
            let json = text.replacingOccurrences(of: #""configs/shards.dev.json""#, with: "\"\(configsDirectory)/shards.dev.json\"")
            let configuration = try load(json).configuration
            #expect(configuration.exchange.shard == shard)
            #expect(Set(configuration.symbols.map(\.symbol)) == Set(try #require(map.shard(named: shard)).symbols))
        }
    }
}
