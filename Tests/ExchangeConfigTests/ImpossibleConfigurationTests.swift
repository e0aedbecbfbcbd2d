@testable import ExchangeConfig
import Foundation
import Glibc
import Testing

/// Configurations that cannot work are refused, each with a message that names the fix.
@Suite struct ImpossibleConfigurations {
    @Test func refusesALotSizeAboveTheMaximumOrderSize() throws {
        let found = issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "lot_size": 500}]"#,
                                    #""risk": {"max_order_size": 100}"#))
        let issue = try #require(found.at("symbols[0].lot_size").first)
        #expect(issue.message.contains("above risk.max_order_size (100)"))
        #expect(issue.message.contains("lower lot_size or raise risk.max_order_size"))
        #expect(issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "lot_size": 100}]"#,
                                #""risk": {"max_order_size": 100}"#)).isEmpty)
    }

    @Test func refusesAMulticastGroupReservedForTheLocalLinkOrNotMulticast() throws {
        for group in ["224.0.0.1", "224.0.0.251", "10.0.0.1", "240.0.0.1"] {
            let found = issues(document(#""exchange": {"udp_multicast_group": "\#(group)"}"#))
            let issue = try #require(found.at("exchange.udp_multicast_group").first, "\(group) was accepted")
            #expect(issue.message.contains("224.0.1.0 to 239.255.255.255"))
        }
        #expect(issues(document(#""exchange": {"udp_multicast_group": "224.0.1.1"}"#)).isEmpty)
    }

    @Test func refusesAFIFOAsTheConfigurationFileAtOnce() throws {
        let path = NSTemporaryDirectory() + "rtes-fifo-\(getpid())-\(UUID().uuidString).json"
        try #require(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        // No writer ever opens the FIFO: a blocking open would wait forever. Bounded by the
        // clock, not by a sleep: the refusal must come well inside a second.
        let started = ContinuousClock.now
        var refusal: ConfigurationError?
        do { _ = try ConfigurationLoader.load(path: path, environment: [:], host: twoCPUs) } catch { refusal = error }
        #expect(ContinuousClock.now - started < .seconds(1))
        let issue = try #require(refusal?.issues.first)
        #expect(issue.message.contains("is a FIFO (named pipe), not a regular file"))
    }

    @Test func refusesAFIFOAsTheAPIKeysFileAtOnce() throws {
        let path = NSTemporaryDirectory() + "rtes-keys-fifo-\(getpid())-\(UUID().uuidString)"
        try #require(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        var refusal: Error?
        do { _ = try APIKeys.load(path: path, allowPlainPasswords: false) } catch { refusal = error }
        #expect(String(describing: try #require(refusal)).contains("API keys file"))
        #expect(String(describing: try #require(refusal)).contains("FIFO"))
    }

    @Test func refusesADirectoryAsTheConfigurationFile() throws {
        var refusal: ConfigurationError?
        do { _ = try ConfigurationLoader.load(path: NSTemporaryDirectory(), environment: [:], host: twoCPUs) } catch { refusal = error }
        #expect(try #require(refusal?.issues.first).message.contains("a directory, not a regular file"))
    }

    @Test func refusesAPriceLadderNarrowerThanTheCollarBand() throws {
        // 1024 ticks of 0.01 centred on 150.00 hold 144.88–155.11; a 10 % collar admits 135–165.
        let found = issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "price_collar_pct": 10}]"#,
                                    #""performance": {"price_levels": 1024}"#))
        let issue = try #require(found.at("symbols[0].price_collar_pct").first)
        #expect(found.count == 1)
        #expect(issue.location?.line == 1)
        #expect(issue.message == "AAPL: the collar admits prices 135–165 (10 % around 150), but the price ladder "
            + "(performance.price_levels 1024 ticks of 0.01) holds only 144.88–155.11, so orders the collar accepts could not rest; "
            + "raise performance.price_levels to 4096, or lower price_collar_pct to 3.41, or set risk.price_collar_enabled to false")
    }

    @Test func theFixesTheLadderRefusalNamesAreExactlyEnough() {
        func found(collar: String, levels: Int, risk: String = "") -> [ConfigurationIssue] {
            issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "price_collar_pct": \#(collar)}]"#,
                            #""performance": {"price_levels": \#(levels)}"# + (risk.isEmpty ? "" : ", " + risk)))
        }
        #expect(found(collar: "10", levels: 4096).isEmpty)
        #expect(found(collar: "10", levels: 2048).count == 1)
        #expect(found(collar: "3.41", levels: 1024).isEmpty)
        #expect(found(collar: "3.42", levels: 1024).count == 1)
        #expect(found(collar: "10", levels: 1024, risk: #""risk": {"price_collar_enabled": false}"#).isEmpty)
        // The smallest ladder: 64 ticks hold 149.68–150.31, enough for a 0.2 % collar (149.70–150.30).
        #expect(found(collar: "0.2", levels: 64).isEmpty)
        #expect(found(collar: "0.22", levels: 64).count == 1)
    }

    @Test func aCollarNoLadderCanHoldNamesOnlyTheFixesThatWork() throws {
        // 0.0001 ticks around 400 000: even 262 144 levels hold only ±13.1072 dollars, and the
        // default 65 536 only ±3.2767, less than the narrowest collar (0.01 %, ±40).
        let found = issues(document(symbols: #"[{"symbol": "A", "tick_size": 0.0001, "reference_price": 400000, "price_collar_pct": 1}]"#))
        let issue = try #require(found.at("symbols[0].price_collar_pct").first)
        #expect(issue.message.hasSuffix("could not rest; set risk.price_collar_enabled to false"))
    }

    @Test func refusesAnAddressTheHostDoesNotHaveForEveryListenerAndTheFeed() throws {
        let host = HostFacts(cpuCount: 2, localAddresses: [IPv4Address("127.0.0.1")!, IPv4Address("10.1.2.3")!])
        let json = document(#""exchange": {"bind_address": "10.9.9.9"}, "market_data": {"interface": "192.0.2.7"}"#)
        let found = issues(json, host: host)
        #expect(found.paths == ["exchange.bind_address", "market_data.interface"])
        #expect(try #require(found.at("exchange.bind_address").first).message
            == "10.9.9.9 is not an address of this host, so nothing can be bound to it; use one of its addresses (10.1.2.3), 127.0.0.1 to stay on this host, or 0.0.0.0 for every interface")
        #expect(try #require(found.at("market_data.interface").first).message.hasSuffix("or 0.0.0.0 to let the routing table choose"))
        // The same names, through their environment overrides.
        let overridden = issues(minimalJSON, environment: ["RTES_EXCHANGE_BIND_ADDRESS": "10.9.9.9"], host: host)
        #expect(try #require(overridden.at("exchange.bind_address").first).location?.description == "environment variable RTES_EXCHANGE_BIND_ADDRESS")
    }

    @Test func acceptsEveryInterfaceLoopbackAndTheHostsOwnAddresses() {
        let host = HostFacts(cpuCount: 2, localAddresses: [IPv4Address("127.0.0.1")!, IPv4Address("10.1.2.3")!])
        for address in ["0.0.0.0", "127.0.0.1", "127.0.0.2", "10.1.2.3"] {
            let json = document(#""exchange": {"bind_address": "\#(address)"}, "market_data": {"interface": "\#(address)"}"#)
            #expect(issues(json, host: host).isEmpty, "\(address)")
        }
        // Unknown interfaces (getifaddrs failed): nothing to check against.
        #expect(issues(document(#""exchange": {"bind_address": "10.9.9.9"}"#), host: HostFacts(cpuCount: 2)).isEmpty)
    }

    @Test func thisHostsInterfacesIncludeLoopback() throws {
        let addresses = try #require(HostFacts.interfaceAddresses(), "getifaddrs failed")
        #expect(addresses.contains(IPv4Address("127.0.0.1")!))
        #expect(HostFacts.current().canBind(IPv4Address("127.0.0.1")!))
        #expect(!HostFacts.current().canBind(IPv4Address("192.0.2.254")!) || addresses.contains(IPv4Address("192.0.2.254")!))
    }

    @Test func refusesAPacketTooSmallForTheLongestITCHMessage() throws {
        let found = issues(document(#""market_data": {"max_payload_bytes": 65}"#))
        let issue = try #require(found.at("market_data.max_payload_bytes").first)
        #expect(issue.message.contains("from 96 (a cross fill's two 36-byte ITCH messages with their MoldUDP64 headers)"))
        #expect(issues(document(#""market_data": {"max_payload_bytes": 96}"#)).isEmpty)
    }
}
