@testable import ExchangeConfig
import ExchangeCore
import Testing

@Suite struct EnvironmentOverrideTests {
    @Test func overridesTakePrecedenceOverTheFile() throws {
        let json = document(#""risk": {"max_order_size": 100}, "exchange": {"tcp_port": 8000}"#)
        let configuration = try load(json, environment: [
            "RTES_RISK_MAX_ORDER_SIZE": "5000",
            "RTES_PERFORMANCE_CORES_ENGINE": "0",
            "RTES_EXCHANGE_TCP_PORT": " 9000 ",
            "RTES_PERFORMANCE_ENABLE_CPU_PINNING": "true",
            "RTES_RISK_SELF_TRADE_PREVENTION": "decrement",
            "RTES_RISK_MAX_NOTIONAL_PER_CLIENT": "2500.5",
        ]).configuration
        #expect(configuration.risk.maxOrderSize == 5_000)
        #expect(configuration.performance.cores.engine == 0)
        #expect(configuration.exchange.tcpPort == 9_000)
        #expect(configuration.performance.enableCPUPinning)
        #expect(configuration.risk.selfTradePrevention == .decrement)
        #expect(configuration.risk.maxNotionalPerClient == 25_005_000)
    }

    @Test func symbolsVariableReplacesTheWholeList() throws {
        let configuration = try load("{}", environment: [
            "RTES_SYMBOLS": #"[{"symbol": "IBM", "reference_price": 190.5}, {"symbol": "KO", "reference_price": 60}]"#,
        ]).configuration
        #expect(configuration.symbols.map(\.symbol.description) == ["IBM", "KO"])
        #expect(configuration.symbols.map(\.referencePrice) == [1_905_000, 600_000])
        let replaced = try load(minimalJSON, environment: ["RTES_SYMBOLS": #"[{"symbol": "IBM", "reference_price": 1}]"#])
        #expect(replaced.configuration.symbols.map(\.symbol.description) == ["IBM"])
    }

    @Test func invalidOverridesNameTheVariable() {
        let found = issues(minimalJSON, environment: [
            "RTES_RISK_MAX_ORDER_SIZE": "lots",
            "RTES_PERFORMANCE_TCP_NODELAY": "yes",
            "RTES_PERFORMANCE_ENABLE_CPU_PINNING": "true",
            "RTES_PERFORMANCE_CORES_ENGINE": "4",
        ])
        #expect(found.map(\.description) == [
            "environment variable RTES_PERFORMANCE_CORES_ENGINE: performance.cores.engine: CPU 4 does not exist on this host, which has CPUs 0–1; choose an existing CPU or set performance.enable_cpu_pinning to false",
            #"environment variable RTES_PERFORMANCE_TCP_NODELAY: performance.tcp_nodelay: must be true or false; found string "yes""#,
            #"environment variable RTES_RISK_MAX_ORDER_SIZE: risk.max_order_size: must be a whole number from 1 to 4294967295; found string "lots""#,
        ])
        #expect(found[0].location?.environmentVariable == "RTES_PERFORMANCE_CORES_ENGINE")
    }

    @Test func invalidSymbolsFromTheEnvironmentPointIntoTheVariable() {
        let found = issues("{}", environment: ["RTES_SYMBOLS": #"[{"symbol": "IBM", "reference_price": 1.00001}]"#])
        #expect(found.map(\.description) == [
            "environment variable RTES_SYMBOLS at 1:39: symbols[0].reference_price: must be a price in dollars greater than 0 and below 429496.7295, with at most 4 decimals; found 1.00001, which has 5 decimals",
        ])
        let malformed = issues("{}", environment: ["RTES_SYMBOLS": #"[{"symbol": "IBM",}]"#])
        #expect(malformed.map(\.description).contains(
            "environment variable RTES_SYMBOLS at 1:19: symbols: is not valid JSON: a trailing comma before '}' is not allowed"))
        #expect(malformed.paths.contains("symbols"))
    }

    @Test func unknownRTESVariablesAreErrorsWithASuggestion() {
        let found = issues(minimalJSON, environment: ["RTES_RISK_MAX_ORDERSIZE": "5", "RTES_VERBOSE": "1", "OTHER_VAR": "x"])
        #expect(found.map(\.description) == [
            "environment variable RTES_RISK_MAX_ORDERSIZE: is not a known RTES variable (did you mean RTES_RISK_MAX_ORDER_SIZE?); configuration overrides are RTES_<SECTION>_<KEY>, e.g. RTES_RISK_MAX_ORDER_SIZE (run with --help to list them)",
            "environment variable RTES_VERBOSE: is not a known RTES variable; configuration overrides are RTES_<SECTION>_<KEY>, e.g. RTES_RISK_MAX_ORDER_SIZE (run with --help to list them)",
        ])
    }

    @Test func knownVariablesThatAreNotOverridesAreAccepted() throws {
        let environment = [
            "RTES_API_KEYS_FILE": "/etc/rtes/keys", "RTES_LOG_LEVEL": "debug", "RTES_CLIENT_PASSWORD": "p",
            "RTES_FEED_PASSWORD": "p", "RTES_LOADGEN_PASSWORD": "p",
        ]
        let loaded = try load(minimalJSON, environment: environment)
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.configuration == (try load(minimalJSON)).configuration)
    }

    @Test func stringSettingsAreTakenVerbatim() throws {
        let configuration = try load(minimalJSON, environment: ["RTES_EXCHANGE_NAME": "2024", "RTES_EXCHANGE_BIND_ADDRESS": "0.0.0.0"]).configuration
        #expect(configuration.exchange.name == "2024")
        #expect(configuration.exchange.bindAddress.description == "0.0.0.0")
    }

    @Test func anEmptyOverrideIsAnError() {
        let found = issues(minimalJSON, environment: ["RTES_EXCHANGE_TCP_PORT": "", "RTES_SYMBOLS": " "])
        #expect(found.map(\.description) == [
            "environment variable RTES_EXCHANGE_TCP_PORT: is set but empty; unset it to use the configuration file's value",
            "environment variable RTES_SYMBOLS: is set but empty; unset it to use the configuration file's value",
        ])
    }

    @Test func anOverrideBelowANonObjectIsReported() {
        let found = issues(document(#""performance": 3"#), environment: ["RTES_PERFORMANCE_CORES_ENGINE": "1"])
        #expect(found.paths == ["performance", "performance.cores.engine"])
        #expect(found.at("performance.cores.engine")[0].message == "cannot be applied because performance in the configuration file is not an object")
    }

    @Test func variableNamesFollowTheSectionKeyRuleAndAreCollisionFree() {
        let names = ConfigurationLoader.environmentVariables.map(\.name)
        #expect(Set(names).count == names.count)
        let others = Set(ConfigurationLoader.otherEnvironmentVariables.map(\.name))
        #expect(others == ["RTES_API_KEYS_FILE", "RTES_LOG_LEVEL", "RTES_CLIENT_PASSWORD", "RTES_FEED_PASSWORD", "RTES_LOADGEN_PASSWORD",
                           "RTES_TLS_CERT", "RTES_TLS_KEY", "RTES_CA_CERT", "RTES_TLS_CLIENT_CERT", "RTES_TLS_CLIENT_KEY", "RTES_DROPCOPY_PASSWORD",
                           "RTES_AGENTS_PASSWORD", "RTES_REPLAY_PASSWORD",
                           "RTES_STRATEGY_PASSWORD", "RTES_LOG_FORMAT", "RTES_ADMIN_PASSWORD"])
        #expect(others.isDisjoint(with: names))
        for variable in ConfigurationLoader.environmentVariables {
            let path = try! #require(variable.path)
            #expect(variable.name == "RTES_" + path.uppercased().map { $0 == "." ? "_" : $0 }.reduce("") { $0 + String($1) })
        }
        #expect(names.contains("RTES_RISK_MAX_ORDER_SIZE"))
        #expect(names.contains("RTES_PERFORMANCE_CORES_MARKET_DATA"))
        #expect(names.contains("RTES_SYMBOLS"))
        #expect(!names.contains { $0.hasPrefix("RTES_SYMBOLS_") })
        // Every schema field outside symbols[] is overridable, and nothing else is.
        let overridable = ConfigurationSchema.fields.filter { !$0.path.contains("[]") }.map(\.path)
        #expect(ConfigurationLoader.environmentVariables.compactMap(\.path) == overridable)
    }

    @Test func everyOverrideReachesItsSetting() throws {
        // A value no setting accepts (it starts with a control character) must produce an
        // issue on exactly the variable's path, naming the variable.
        for variable in ConfigurationLoader.environmentVariables {
            let found = issues(minimalJSON, environment: [variable.name: "\u{1}[not valid]"])
            #expect(found.map(\.path) == [variable.path], "\(variable.name)")
            #expect(found.first?.location?.environmentVariable == variable.name)
        }
    }

    @Test func helpListsEveryVariable() {
        let help = ConfigurationLoader.environmentHelp()
        for variable in ConfigurationLoader.environmentVariables + ConfigurationLoader.otherEnvironmentVariables {
            #expect(help.contains(variable.name))
        }
        #expect(help.contains("RTES_RISK_MAX_ORDER_SIZE"))
        #expect(help.contains("[default 100000]"))
    }
}
