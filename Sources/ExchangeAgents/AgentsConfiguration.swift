import Foundation

/// The population and its parameters: a small JSON file (docs/AGENTS.md). Every member is
/// optional and has the default shown here; unknown members are refused, so a misspelt one
/// is not silently ignored. `validated()` names every problem it finds.
public struct AgentsConfiguration: Equatable, Sendable {
    /// Seeds the fair value and every agent's decisions.
    public var seed: UInt64 = 1
    /// How often each agent decides (milliseconds).
    public var decisionIntervalMilliseconds = 100
    /// Accounts, one session each, given to the agents in order: makers first, then noise
    /// traders, momentum and mean-reversion takers.
    public var accounts = (1...8).map { "LOAD\($0)" }
    /// Symbols to trade (empty: every symbol of the exchange).
    public var symbols: [String] = []
    /// Per agent: open orders at most, and messages (enter, replace, cancel) in any one second.
    public var maxOpenOrders = 12
    public var maxMessagesPerSecond = 20
    /// Per agent and symbol: the position (shares, long or short) it never exceeds, counting
    /// its open orders as if they filled.
    public var maxPosition: Int = 2_000
    /// After a reject: no decision for this long, doubled on each reject in a row up to 5 s.
    public var rejectBackoffMilliseconds = 200

    public var fairValue = FairValueParameters()
    public var makers = MakerParameters()
    public var noise = NoiseParameters()
    public var momentum = TakerParameters()
    public var meanReversion = TakerParameters()

    public struct FairValueParameters: Equatable, Sendable {
        /// One step of the walk every `stepMilliseconds`: a normal move of `volatilityBasisPoints`.
        public var stepMilliseconds = 100
        public var volatilityBasisPoints = 2.0
        /// The chance of a jump at each step, and its size (either direction).
        public var jumpProbability = 0.002
        public var jumpBasisPoints = 50.0
        /// The walk stays within this many percent of the symbol's reference price (inside
        /// the exchange's price collar).
        public var maxDriftPercent = 5.0
        /// A shock every `shockIntervalSeconds` (0: none): one symbol at a time, in turn, moves
        /// `shockPercent` at once, away from the side of its reference it is on — the kind of
        /// move that meets the exchange's limit-up/limit-down bands.
        public var shockIntervalSeconds = 0
        public var shockPercent = 8.0
        public init() {}
    }

    public struct MakerParameters: Equatable, Sendable {
        public var count = 2
        public var quoteShares = 100
        /// The quoted spread in ticks: `minSpreadTicks` in a quiet market, wider with the
        /// recent volatility of trades, never more than `maxSpreadTicks`.
        public var minSpreadTicks = 2
        public var maxSpreadTicks = 20
        /// Extra ticks of spread per basis point of recent volatility.
        public var volatilitySpreadFactor = 1.0
        /// Trades the volatility is measured over.
        public var volatilityWindow = 20
        /// The quotes move one tick away from the position per this many shares held.
        public var skewSharesPerTick = 200
        public init() {}
    }

    public struct NoiseParameters: Equatable, Sendable {
        public var count = 2
        /// The chance to act at each decision.
        public var activity = 0.5
        public var maxShares = 200
        /// The chance an order is marketable (immediate-or-cancel through the touch) rather than resting.
        public var marketableProbability = 0.4
        /// Resting orders go up to this many ticks behind the fair value.
        public var restingTicks = 10
        public init() {}
    }

    public struct TakerParameters: Equatable, Sendable {
        public var count = 1
        public var maxShares = 200
        /// Trades looked back over, and the move (basis points) that triggers an order.
        public var lookback = 10
        public var thresholdBasisPoints = 3.0
        public init() {}
    }

    public init() {}

    public var agentCount: Int { makers.count + noise.count + momentum.count + meanReversion.count }

    /// The largest order any agent may send.
    public var largestOrder: Int { max(makers.quoteShares, noise.maxShares, momentum.maxShares, meanReversion.maxShares) }

    /// The problems with these values, in words (empty: none); `maxOrderSize`: the exchange's
    /// `risk.max_order_size`, which no agent's order may pass.
    public func problems(symbolCount: Int, maxOrderSize: Int? = nil) -> [String] {
        var p: [String] = []
        if let maxOrderSize, largestOrder > maxOrderSize {
            p.append("an agent may send \(largestOrder) shares, above the exchange's risk.max_order_size (\(maxOrderSize))")
        }
        func positive(_ value: Int, _ name: String) { if value < 1 { p.append("\(name) is \(value): it must be at least 1") } }
        func nonNegative(_ value: Int, _ name: String) { if value < 0 { p.append("\(name) is \(value): it must be 0 or more") } }
        func probability(_ value: Double, _ name: String) {
            if !(value >= 0 && value <= 1) { p.append("\(name) is \(value): it must be between 0 and 1") }
        }
        positive(decisionIntervalMilliseconds, "decision_interval_ms")
        positive(maxOpenOrders, "max_open_orders")
        positive(maxMessagesPerSecond, "max_messages_per_second")
        positive(maxPosition, "max_position")
        positive(rejectBackoffMilliseconds, "reject_backoff_ms")
        positive(fairValue.stepMilliseconds, "fair_value.step_ms")
        if !(fairValue.volatilityBasisPoints >= 0 && fairValue.volatilityBasisPoints <= 1_000) {
            p.append("fair_value.volatility_bps is \(fairValue.volatilityBasisPoints): it must be between 0 and 1000")
        }
        probability(fairValue.jumpProbability, "fair_value.jump_probability")
        if !(fairValue.jumpBasisPoints >= 0 && fairValue.jumpBasisPoints <= 2_000) {
            p.append("fair_value.jump_bps is \(fairValue.jumpBasisPoints): it must be between 0 and 2000")
        }
        if !(fairValue.maxDriftPercent > 0 && fairValue.maxDriftPercent < 50) {
            p.append("fair_value.max_drift_pct is \(fairValue.maxDriftPercent): it must be above 0 and below 50")
        }
        nonNegative(fairValue.shockIntervalSeconds, "fair_value.shock_interval_s")
        if fairValue.shockIntervalSeconds > 0 && !(fairValue.shockPercent > 0 && fairValue.shockPercent <= fairValue.maxDriftPercent) {
            p.append("fair_value.shock_pct is \(fairValue.shockPercent): it must be above 0 and at most max_drift_pct (\(fairValue.maxDriftPercent))")
        }
        nonNegative(makers.count, "market_makers.count")
        positive(makers.quoteShares, "market_makers.quote_shares")
        positive(makers.minSpreadTicks, "market_makers.min_spread_ticks")
        if makers.maxSpreadTicks < makers.minSpreadTicks {
            p.append("market_makers.max_spread_ticks (\(makers.maxSpreadTicks)) is below min_spread_ticks (\(makers.minSpreadTicks))")
        }
        if makers.volatilitySpreadFactor < 0 { p.append("market_makers.volatility_spread_factor must be 0 or more") }
        positive(makers.volatilityWindow, "market_makers.volatility_window")
        positive(makers.skewSharesPerTick, "market_makers.skew_shares_per_tick")
        if makers.count > 0 && maxOpenOrders < 2 * symbolCount {
            p.append("max_open_orders (\(maxOpenOrders)) is below 2 × \(symbolCount) symbols: a market maker quotes both sides of each")
        }
        if makers.quoteShares > maxPosition {
            p.append("market_makers.quote_shares (\(makers.quoteShares)) is above max_position (\(maxPosition))")
        }
        nonNegative(noise.count, "noise_traders.count")
        probability(noise.activity, "noise_traders.activity")
        positive(noise.maxShares, "noise_traders.max_shares")
        probability(noise.marketableProbability, "noise_traders.marketable_probability")
        positive(noise.restingTicks, "noise_traders.resting_ticks")
        for (taker, name) in [(momentum, "momentum_traders"), (meanReversion, "mean_reversion_traders")] {
            nonNegative(taker.count, "\(name).count")
            positive(taker.maxShares, "\(name).max_shares")
            if taker.lookback < 2 { p.append("\(name).lookback is \(taker.lookback): it must be at least 2") }
            if !(taker.thresholdBasisPoints >= 0) { p.append("\(name).threshold_bps must be 0 or more") }
        }
        if agentCount < 1 { p.append("the population is empty: every count is 0") }
        if agentCount > accounts.count {
            p.append("\(agentCount) agents but \(accounts.count) accounts: each agent needs its own account (one session each)")
        }
        if Set(accounts).count != accounts.count { p.append("accounts repeat a name: each session needs its own account") }
        for name in accounts where name.isEmpty || name.count > 6 || !name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) {
            p.append("account \"\(name)\": 1 to 6 printable ASCII characters")
        }
        return p
    }
}

/// A configuration that cannot be used, with every reason.
public struct AgentsConfigurationError: Error, CustomStringConvertible {
    public var source: String
    public var problems: [String]
    public var description: String { "\(source): " + problems.joined(separator: "; ") }
}

extension AgentsConfiguration {
    /// Reads the JSON text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws(AgentsConfigurationError) -> AgentsConfiguration {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw AgentsConfigurationError(source: source, problems: ["not JSON: \(error.localizedDescription)"])
        }
        guard let root = object as? [String: Any] else { throw AgentsConfigurationError(source: source, problems: ["not a JSON object"]) }
        var reader = Reader()
        var c = AgentsConfiguration()
        reader.object(root, "", allowed: ["seed", "decision_interval_ms", "accounts", "symbols", "max_open_orders", "max_messages_per_second",
                                          "max_position", "reject_backoff_ms", "fair_value", "market_makers", "noise_traders",
                                          "momentum_traders", "mean_reversion_traders"])
        if let v = reader.int(root, "seed") {
            if v < 0 { reader.problems.append("seed is \(v): it must be 0 or more") } else { c.seed = UInt64(v) }
        }
        reader.int(root, "decision_interval_ms").map { c.decisionIntervalMilliseconds = $0 }
        reader.strings(root, "accounts").map { c.accounts = $0 }
        reader.strings(root, "symbols").map { c.symbols = $0 }
        reader.int(root, "max_open_orders").map { c.maxOpenOrders = $0 }
        reader.int(root, "max_messages_per_second").map { c.maxMessagesPerSecond = $0 }
        reader.int(root, "max_position").map { c.maxPosition = $0 }
        reader.int(root, "reject_backoff_ms").map { c.rejectBackoffMilliseconds = $0 }
        if let f = reader.section(root, "fair_value", allowed: ["step_ms", "volatility_bps", "jump_probability", "jump_bps", "max_drift_pct",
                                                                 "shock_interval_s", "shock_pct"]) {
            reader.int(f, "step_ms", in: "fair_value").map { c.fairValue.stepMilliseconds = $0 }
            reader.double(f, "volatility_bps", in: "fair_value").map { c.fairValue.volatilityBasisPoints = $0 }
            reader.double(f, "jump_probability", in: "fair_value").map { c.fairValue.jumpProbability = $0 }
            reader.double(f, "jump_bps", in: "fair_value").map { c.fairValue.jumpBasisPoints = $0 }
            reader.double(f, "max_drift_pct", in: "fair_value").map { c.fairValue.maxDriftPercent = $0 }
            reader.int(f, "shock_interval_s", in: "fair_value").map { c.fairValue.shockIntervalSeconds = $0 }
            reader.double(f, "shock_pct", in: "fair_value").map { c.fairValue.shockPercent = $0 }
        }
        if let m = reader.section(root, "market_makers", allowed: ["count", "quote_shares", "min_spread_ticks", "max_spread_ticks",
                                                                   "volatility_spread_factor", "volatility_window", "skew_shares_per_tick"]) {
            let s = "market_makers"
            reader.int(m, "count", in: s).map { c.makers.count = $0 }
            reader.int(m, "quote_shares", in: s).map { c.makers.quoteShares = $0 }
            reader.int(m, "min_spread_ticks", in: s).map { c.makers.minSpreadTicks = $0 }
            reader.int(m, "max_spread_ticks", in: s).map { c.makers.maxSpreadTicks = $0 }
            reader.double(m, "volatility_spread_factor", in: s).map { c.makers.volatilitySpreadFactor = $0 }
            reader.int(m, "volatility_window", in: s).map { c.makers.volatilityWindow = $0 }
            reader.int(m, "skew_shares_per_tick", in: s).map { c.makers.skewSharesPerTick = $0 }
        }
        if let n = reader.section(root, "noise_traders", allowed: ["count", "activity", "max_shares", "marketable_probability", "resting_ticks"]) {
            let s = "noise_traders"
            reader.int(n, "count", in: s).map { c.noise.count = $0 }
            reader.double(n, "activity", in: s).map { c.noise.activity = $0 }
            reader.int(n, "max_shares", in: s).map { c.noise.maxShares = $0 }
            reader.double(n, "marketable_probability", in: s).map { c.noise.marketableProbability = $0 }
            reader.int(n, "resting_ticks", in: s).map { c.noise.restingTicks = $0 }
        }
        for (key, path) in [("momentum_traders", \AgentsConfiguration.momentum), ("mean_reversion_traders", \AgentsConfiguration.meanReversion)] {
            if let t = reader.section(root, key, allowed: ["count", "max_shares", "lookback", "threshold_bps"]) {
                reader.int(t, "count", in: key).map { c[keyPath: path].count = $0 }
                reader.int(t, "max_shares", in: key).map { c[keyPath: path].maxShares = $0 }
                reader.int(t, "lookback", in: key).map { c[keyPath: path].lookback = $0 }
                reader.double(t, "threshold_bps", in: key).map { c[keyPath: path].thresholdBasisPoints = $0 }
            }
        }
        guard reader.problems.isEmpty else { throw AgentsConfigurationError(source: source, problems: reader.problems) }
        return c
    }

    /// Reads and parses a file.
    public static func load(path: String) throws(AgentsConfigurationError) -> AgentsConfiguration {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw AgentsConfigurationError(source: path, problems: ["cannot be read (missing, unreadable, or above 1 MiB)"])
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Members read with their names in problems.
    struct Reader {
        var problems: [String] = []

        mutating func object(_ o: [String: Any], _ prefix: String, allowed: Set<String>) {
            for key in o.keys.sorted() where !allowed.contains(key) {
                problems.append("unknown member \"\(prefix)\(key)\" (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }

        mutating func section(_ o: [String: Any], _ key: String, allowed: Set<String>) -> [String: Any]? {
            guard let value = o[key] else { return nil }
            guard let s = value as? [String: Any] else {
                problems.append("\(key) must be an object")
                return nil
            }
            object(s, key + ".", allowed: allowed)
            return s
        }

        mutating func int(_ o: [String: Any], _ key: String, in section: String? = nil) -> Int? {
            guard let value = o[key] else { return nil }
            let name = section.map { "\($0).\(key)" } ?? key
            guard let n = value as? NSNumber, let i = Int(exactly: n.doubleValue),
                  Double(i) == n.doubleValue, abs(i) <= 1 << 53 else {
                problems.append("\(name) must be a whole number, not \(value)")
                return nil
            }
            return i
        }

        mutating func double(_ o: [String: Any], _ key: String, in section: String? = nil) -> Double? {
            guard let value = o[key] else { return nil }
            let name = section.map { "\($0).\(key)" } ?? key
            guard let n = value as? NSNumber, n.doubleValue.isFinite else {
                problems.append("\(name) must be a number, not \(value)")
                return nil
            }
            return n.doubleValue
        }

        mutating func strings(_ o: [String: Any], _ key: String) -> [String]? {
            guard let value = o[key] else { return nil }
            guard let list = value as? [String] else {
                problems.append("\(key) must be a list of strings")
                return nil
            }
            return list
        }
    }
}
