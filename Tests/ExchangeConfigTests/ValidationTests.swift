@testable import ExchangeConfig
import ExchangeCore
import Foundation
import Testing

@Suite struct ValidationTests {
    @Test func acceptsTheMinimalConfigurationAndAppliesDefaults() throws {
        let loaded = try load(minimalJSON)
        let configuration = loaded.configuration
        #expect(configuration.exchange == ExchangeSettings())
        #expect(configuration.risk == RiskSettings())
        #expect(configuration.performance == PerformanceSettings())
        #expect(configuration.symbols == [
            InstrumentSpec(symbol: Symbol("AAPL")!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: 1_500_000),
        ])
        #expect(loaded.warnings.isEmpty)
    }

    @Test func convertsPricesPercentagesAndNotionalExactly() throws {
        let json = document(
            symbols: #"[{"symbol": "BRK.B", "tick_size": 0.0025, "lot_size": 100, "price_collar_pct": 2.5, "reference_price": 150.2525}]"#,
            #""risk": {"max_notional_per_client": 10000000.0001}"#)
        let configuration = try load(json).configuration
        let spec = try #require(configuration.symbols.first)
        #expect(spec.symbol.description == "BRK.B")
        #expect(spec.tickSize == 25)
        #expect(spec.lotSize == 100)
        #expect(spec.collarBasisPoints == 250)
        #expect(spec.referencePrice == 1_502_525)
        #expect(configuration.risk.maxNotionalPerClient == 100_000_000_001)
    }

    @Test func reportsEveryBadFieldWithItsPath() {
        let json = """
        {
          "exchange": {"tcp_port": 0, "udp_port": "9999", "bind_address": "localhost"},
          "symbols": [
            {"symbol": "AAPL", "reference_price": 150},
            {"symbol": "aapl", "reference_price": 150},
            {"symbol": "MSFT", "tick_size": 0.00001, "reference_price": 0, "lot_size": 1.5, "price_collar_pct": 100}
          ],
          "risk": {"max_order_size": 4294967296, "max_orders_per_second": 0, "price_collar_enabled": "yes",
                   "self_trade_prevention": "cancel_new"},
          "performance": {"queue_capacity": 1000, "price_levels": 32, "threading_mode": 1, "idle_strategy": "spin",
                          "hugepages": "always", "max_clients": 16777217, "udp_buffer_size": 1024,
                          "order_pool_size": 0, "cores": {"engine": -1}}
        }
        """
        let found = issues(json)
        #expect(found.paths == [
            "exchange.tcp_port", "exchange.udp_port", "exchange.bind_address",
            "symbols[1].symbol",
            "symbols[2].tick_size", "symbols[2].reference_price", "symbols[2].lot_size", "symbols[2].price_collar_pct",
            "risk.max_order_size", "risk.max_orders_per_second", "risk.price_collar_enabled", "risk.self_trade_prevention",
            "performance.queue_capacity", "performance.price_levels", "performance.threading_mode",
            "performance.idle_strategy", "performance.hugepages", "performance.max_clients",
            "performance.udp_buffer_size", "performance.order_pool_size", "performance.cores.engine",
        ])
        #expect(found.count == 21)
        #expect(found.allSatisfy { $0.location?.source == .file("test.json") })
        let tick = found.at("symbols[2].tick_size")[0]
        #expect(tick.location?.line == 6)
        #expect(tick.location?.column == 37)
        #expect(tick.message == "must be a price in dollars greater than 0 and at most 429496.7295, with at most 4 decimals; found 0.00001, which has 5 decimals")
        #expect(tick.description == "test.json:6:37: symbols[2].tick_size: " + tick.message)
    }

    @Test func messagesSayWhatWasFoundAndWhatIsAllowed() {
        let json = document(#"""
            "exchange": {"tcp_port": "8888", "bind_address": "localhost", "udp_multicast_group": "10.0.0.1"},
            "risk": {"self_trade_prevention": "cancel_new", "price_collar_enabled": "yes"},
            "performance": {"queue_capacity": 1000, "threading_mode": "Dedicated"}
            """#)
        let messages = Dictionary(issues(json).map { ($0.path, $0.message) }, uniquingKeysWith: { a, _ in a })
        #expect(messages["exchange.tcp_port"] == #"must be a whole number from 1 to 65535; found string "8888" (write numbers and true/false without quotes)"#)
        #expect(messages["exchange.bind_address"] == #"must be an IPv4 address such as 127.0.0.1, or 0.0.0.0 for every interface (host names are not accepted); found "localhost""#)
        #expect(messages["exchange.udp_multicast_group"] == #"must be an IPv4 multicast address from 224.0.1.0 to 239.255.255.255, such as 239.0.0.1 (224.0.0.0–224.0.0.255 is reserved for routing protocols on the local link); found "10.0.0.1""#)
        #expect(messages["risk.self_trade_prevention"] == #"must be one of "cancel_newest", "cancel_oldest", "cancel_both", "decrement"; found "cancel_new" (did you mean "cancel_newest"?)"#)
        #expect(messages["risk.price_collar_enabled"] == #"must be true or false; found string "yes""#)
        #expect(messages["performance.queue_capacity"] == "must be a power of two from 2 to 1073741824; found 1000")
        #expect(messages["performance.threading_mode"] == #"must be one of "dedicated", "shared"; found "Dedicated" (did you mean "dedicated"?)"#)
    }

    @Test func reportsUnknownKeysEverywhereWithSuggestions() {
        let json = """
        {"symbols": [{"symbol": "AAPL", "reference_price": 150, "tick": 0.01}],
         "exchange": {"tcp_prot": 1},
         "risk": {"max_order_sise": 5},
         "performance": {"cores": {"engine": 1, "feed": 0}},
         "logging": {}}
        """
        let found = issues(json)
        #expect(found.map(\.path) == ["symbols[0].tick", "exchange.tcp_prot", "risk.max_order_sise", "performance.cores.feed", "logging"])
        #expect(found.at("symbols[0].tick")[0].message.contains("did you mean tick_size?"))
        #expect(found.at("risk.max_order_sise")[0].message.hasPrefix("unknown key (did you mean max_order_size?); allowed keys in risk are max_order_size, "))
        #expect(found.at("exchange.tcp_prot")[0].message.contains("did you mean tcp_port?"))
        #expect(found.at("performance.cores.feed")[0].message.hasSuffix("allowed keys in performance.cores are gateway, engine, market_data"))
        #expect(found.at("logging")[0].message.contains("allowed keys at the top level are exchange, symbols, risk, performance, gateway, market_data, admin, auth"))
        #expect(found.at("symbols[0].tick")[0].location?.column == 57)
    }

    @Test func listsIssuesInReadingOrder() {
        let json = """
        {"performance": {"price_levels": 3},
         "symbols": [{"symbol": "A", "reference_price": 1}],
         "exchange": {"tcp_port": 0, "name": ""}}
        """
        let found = issues(json, environment: ["RTES_RISK_MAX_ORDER_SIZE": "0", "RTES_BOGUS": "1"])
        #expect(found.map(\.path) == ["performance.price_levels", "exchange.tcp_port", "exchange.name", "", "risk.max_order_size"])
        #expect(found.map { $0.location?.environmentVariable } == [nil, nil, nil, "RTES_BOGUS", "RTES_RISK_MAX_ORDER_SIZE"])
    }

    @Test func reportsDuplicateKeysWithBothPositions() {
        let json = """
        {"symbols": [{"symbol": "AAPL", "reference_price": 150}],
         "risk": {"max_order_size": 5,
                  "max_order_size": 6}}
        """
        let found = issues(json)
        #expect(found.count == 1)
        #expect(found[0].path == "risk.max_order_size")
        #expect(found[0].location?.line == 3)
        #expect(found[0].message == "duplicate key: it is already defined at line 2, column 11; each key may appear only once")
    }

    @Test func refusesSecretsInTheFileWithoutRepeatingThem() {
        let json = document(#"""
            "exchange": {"hmac_key": "s3cr3t-value", "TLS_KEY": "s3cr3t-value"},
            "vault": {"db_password": "s3cr3t-value", "client_secret": "s3cr3t-value"},
            "api_keys_file": "/etc/keys"
            """#)
        let found = issues(json)
        let readsNone = "looks like a secret, and secrets must not be in the configuration file; the exchange reads none from it (the accounts come from the API keys file named by RTES_API_KEYS_FILE): remove it"
        #expect(found.at("exchange.hmac_key").first?.message == readsNone)
        #expect(found.at("exchange.TLS_KEY").first?.message == readsNone)
        #expect(found.at("api_keys_file").first?.message == "looks like a secret, and secrets must not be in the configuration file; they come only from the environment variable RTES_API_KEYS_FILE")
        #expect(found.at("vault.db_password").first?.message == readsNone)
        #expect(found.at("vault.client_secret").count == 1)
        #expect(found.at("vault").count == 1)  // the unknown section itself
        #expect(!ConfigurationError(issues: found).description.contains("s3cr3t"))
    }

    @Test func requiresANonEmptyListOfSymbols() {
        #expect(issues("{}").map(\.description) == [
            #"test.json:1:1: symbols: is required: list at least one instrument, e.g. "symbols": [{"symbol": "AAPL", "reference_price": 150.00}]"#,
        ])
        #expect(issues(#"{"symbols": []}"#).first?.message.hasSuffix("found an empty array") == true)
        #expect(issues(#"{"symbols": {"AAPL": 1}}"#).first?.message.hasSuffix("found an object") == true)
        #expect(issues(#"{"symbols": [1]}"#).at("symbols[0]").count == 1)
    }

    @Test func requiresSymbolAndReferencePriceOfEveryInstrument() {
        let found = issues(#"{"symbols": [{"tick_size": 0.01}]}"#)
        #expect(found.paths == ["symbols[0].symbol", "symbols[0].reference_price"])
        #expect(found[0].message.hasPrefix("is required and missing: ticker"))
        #expect(found[0].location?.column == 14)
    }

    @Test func rejectsRepeatedSymbols() {
        let found = issues(#"{"symbols": [{"symbol": "AAPL", "reference_price": 1}, {"symbol": "AAPL", "reference_price": 2}]}"#)
        #expect(found.map(\.path) == ["symbols[1].symbol"])
        #expect(found[0].message == "AAPL is already listed as symbols[0]; symbols must be unique")
    }

    @Test func symbolsMustBeOneToEightUpperCaseLettersDigitsOrDots() {
        for bad in [#""""#, #""TOOLONGSYM""#, #""AB-C""#, #""ÄPL""#, "5"] {
            let found = issues(document(symbols: #"[{"symbol": \#(bad), "reference_price": 1}]"#))
            #expect(found.paths == ["symbols[0].symbol"], "\(bad)")
        }
        #expect(issues(document(symbols: #"[{"symbol": "aapl", "reference_price": 1}]"#)).first?.message.hasSuffix("(use upper case)") == true)
        for good in ["A", "BRK.B", "ABCDEFGH", "X1"] {
            #expect(issues(document(symbols: #"[{"symbol": "\#(good)", "reference_price": 1}]"#)).isEmpty, "\(good)")
        }
    }

    @Test func referencePriceMustBeAMultipleOfTheTickSize() {
        let found = issues(document(symbols: #"[{"symbol": "A", "tick_size": 0.05, "reference_price": 150.02}]"#))
        #expect(found.map(\.message) == ["must be a multiple of tick_size 0.05; found 150.02"])
        #expect(issues(document(symbols: #"[{"symbol": "A", "tick_size": 0.05, "reference_price": 150.05}]"#)).isEmpty)
    }

    @Test func pricesMustFitTheWireFormat() {
        let limit = issues(document(symbols: #"[{"symbol": "A", "tick_size": 0.0001, "reference_price": 429496.7295}]"#))
        #expect(limit.paths == ["symbols[0].reference_price"])
        // Without a collar: no ladder of 0.0001 ticks could hold a 10 % band around it.
        #expect(issues(document(symbols: #"[{"symbol": "A", "tick_size": 0.0001, "reference_price": 429496.7294}]"#,
                                #""risk": {"price_collar_enabled": false}"#)).isEmpty)
        #expect(issues(document(symbols: #"[{"symbol": "A", "tick_size": 500000, "reference_price": 1}]"#)).paths == ["symbols[0].tick_size"])
        #expect(issues(document(symbols: #"[{"symbol": "A", "reference_price": -1}]"#)).paths == ["symbols[0].reference_price"])
    }

    @Test func collarIsAPercentageBelowOneHundredWithTwoDecimals() {
        for (text, valid) in [("0", false), ("0.01", true), ("99.99", true), ("100", false), ("2.555", false), ("-5", false)] {
            let found = issues(document(symbols: #"[{"symbol": "A", "price_collar_pct": \#(text), "reference_price": 1}]"#))
            #expect(found.isEmpty == valid, "\(text)")
        }
    }

    @Test func riskLimitsMustBePositiveAndFitTheirTypes() {
        #expect(issues(document(#""risk": {"max_order_size": 4294967295, "max_orders_per_second": 4294967295}"#)).isEmpty)
        #expect(issues(document(#""risk": {"max_order_size": 0}"#)).paths == ["risk.max_order_size"])
        #expect(issues(document(#""risk": {"max_notional_per_client": 1844674407370955.1615}"#)).isEmpty)
        #expect(issues(document(#""risk": {"max_notional_per_client": 1844674407370955.1616}"#)).first?.message.hasSuffix("which is too large") == true)
        #expect(issues(document(#""risk": {"max_notional_per_client": 0.00001}"#)).first?.message.hasSuffix("which has 5 decimals") == true)
        #expect(issues(document(#""risk": {"max_notional_per_client": 0}"#)).paths == ["risk.max_notional_per_client"])
    }

    @Test func portsMustDifferFromEachOther() {
        let found = issues(document(#""exchange": {"tcp_port": 9000, "udp_port": 9000, "metrics_port": 8888}"#))
        #expect(found.paths == ["exchange.udp_port"])
        #expect(found[0].message == "9000 is also used by exchange.tcp_port; every port the exchange listens on must differ")
        let withDefault = issues(document(#""exchange": {"metrics_port": 8888}"#))
        #expect(withDefault.map(\.message) == ["8888 is also used by exchange.tcp_port (its default); every port the exchange listens on must differ"])
        #expect(issues(document(#""exchange": {"tcp_port": 65535, "udp_port": 1, "metrics_port": 2}"#)).isEmpty)
        let listeners = issues(document(#""exchange": {"tcp_port": 7000}, "market_data": {"retransmit_port": 7000, "snapshot_port": 8080}"#))
        #expect(listeners.paths == ["market_data.retransmit_port", "market_data.snapshot_port"])
        #expect(listeners[1].message == "8080 is also used by exchange.metrics_port (its default); every port the exchange listens on must differ")
        #expect(issues(document(#""exchange": {"tcp_port": 65536}"#)).paths == ["exchange.tcp_port"])
    }

    @Test func acceptsOnlyDottedQuadAddresses() {
        for address in ["0.0.0.0", "127.0.0.1", "255.255.255.255", "10.1.2.3"] {
            #expect(IPv4Address(address)?.description == address)
        }
        for address in ["", "localhost", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", " 1.2.3.4", "1.2.3.-4", "١.2.3.4"] {
            #expect(IPv4Address(address) == nil, "\(address)")
        }
        #expect(IPv4Address("224.0.0.0")?.isMulticast == true)
        #expect(IPv4Address("239.255.255.255")?.isMulticast == true)
        #expect(IPv4Address("223.255.255.255")?.isMulticast == false)
        #expect(IPv4Address("240.0.0.0")?.isMulticast == false)
    }

    @Test func sizesMustBePowersOfTwoWhereTheEngineNeedsThem() {
        // 64 levels of 0.01 around 150 hold a 0.2 % collar (the ladder must cover the collar band).
        #expect(issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150.00, "price_collar_pct": 0.2}]"#,
                                #""performance": {"queue_capacity": 2, "price_levels": 64}"#)).isEmpty)
        #expect(issues(document(#""performance": {"price_levels": 262144}"#)).isEmpty)
        #expect(issues(document(#""performance": {"price_levels": 524288}"#)).paths == ["performance.price_levels"])
        #expect(issues(document(#""performance": {"queue_capacity": 1}"#)).paths == ["performance.queue_capacity"])
        #expect(issues(document(#""performance": {"queue_capacity": 1e3}"#)).paths == ["performance.queue_capacity"])
        #expect(issues(document(#""performance": {"queue_capacity": 1.024e3}"#)).isEmpty)
        #expect(issues(document(#""performance": {"order_pool_size": 2147483646}"#)).isEmpty)
    }

    @Test func pinnedCoresMustExistOnTheHost() {
        let pinned = document(#""performance": {"enable_cpu_pinning": true, "cores": {"gateway": 0, "engine": 2}}"#)
        let found = issues(pinned)
        #expect(found.paths == ["performance.cores.engine"])
        #expect(found[0].message == "CPU 2 does not exist on this host, which has CPUs 0–1; choose an existing CPU or set performance.enable_cpu_pinning to false")
        #expect(issues(pinned, host: HostFacts(cpuCount: 3)).isEmpty)
        let defaults = issues(document(#""performance": {"enable_cpu_pinning": true}"#), host: HostFacts(cpuCount: 1))
        #expect(defaults.map(\.description) == [
            "performance.cores.engine: CPU 1 (the default for performance.cores.engine) does not exist on this host, which has only CPU 0; choose an existing CPU or set performance.enable_cpu_pinning to false",
            "performance.cores.market_data: CPU 1 (the default for performance.cores.market_data) does not exist on this host, which has only CPU 0; choose an existing CPU or set performance.enable_cpu_pinning to false",
        ])
    }

    @Test func coresAreIgnoredWithAWarningWhenPinningIsOff() throws {
        let loaded = try load(document(#""performance": {"cores": {"engine": 7}}"#))
        #expect(loaded.warnings.map(\.description) == ["test.json:1:87: performance.cores: is ignored because performance.enable_cpu_pinning is false"])
    }

    @Test func busySpinningAgentsSharingACoreIsOnlyAWarning() throws {
        let json = document(#"""
            "performance": {"enable_cpu_pinning": true, "threading_mode": "dedicated", "idle_strategy": "busy_spin",
                            "cores": {"gateway": 0, "engine": 1, "market_data": 1}}
            """#)
        let loaded = try load(json)
        #expect(loaded.warnings.map(\.message) == [
            "engine and market_data busy-spin on the same CPU 1 in dedicated mode; they will compete for it (allowed, e.g. on a 2-CPU machine, but latency suffers)",
        ])
        #expect(try load(json.replacingOccurrences(of: "busy_spin", with: "spin_yield")).warnings.isEmpty)
        #expect(try load(json.replacingOccurrences(of: "dedicated", with: "shared")).warnings.isEmpty)
    }

    @Test func rejectsADocumentThatIsNotAnObject() {
        #expect(issues("[1, 2]").map(\.description) == [
            "test.json:1:1: the configuration must be a JSON object such as {\"symbols\": [...]}; found an array",
        ])
        #expect(issues(#"{"symbols": [{"symbol": "A", "reference_price": 1}], "risk": 5}"#).map(\.message) == ["must be an object of settings { … }; found number 5"])
    }

    @Test func reportsSyntaxErrorsWithTheirPosition() {
        let found = issues("{\n  \"symbols\": [\n    {\"symbol\": \"AAPL\",}\n  ]\n}")
        #expect(found.map(\.description) == ["test.json:3:23: not valid JSON: a trailing comma before '}' is not allowed"])
    }

    @Test func errorDescriptionListsEveryIssueOnItsOwnLine() {
        let error = ConfigurationError(issues: issues(document(#""risk": {"max_order_size": 0, "max_orders_per_second": 0}"#)))
        let lines = error.description.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("test.json:1:89: risk.max_order_size: must be a whole number from 1 to 4294967295; found 0"))
        #expect(lines[1].contains("risk.max_orders_per_second"))
    }

    @Test func reportsAMissingFileAsOneClearIssue() {
        do {
            _ = try ConfigurationLoader.load(path: "/nonexistent/rtes.json", environment: ["RTES_BOGUS": "1"], host: twoCPUs)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.issues.map(\.description) == [
                #"cannot open the configuration file "/nonexistent/rtes.json": No such file or directory (errno 2)"#,
            ])
        }
        do {
            _ = try ConfigurationLoader.load(path: "/", environment: [:], host: twoCPUs)
            Issue.record("loaded a directory")
        } catch {
            #expect(error.issues.map(\.message) == [#"the configuration file "/" is a directory, not a regular file; give the path of the file itself"#])
        }
    }

    @Test func hostFactsDescribeThisMachine() {
        #expect(HostFacts.current().cpuCount >= 1)
    }
}

@Suite struct RealtimePriority {
    @Test func acceptsZeroToNinetyNineAndNamesAnythingElse() throws {
        let good = #"{"symbols": [{"symbol": "AAPL", "reference_price": 100}], "performance": {"realtime_priority": 50}}"#
        let loaded = try ConfigurationLoader.load(json: good, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2))
        #expect(loaded.configuration.performance.realtimePriority == 50)
        let bad = #"{"symbols": [{"symbol": "AAPL", "reference_price": 100}], "performance": {"realtime_priority": 100}}"#
        do {
            _ = try ConfigurationLoader.load(json: bad, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2))
            Issue.record("priority 100 was accepted")
        } catch {
            #expect(error.issues.map(\.path) == ["performance.realtime_priority"])
        }
    }
}
