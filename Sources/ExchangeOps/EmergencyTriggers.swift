import ExchangeConfig

/// The emergency triggers' logic (docs/OPERATIONS.md, "Emergency triggers"), pure: readings
/// and the time come in as parameters, firings go out. The supervisor thread
/// (`EmergencyMonitor`, driven by `ServiceMonitor`) feeds it once a turn.
///
/// Per condition: clear, then pending from the first turn its reading is at or above its
/// threshold, then fired once it has stayed there for `holdSeconds` — one firing per episode.
/// A reading below the threshold (or none) clears it, which re-arms it. A threshold of 0 is off.
public struct EmergencyTriggers: Sendable {
    /// What is watched. The raw value names the condition in metrics, logs and the journal's
    /// `emergency:<condition>` operator name.
    public enum Condition: String, Sendable, CaseIterable, Hashable {
        case memory
        case rejectRatio = "reject_ratio"
        case errorRate = "error_rate"
        case journalLag = "journal_lag"
        case replicationLag = "replication_lag"

        /// The reading's unit, for the record.
        var unit: String {
            switch self {
            case .memory: " MiB"
            case .rejectRatio: ""
            case .errorRate: " errors/s"
            case .journalLag, .replicationLag: " records"
            }
        }
    }

    /// One turn's readings; nil: not measured (no journal, no replication, no orders yet).
    public struct Readings: Sendable, Equatable {
        public var memoryMB: Double?
        public var rejectRatio: Double?
        public var errorsPerSecond: Double?
        public var journalLagRecords: Double?
        public var replicationLagRecords: Double?

        public init(memoryMB: Double? = nil, rejectRatio: Double? = nil, errorsPerSecond: Double? = nil,
                    journalLagRecords: Double? = nil, replicationLagRecords: Double? = nil) {
            self.memoryMB = memoryMB
            self.rejectRatio = rejectRatio
            self.errorsPerSecond = errorsPerSecond
            self.journalLagRecords = journalLagRecords
            self.replicationLagRecords = replicationLagRecords
        }

        public subscript(_ condition: Condition) -> Double? {
            switch condition {
            case .memory: memoryMB
            case .rejectRatio: rejectRatio
            case .errorRate: errorsPerSecond
            case .journalLag: journalLagRecords
            case .replicationLag: replicationLagRecords
            }
        }
    }

    public enum State: Sendable, Equatable {
        case clear
        /// At or above the threshold since `since`, not yet for `holdSeconds`.
        case pending(since: Double)
        /// Fired at `at`; stays so until the reading drops below the threshold.
        case fired(Firing)
    }

    /// Why a trigger fired: the record logged at critical, journaled as the reason of the
    /// action it took, and shown by /health.
    public struct Firing: Sendable, Equatable {
        public var condition: Condition
        public var action: EmergencySettings.Action
        public var value: Double
        public var threshold: Double
        /// How long the condition had held when it fired (at least `holdSeconds`).
        public var heldSeconds: Double
        /// When it fired (the monitor's monotonic seconds).
        public var at: Double

        /// `reject_ratio 0.62 >= 0.5 for 5 s: stop_new_orders` (printable ASCII, at most 160
        /// bytes: it goes into the journal's operator note).
        public var reason: String {
            let text = "\(condition.rawValue) \(Self.format(value))\(condition.unit) >= \(Self.format(threshold))\(condition.unit) "
                + "for \(Int(heldSeconds.rounded())) s: \(action.rawValue)"
            return String(text.prefix(160))
        }

        static func format(_ x: Double) -> String {
            if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
            let scaled = (x * 10_000).rounded() / 10_000
            return String(scaled)
        }
    }

    public let holdSeconds: Double
    /// Each condition that is on: its threshold and action.
    public let armed: [Condition: (threshold: Double, action: EmergencySettings.Action)]
    public private(set) var states: [Condition: State] = [:]
    /// Firings so far, per condition.
    public private(set) var firedTotal: [Condition: UInt64] = [:]

    public init(_ settings: EmergencySettings) {
        holdSeconds = Double(settings.holdSeconds)
        var armed: [Condition: (threshold: Double, action: EmergencySettings.Action)] = [:]
        if settings.memoryMB > 0 { armed[.memory] = (Double(settings.memoryMB), settings.memoryAction) }
        if settings.rejectRatioTenThousandths > 0 {
            armed[.rejectRatio] = (Double(settings.rejectRatioTenThousandths) / 10_000, settings.rejectRatioAction)
        }
        if settings.errorRatePerSecond > 0 { armed[.errorRate] = (Double(settings.errorRatePerSecond), settings.errorRateAction) }
        if settings.journalLagRecords > 0 { armed[.journalLag] = (Double(settings.journalLagRecords), settings.journalLagAction) }
        if settings.replicationLagRecords > 0 {
            armed[.replicationLag] = (Double(settings.replicationLagRecords), settings.replicationLagAction)
        }
        self.armed = armed
    }

    public func state(_ condition: Condition) -> State { states[condition] ?? .clear }

    /// Whether `condition` has fired and not yet cleared.
    public func isActive(_ condition: Condition) -> Bool {
        if case .fired = state(condition) { return true }
        return false
    }

    /// One turn at `now` (monotonic seconds): the triggers that fire now, each once per episode.
    public mutating func evaluate(_ readings: Readings, now: Double) -> [Firing] {
        var firings: [Firing] = []
        for condition in Condition.allCases {
            guard let entry = armed[condition] else { continue }
            let (threshold, action) = entry
            guard let value = readings[condition], value >= threshold else {
                states[condition] = .clear
                continue
            }
            switch state(condition) {
            case .clear:
                if holdSeconds <= 0 {
                    firings.append(fire(condition, action, value, threshold, since: now, now: now))
                } else {
                    states[condition] = .pending(since: now)
                }
            case .pending(let since):
                if now - since >= holdSeconds { firings.append(fire(condition, action, value, threshold, since: since, now: now)) }
            case .fired:
                break  // once per episode
            }
        }
        return firings
    }

    private mutating func fire(_ condition: Condition, _ action: EmergencySettings.Action, _ value: Double, _ threshold: Double,
                               since: Double, now: Double) -> Firing {
        let firing = Firing(condition: condition, action: action, value: value, threshold: threshold, heldSeconds: now - since, at: now)
        states[condition] = .fired(firing)
        firedTotal[condition, default: 0] += 1
        return firing
    }
}
