@testable import ExchangeConfig
import ExchangeCore
import ExchangeRisk
import Testing

@Suite struct SchemaTests {
    @Test func documentedDefaultsAreTheDefaultsApplied() throws {
        // Write every documented default into a file explicitly; the result must equal
        // the configuration where every one of them is omitted.
        var sections: [String: [String]] = [:]
        var cores: [String] = []
        var symbolFields = [#""symbol": "AAPL""#, #""reference_price": 150"#]
        for field in ConfigurationSchema.fields {
            guard let value = field.defaultValue else { continue }
            let parts = field.path.split(separator: ".").map(String.init)
            if parts[0] == "symbols[]" {
                symbolFields.append("\"\(parts[1])\": \(value)")
            } else if parts.count == 3 {
                cores.append("\"\(parts[2])\": \(value)")
            } else {
                sections[parts[0], default: []].append("\"\(parts[1])\": \(value)")
            }
        }
        sections["performance", default: []].append(#""cores": {\#(cores.joined(separator: ", "))}"#)
        let body = sections.map { "\"\($0.key)\": {\($0.value.joined(separator: ", "))}" }.joined(separator: ", ")
        let explicit = #"{"symbols": [{\#(symbolFields.joined(separator: ", "))}], \#(body)}"#
        var loaded = try load(explicit)
        // The leadership section's presence is itself a setting (the exchange campaigns when it
        // is there), whatever its keys say.
        #expect(loaded.configuration.leadership.configured)
        loaded.configuration.leadership.configured = false
        // So is the luld section's (limit up, limit down is on when it is there).
        #expect(loaded.configuration.luld.enabled && loaded.configuration.luld.rules == .nasdaq)
        loaded.configuration.luld.enabled = false
        #expect(loaded.configuration == (try load(minimalJSON)).configuration)
    }

    @Test func theDecoderReadsEverySchemaField() throws {
        let json = document(#""exchange": {}, "risk": {}, "performance": {"cores": {}}, "gateway": {}, "market_data": {}, "admin": {}, "auth": {}, "durability": {}, "leadership": {}, "fix": {}, "replication": {}, "trading_day": {}"#)
        var decoder = ConfigurationDecoder(host: twoCPUs)
        let root = try JSONParser.parse(json, source: .file("t.json"))
        #expect(decoder.decode(root) != nil)
        #expect(decoder.consultedPaths == Set(ConfigurationSchema.fields.map(\.path)))
    }

    @Test func everyFieldIsDocumented() {
        for field in ConfigurationSchema.fields {
            #expect(!field.meaning.isEmpty, "\(field.path)")
            let required = ["symbols", "symbols[].symbol", "symbols[].reference_price"]
            #expect((field.defaultValue == nil) == required.contains(field.path), "\(field.path)")
        }
    }

    @Test func convertsToTheEngineAndRiskTypes() throws {
        let json = document(#"""
            "risk": {"max_order_size": 500, "max_notional_per_client": 1000000, "max_orders_per_second": 50,
                     "price_collar_enabled": false, "self_trade_prevention": "cancel_both"},
            "performance": {"order_pool_size": 2048, "max_clients": 8, "price_levels": 128}
            """#)
        let configuration = try load(json).configuration
        let engine = configuration.engineConfiguration()
        #expect(engine == EngineConfiguration(
            instruments: configuration.symbols, orderPoolSize: 2_048, maxClients: 8, priceLevels: 128,
            selfTradePrevention: .cancelBoth, collarMarketOrders: false))
        #expect(configuration.riskLimits == RiskLimits(
            maxOrderShares: 500, maxOpenNotional: 10_000_000_000, maxOrdersPerSecond: 50, priceCollarsEnabled: false))
    }

    @Test func pathsQuoteKeysThatAreNotPlainNames() {
        #expect(ConfigurationPath.member("", "risk") == "risk")
        #expect(ConfigurationPath.member("risk", "max_order_size") == "risk.max_order_size")
        #expect(ConfigurationPath.member("risk", "a.b") == #"risk["a.b"]"#)
        #expect(ConfigurationPath.member("risk", "x\ny") == #"risk["x\ny"]"#)
        #expect(ConfigurationPath.element("symbols", 2) == "symbols[2]")
    }
}
