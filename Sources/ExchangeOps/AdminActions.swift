import ExchangeAccess
import ExchangeConfig
import ExchangeCore
import ExchangeGateway
import Foundation
import Synchronization

/// The admin plane's write actions (docs/OPERATIONS.md, "Halting and resuming"): who may take
/// them (`operators` of the keys file, HTTP Basic authentication, over TLS when `admin.tls` is
/// on), how failures are throttled and counted, and where an action goes (the gateway's
/// `OperatorActionQueue`, then the engine as a journaled phase command).
///
/// Failed authentications are throttled across the plane: after `failuresPerSecond` in one
/// second, every further attempt in that second is refused 429 without checking it, so a
/// guesser gets at most that many guesses a second whatever it sends. Each refusal is counted
/// by reason and the first few of each second logged (never with the password).
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
        /// The gateway has not taken earlier actions yet, or this exchange takes none (a standby).
        case unavailable
    }

    public static let failuresPerSecond = 10

    let operators: [String: APIKeys.Operator]
    let queue: OperatorActionQueue?
    let audit: @Sendable (String) -> Void
    private let window = Mutex((second: Int64(0), failures: 0))
    private let refusals = Mutex([Refusal: UInt64]())
    private let taken = Mutex([PhaseAction: UInt64]())

    public init(operators: [APIKeys.Operator], queue: OperatorActionQueue?, audit: @escaping @Sendable (String) -> Void = { _ in }) {
        var byName: [String: APIKeys.Operator] = [:]
        for o in operators { byName[o.username] = o }
        self.operators = byName
        self.queue = queue
        self.audit = audit
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
        let failures = window.withLock { w in
            if w.second != now { w = (now, 0) }
            w.failures += 1
            return w.failures
        }
        count(refusal)
        if failures <= 3 {
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

    /// Queues `action` for `symbol` (`.everySymbol`: the whole market) on behalf of `person`.
    func take(_ action: PhaseAction, symbol: Symbol, by person: APIKeys.Operator, reason: String) -> Refusal? {
        guard person.role.mayHalt else {
            count(.forbidden)
            audit("admin: \(person) may not \(action)")
            return .forbidden
        }
        guard let queue, queue.offer(.init(symbol: symbol, action: action)) else {
            count(.unavailable)
            return .unavailable
        }
        taken.withLock { $0[action, default: 0] += 1 }
        let target = symbol == .everySymbol ? "the whole market" : symbol.description
        audit("admin: \(person) asked to \(action) \(target)\(reason.isEmpty ? "" : ": \(reason)")")
        return nil
    }

    func metrics(_ out: inout PrometheusText) {
        let refused = refusals.withLock { $0 }
        out.metric("rtes_admin_action_refusals_total", "counter", "Admin actions refused, by reason.",
                   Refusal.allCases.map { (#"{reason="\#($0.rawValue)"}"#, String(refused[$0] ?? 0)) })
        let done = taken.withLock { $0 }
        out.metric("rtes_admin_actions_total", "counter", "Admin actions queued for the engine, by action.",
                   [PhaseAction.halt, .resume].map { (#"{action="\#($0)"}"#, String(done[$0] ?? 0)) })
    }
}
