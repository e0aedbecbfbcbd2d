@testable import ExchangeConfig
import ExchangeCore
import Testing

/// The `luld` section: limit up, limit down is on when the section is present, each key
/// defaulting to Nasdaq's value; off (the engine as before) when it is absent.
@Suite struct LULDSettingsTests {
    @Test func withoutTheSectionLULDIsOff() throws {
        let configuration = try load(document("")).configuration
        #expect(!configuration.luld.enabled)
        #expect(configuration.engineConfiguration().luld == nil)
    }

    @Test func anEmptySectionTurnsItOnWithNasdaqsValues() throws {
        let configuration = try load(document(#""luld": {}"#)).configuration
        #expect(configuration.luld.enabled)
        #expect(configuration.engineConfiguration().luld == LULDRules.nasdaq)
        #expect(LULDRules.nasdaq.limitStateNanoseconds == 15_000_000_000 && LULDRules.nasdaq.pauseNanoseconds == 300_000_000_000)
    }

    @Test func everyLULDKeyIsRead() throws {
        let json = document(#"""
            "luld": {"tier1_min_price": 5.00, "tier1_band_pct": 10, "tier2_min_price": 1.00, "tier2_band_pct": 25.5,
                     "tier3_band_pct": 50, "tier3_max_band": 0, "limit_state_ms": 5000, "pause_ms": 30000}
            """#)
        let rules = try #require(try load(json).configuration.engineConfiguration().luld)
        #expect(rules == LULDRules(highTierPrice: 50_000, highBasisPoints: 1_000, midTierPrice: 10_000, midBasisPoints: 2_550,
                                   lowBasisPoints: 5_000, lowMaximumBand: 0, limitStateNanoseconds: 5_000_000_000,
                                   pauseNanoseconds: 30_000_000_000))
    }

    @Test func everyLULDKeyHasARangeAndIsNamed() {
        for (key, bad) in [("tier1_min_price", "0"), ("tier1_min_price", "1.00001"), ("tier1_band_pct", "0"),
                           ("tier1_band_pct", "100"), ("tier2_band_pct", "5.555"), ("tier3_band_pct", "-1"),
                           ("tier3_max_band", #""x""#), ("limit_state_ms", "0"), ("limit_state_ms", "3600001"),
                           ("pause_ms", "0"), ("pause_ms", "1.5")] {
            let found = issues(document(#""luld": {"\#(key)": \#(bad)}"#))
            #expect(found.paths == ["luld.\(key)"], "\(key): \(bad) → \(found)")
        }
        let typo = issues(document(#""luld": {"pause": 3}"#))
        #expect(typo.first?.message.contains("did you mean pause_ms?") == true, "\(typo)")
    }

    @Test func theTiersMustBeOrdered() {
        let found = issues(document(#""luld": {"tier1_min_price": 1.00, "tier2_min_price": 2.00}"#))
        #expect(found.paths == ["luld.tier2_min_price"])
        #expect(found.first?.message.contains("must be below luld.tier1_min_price") == true, "\(found)")
    }

    @Test func anOverrideMakesTheSectionPresent() throws {
        let loaded = try load(document(""), environment: ["RTES_LULD_PAUSE_MS": "30000"])
        #expect(loaded.configuration.luld.enabled)
        #expect(loaded.configuration.luld.rules.pauseNanoseconds == 30_000_000_000)
    }
}
