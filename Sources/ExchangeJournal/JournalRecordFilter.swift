import ExchangeCore
import ExchangeEngine

/// Which records `rtes-journal dump` prints: every condition given must hold. A command
/// that does not carry a field (a cancel names no symbol; start of day names no account)
/// does not match a condition on it — follow an order by its token.
public struct JournalRecordFilter: Equatable, Sendable {
    public var account: ClientID?
    /// Matches an Enter, Cancel, Modify or Refusal's token and a Replace's old or new one.
    public var token: OrderToken?
    /// Matches an Enter, a halt and a resume.
    public var symbol: Symbol?
    public var fromSequence: UInt64?
    public var toSequence: UInt64?
    /// Empty: every kind.
    public var kinds: Set<JournalRecord.Kind>

    public init(account: ClientID? = nil, token: OrderToken? = nil, symbol: Symbol? = nil,
                fromSequence: UInt64? = nil, toSequence: UInt64? = nil, kinds: Set<JournalRecord.Kind> = []) {
        self.account = account
        self.token = token
        self.symbol = symbol
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.kinds = kinds
    }

    /// The kind named as `dump` prints it (`enter`, `cancel_all`, `start_of_day`, …).
    public static func kind(named name: String) -> JournalRecord.Kind? {
        JournalRecord.Kind.allCases.first { $0.description == name }
    }

    public func matches(_ record: SequencedCommand) -> Bool {
        if let fromSequence, record.sequence < fromSequence { return false }
        if let toSequence, record.sequence > toSequence { return false }
        let command = record.command
        if !kinds.isEmpty && !kinds.contains(JournalRecord.Kind(command)) { return false }
        if let account {
            guard let client = Self.client(command), client == account else { return false }
        }
        if let token {
            switch command {
            case .enter(let c): guard c.token == token else { return false }
            case .replace(let c): guard c.existingToken == token || c.replacementToken == token else { return false }
            case .cancel(let c): guard c.token == token else { return false }
            case .modify(let c): guard c.token == token else { return false }
            case .refuse(let r): guard r.token == token else { return false }
            default: return false
            }
        }
        if let symbol {
            switch command {
            case .enter(let c): guard c.symbol == symbol else { return false }
            case .haltInstrument(let a), .resumeInstrument(let a): guard a.symbol == symbol else { return false }
            case .tradingPhase(let c): guard c.isMarketWide || c.symbol == symbol else { return false }
            case .operatorNote(let n): guard n.action.subjectKind == .symbol && (n.subject == 0 || n.subject == symbol.rawValue) else { return false }
            default: return false
            }
        }
        return true
    }

    static func client(_ command: EngineCommand) -> ClientID? {
        switch command {
        case .enter(let c): c.client
        case .replace(let c): c.client
        case .cancel(let c): c.client
        case .modify(let c): c.client
        case .cancelAll(let a), .killClient(let a), .reinstateClient(let a): a.client
        case .refuse(let r): r.client
        case .session(let e): e.client
        case .fixSession(let f): f.client
        case .operatorNote(let n): n.action.subjectKind == .account ? ClientID(truncatingIfNeeded: n.subject) : nil
        case .killExchange, .reinstateExchange, .haltInstrument, .resumeInstrument, .advanceTime, .startOfDay, .endOfDay, .leadership,
             .tradingPhase: nil
        }
    }
}
