import ExchangeAccess
import ExchangeConfig
import ExchangeCore
import ExchangeGateway
import Foundation
import Synchronization

/// The admin plane's write actions (docs/OPERATIONS.md, "The admin API"): who may take them
/// (`operators` of the keys file, HTTP Basic authentication, over TLS when `admin.tls` is on,
/// each by its role), how failures are throttled and counted, and where an action goes: the
/// gateway's `OperatorActionQueue`, then the engine as journaled commands, preceded by the
/// `OperatorNote` records that say who took it and why.
///
/// Roles: `read_only` takes no action; `operator` halts and resumes, kills and reinstates an
/// account or a firm (every account of the keys file whose firm it is) and cancels all of
/// their orders; `admin` takes those and the exchange-wide kill switch and reinstatement, a
/// snapshot, and the start and end of the trading day.
///
/// Failed authentications are throttled across the plane: after `failuresPerSecond` in one
/// second, every further attempt in that second is refused 429 without checking it, so a
/// guesser gets at most that many guesses a second whatever it sends. Every refusal is counted
/// by reason. Every action taken and every refusal after authentication is an audit line; of
/// failed authentications the first few of each second are, then a count of the rest (never
/// a password).
public final class AdminActions: Sendable {
    public enum Refusal: String, CaseIterable, Sendable, Error {
        /// No Authorization header, or not Basic.
        case unauthenticated
        /// Unknown operator or wrong password.
        case badCredentials = "bad_credentials"
        /// An operator whose role may not take the action.
        case forbidden
        /// Too many failed authentications this second.
        case throttled
        /// The gateway has not taken earlier actions yet, or this exchange takes none (a
        /// standby), or it takes no snapshots (no journal).
        case unavailable
        /// A write without `reason=`.
        case missingReason = "missing_reason"
        /// A reason longer than `OperatorNote.maximumReasonBytes` or not printable ASCII.
        case invalidReason = "invalid_reason"
        /// An action the plane does not know, or its target not said as it must be.
        case invalidRequest = "invalid_request"
        /// A symbol, account or firm this exchange does not have.
        case unknownTarget = "unknown_target"
    }

    /// A refusal and what the answer says about it.
    public struct Refused: Error, Sendable, Equatable {
        public var refusal: Refusal
        public var message: String
    }

    /// What an action is taken on.
    public enum Target: Sendable, Equatable {
        /// A symbol (`.everySymbol`: the whole market).
        case symbol(Symbol)
        /// An account, by its username in the keys file.
        case account(String)
        /// Every account of the keys file whose firm this is.
        case firm(Firm)
        /// The exchange itself (kill switch, snapshot, the trading day).
        case exchange
    }

    /// One action asked for: what, on what, and why (nil: no `reason=`).
    public struct Request: Sendable, Equatable {
        public var action: OperatorNote.Action
        public var target: Target
        public var reason: String?

        public init(_ action: OperatorNote.Action, _ target: Target = .exchange, reason: String?) {
            self.action = action
            self.target = target
            self.reason = reason
        }
    }

    public static let failuresPerSecond = 10
    /// Failed authentications of one second logged one by one; the rest are counted in one line.
    static let loggedFailuresPerSecond = 3

    let operators: [String: APIKeys.Operator]
    /// Accounts by username: client ID (the keys file's index) and firm.
    let accounts: [String: (client: ClientID, firm: Firm)]
    /// Each firm's accounts, in the keys file's order.
    let firms: [Firm: [(username: String, client: ClientID)]]
    let queue: OperatorActionQueue?
    let snapshot: (@Sendable () -> Bool)?
    let audit: @Sendable (String) -> Void
    private let window = Mutex((second: Int64(0), failures: 0))
    private let refusals = Mutex([Refusal: UInt64]())
    private let taken = Mutex([OperatorNote.Action: UInt64]())

    /// `accounts`: the keys file's (account `i` is client `i`). `snapshot`: asks the snapshot
    /// agent for a day snapshot; nil: the exchange takes none (no journal).
    public init(operators: [APIKeys.Operator], accounts: [APIKeys.Account] = [], queue: OperatorActionQueue?,
                snapshot: (@Sendable () -> Bool)? = nil, audit: @escaping @Sendable (String) -> Void = { _ in }) {
        var byName: [String: APIKeys.Operator] = [:]
        for o in operators { byName[o.username] = o }
        self.operators = byName
        var accountsByName: [String: (client: ClientID, firm: Firm)] = [:]
        var firms: [Firm: [(username: String, client: ClientID)]] = [:]
        for (i, account) in accounts.enumerated() {
            accountsByName[account.username] = (ClientID(i), account.firm)
            firms[account.firm, default: []].append((account.username, ClientID(i)))
        }
        self.accounts = accountsByName
        self.firms = firms
        self.queue = queue
        self.snapshot = snapshot
        self.audit = audit
    }

    /// Whether `role` may take `action`.
    public static func permits(_ role: APIKeys.Operator.Role, _ action: OperatorNote.Action) -> Bool {
        switch role {
        case .readOnly: false
        case .operator:
            switch action {
            case .halt, .resume, .killAccount, .killFirm, .reinstateAccount, .reinstateFirm, .cancelAllAccount, .cancelAllFirm: true
            case .killExchange, .reinstateExchange, .snapshot, .startDay, .endDay: false
            }
        case .admin: true
        }
    }

    /// Whether another failed attempt may be checked now (the throttle's verdict); counts the
    /// attempt when it may not.
    func admits(now: Int64 = Int64(Date().timeIntervalSince1970)) -> Bool {
        let open = window.withLock { w in
            if w.second != now { w = (now, 0) }
            return w.failures < Self.failuresPerSecond
        }
        if !open { count(.throttled) }
        return open
    }

    /// Checks an `Authorization` header (slow: a scrypt derivation; off the event loop).
    func authenticate(_ header: String?, now: Int64 = Int64(Date().timeIntervalSince1970)) -> Result<APIKeys.Operator, Refusal> {
        guard let header, header.lowercased().hasPrefix("basic "),
              let decoded = Base64.decode(header.dropFirst(6).trimmingCharacters(in: .whitespaces)),
              let colon = decoded.firstIndex(of: 0x3A) else {
            return .failure(fail(.unauthenticated, now: now, who: nil))
        }
        let username = String(decoding: decoded[..<colon], as: UTF8.self)
        let password = Array(decoded[(colon + 1)...])
        guard let person = operators[username] else { return .failure(fail(.badCredentials, now: now, who: username)) }
        let verified = switch person.credential {
        case .scrypt(let hash): hash.verifies(password)
        case .plain(let secret): constantTimeEqual(password, Array(secret.reveal().utf8))
        }
        return verified ? .success(person) : .failure(fail(.badCredentials, now: now, who: username))
    }

    private func fail(_ refusal: Refusal, now: Int64, who: String?) -> Refusal {
        let (failures, unlogged) = window.withLock { w in
            // A new second: how many of the last one's went unlogged.
            var unlogged = 0
            if w.second != now {
                unlogged = max(0, w.failures - Self.loggedFailuresPerSecond)
                w = (now, 0)
            }
            w.failures += 1
            return (w.failures, unlogged)
        }
        count(refusal)
        if unlogged > 0 { audit("admin: \(unlogged) more failed authentication(s) in the second before (not logged one by one)") }
        if failures <= Self.loggedFailuresPerSecond {
            // The name only when it is an operator's: a mistyped password in the username field stays out of the log.
            var name = ""
            if let who { name = operators[who] != nil ? " as \(who)" : " (unknown operator)" }
            audit("admin: refused an action\(name): \(refusal == .unauthenticated ? "no Basic credentials" : "wrong credentials")")
        }
        return refusal
    }

    func count(_ refusal: Refusal) {
        refusals.withLock { $0[refusal, default: 0] += 1 }
    }

    /// Counts and logs a refusal before authentication (a malformed request, an unknown
    /// symbol): `what` says what was asked, never the credentials.
    func refuse(_ refusal: Refusal, _ message: String, what: String) -> Refused {
        count(refusal)
        audit("admin: refused \(what) (unauthenticated request): \(message)")
        return Refused(refusal: refusal, message: message)
    }

    /// Takes `request` on behalf of `person` (authenticated): checks the role, the reason and
    /// the target, queues the note and the commands for the engine, and answers the JSON that
    /// says what it changed — or why not.
    func take(_ request: Request, by person: APIKeys.Operator) -> Result<String, Refused> {
        let what = describe(request)
        func refuse(_ refusal: Refusal, _ message: String) -> Result<String, Refused> {
            count(refusal)
            audit("admin: refused \(person) \(what): \(message)")
            return .failure(Refused(refusal: refusal, message: message))
        }
        guard Self.permits(person.role, request.action) else {
            return refuse(.forbidden, "the \(person.role.rawValue) role may not \(request.action)")
        }
        guard let reason = request.reason, !reason.isEmpty else {
            return refuse(.missingReason, "a reason is required (reason=…, 1 to \(OperatorNote.maximumReasonBytes) printable ASCII characters)")
        }
        guard OperatorNote.isValidReason(reason) else {
            return refuse(.invalidReason, "the reason must be 1 to \(OperatorNote.maximumReasonBytes) printable ASCII characters")
        }
        // The commands, and what the answer names.
        var commands: [EngineCommand] = []
        var subject: UInt64 = 0
        var affected: [(username: String, client: ClientID)] = []
        var targetJSON = ""
        switch (request.action.subjectKind, request.target) {
        case (.symbol, .symbol(let symbol)):
            subject = symbol.rawValue
            commands = [.tradingPhase(PhaseCommand(timestamp: 0, symbol: symbol, action: request.action == .halt ? .halt : .resume))]
            targetJSON = #""symbol":\#(symbol == .everySymbol ? "null" : quote(symbol.description))"#
        case (.account, .account(let username)):
            guard let account = accounts[username] else { return refuse(.unknownTarget, "no account \(username) in the keys file") }
            subject = UInt64(account.client)
            affected = [(username, account.client)]
            targetJSON = #""account":\#(quote(username))"#
        case (.firm, .firm(let firm)):
            guard let members = firms[firm], !members.isEmpty else {
                return refuse(.unknownTarget, "no account of firm \(firm) in the keys file")
            }
            subject = UInt64(firm.rawValue)
            affected = members
            targetJSON = #""firm":\#(quote(firm.description))"#
        case (.none, .exchange):
            switch request.action {
            case .killExchange: commands = [.killExchange(0)]
            case .reinstateExchange: commands = [.reinstateExchange(0)]
            case .startDay: commands = [.startOfDay(0)]
            case .endDay: commands = [.endOfDay(0)]
            default: break  // a snapshot: no engine command
            }
        default:
            return refuse(.invalidRequest, "\(request.action) does not take that target")
        }
        for (_, client) in affected {
            let a = ClientAction(timestamp: 0, client: client)
            switch request.action {
            case .killAccount, .killFirm: commands.append(.killClient(a))
            case .reinstateAccount, .reinstateFirm: commands.append(.reinstateClient(a))
            default: commands.append(.cancelAll(a))
            }
        }
        guard let notes = OperatorNote.records(action: request.action, subject: subject, who: person.username, reason: reason) else {
            return refuse(.invalidRequest, "the operator's name cannot go into the journal")
        }
        guard let queue else {
            return refuse(.unavailable, "this exchange takes no actions now (not serving: a standby, or stopping)")
        }
        if request.action == .snapshot && snapshot == nil {
            return refuse(.unavailable, "this exchange takes no snapshots (no journal: durability off)")
        }
        let queued = notes.map { OperatorActionQueue.Action(.operatorNote($0)) } + commands.map { OperatorActionQueue.Action($0) }
        guard queued.count <= queue.capacity else {
            return refuse(.unavailable, "the action needs \(queued.count) commands, more than the operators' queue holds (\(queue.capacity))")
        }
        guard queue.offer(queued) else {
            return refuse(.unavailable, "the gateway has not taken earlier actions yet (or is not serving); try again")
        }
        // The snapshot agent writes it at the next command boundary (as on SIGUSR1).
        if request.action == .snapshot { _ = snapshot?() }
        taken.withLock { $0[request.action, default: 0] += 1 }
        audit("admin: \(person) took \(what)"
            + (affected.isEmpty ? "" : " (accounts \(affected.map(\.username).joined(separator: ", ")))") + ": \(reason)")
        let accountsJSON = affected.isEmpty ? "" : #","accounts":[\#(affected.map { quote($0.username) }.joined(separator: ","))]"#
        let commandsJSON = commands.map { quote(Self.commandText($0)) }.joined(separator: ",")
        return .success(#"{"action":"\#(request.action)","operator":\#(quote(person.username)),"reason":\#(quote(reason))"#
            + (targetJSON.isEmpty ? "" : "," + targetJSON) + accountsJSON
            + #","commands":[\#(commandsJSON)],"note_records":\#(notes.count),"snapshot_requested":\#(request.action == .snapshot),"#
            + #""journal_sequence":null,"queued":true}"#)
    }

    /// An engine command as the answer names it (`kill_client 3`, `trading_phase halt AAPL`).
    static func commandText(_ command: EngineCommand) -> String {
        switch command {
        case .killClient(let a): "kill_client \(a.client)"
        case .reinstateClient(let a): "reinstate_client \(a.client)"
        case .cancelAll(let a): "cancel_all \(a.client)"
        case .killExchange: "kill_exchange"
        case .reinstateExchange: "reinstate_exchange"
        case .startOfDay: "start_of_day"
        case .endOfDay: "end_of_day"
        case .tradingPhase(let p): "trading_phase \(p.action) \(p.isMarketWide ? "*" : p.symbol.description)"
        default: "\(command)"
        }
    }

    /// `kill firm ACME`, `halt AAPL`, `snapshot` — for audit lines.
    func describe(_ request: Request) -> String {
        switch request.target {
        case .symbol(let s): "\(request.action) \(s == .everySymbol ? "the whole market" : s.description)"
        case .account(let name): "\(request.action) account \(name)"
        case .firm(let firm): "\(request.action) firm \(firm)"
        case .exchange: "\(request.action)"
        }
    }

    func metrics(_ out: inout PrometheusText) {
        let refused = refusals.withLock { $0 }
        out.metric("rtes_admin_action_refusals_total", "counter", "Admin actions refused, by reason.",
                   Refusal.allCases.map { (#"{reason="\#($0.rawValue)"}"#, String(refused[$0] ?? 0)) })
        let done = taken.withLock { $0 }
        out.metric("rtes_admin_actions_total", "counter", "Admin actions queued for the engine, by action.",
                   OperatorNote.Action.allCases.map { (#"{action="\#($0)"}"#, String(done[$0] ?? 0)) })
    }
}
