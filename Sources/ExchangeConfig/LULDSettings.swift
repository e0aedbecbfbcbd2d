import ExchangeCore

/// The `luld` section: limit-up/limit-down bands and pauses (docs/MATCHING.md §Limit up,
/// limit down). Off when the file has no `luld` object (and no environment override of a `luld`
/// field makes one); a present section turns it on, each absent field taking Nasdaq's value.
public struct LULDSettings: Sendable, Equatable {
    /// Whether the configuration has a `luld` section.
    public var enabled = false
    /// The tiers, the limit state's length and the pause's length.
    public var rules = LULDRules.nasdaq

    public init(enabled: Bool = false, rules: LULDRules = .nasdaq) {
        self.enabled = enabled
        self.rules = rules
    }
}
