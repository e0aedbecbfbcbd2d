import ExchangeCore
import ExchangeRisk

// The engine as the exchange runs it, built in one place: the live exchange (Appliance),
// recovery and `rtes-journal replay` must all build the same engine from the same
// configuration and API keys, or replaying the journal would give another state.
extension ExchangeConfiguration {
    /// The risk-checked engine of this configuration: the engine's sizes and rules
    /// (`engineConfiguration()`), the exchange's risk limits (`riskLimits`), and each
    /// account's own limits from the API keys file (account `i` is client `i`). Per-account
    /// limits change outcomes (a size or rate reject), so a replay that left them out would
    /// reach another state.
    ///
    /// - Parameters:
    ///   - keys: the accounts of the API keys file (`RTES_API_KEYS_FILE`).
    ///   - region: where the engine's state lives — the exchange passes its `engine` region
    ///     (at least `MatchingEngine.requiredBytes(for: engineConfiguration())` bytes, aligned
    ///     to 128, outliving the engine); nil puts it on the heap (tools, tests).
    public func makeRiskCheckedEngine(keys: APIKeys, region: UnsafeMutableRawPointer? = nil) -> RiskCheckedEngine {
        let configuration = engineConfiguration()
        let limits = riskLimits
        var engine: RiskCheckedEngine
        if let region {
            engine = RiskCheckedEngine(engine: MatchingEngine(configuration: configuration, region: region), limits: limits)
        } else {
            engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        }
        for (client, account) in keys.accounts.enumerated() {
            let own = account.limits(defaults: limits)
            if own != limits { engine.setLimits(own, forClient: ClientID(client)) }
        }
        return engine
    }
}
