import ExchangeCore
import ExchangeWire

/// What the authenticator makes of one service's reject notices for the debug log: one line
/// per account, reason and answer per window (a second), with the count and the first token,
/// so that a flood of rejects costs a bounded number of lines, never one line per order.
///
/// Bounded three ways: at most `maxLines` account–reason lines per window (further notices
/// are counted in one "more" line); notices the service could not push because the ring was
/// full are told as one "not logged" line with their count; and the table holds at most
/// `maxLines` entries. A window opens with the first notice (or drop) after a quiet time and
/// closes `windowNanoseconds` later, on the authenticator's clock — a `ManualClock` in tests.
public struct RejectDigest {
    /// One line's subject.
    public struct Key: Hashable, Sendable {
        public var account: Int32
        public var reason: RejectReason
        public var answer: RejectNotice.Answer
    }

    struct Tally {
        var count: UInt64
        var firstToken: OrderToken
    }

    public let windowNanoseconds: UInt64
    public let maxLines: Int
    var tallies: [Key: Tally] = [:]
    /// Keys in the order they first appeared in the window, so that lines come out in that order.
    var order: [Key] = []
    /// Notices of the window past `maxLines` distinct keys.
    var overflow: UInt64 = 0
    /// When the open window closes; nil while quiet.
    var windowEnds: UInt64?
    /// The service's drop count, as last seen and as last logged.
    var droppedSeen: UInt64 = 0
    var droppedLogged: UInt64 = 0

    public init(windowNanoseconds: UInt64 = 1_000_000_000, maxLines: Int = 64) {
        precondition(maxLines > 0, "a reject digest needs room for at least one line")
        self.windowNanoseconds = windowNanoseconds
        self.maxLines = maxLines
        tallies.reserveCapacity(maxLines)
        order.reserveCapacity(maxLines)
    }

    /// Counts one notice into the open window (opening one if quiet).
    public mutating func add(_ notice: RejectNotice, now: UInt64) {
        open(now)
        let key = Key(account: notice.account, reason: notice.reason, answer: notice.answer)
        if let index = tallies.index(forKey: key) {
            tallies.values[index].count &+= 1
        } else if order.count < maxLines {
            tallies[key] = Tally(count: 1, firstToken: notice.token)
            order.append(key)
        } else {
            overflow &+= 1
        }
    }

    /// Takes the service's running count of dropped notices; a rise opens a window.
    public mutating func noteDropped(total: UInt64, now: UInt64) {
        guard total > droppedSeen else { return }
        droppedSeen = total
        open(now)
    }

    /// Whether a window is open and has ended at `now`.
    public func isDue(now: UInt64) -> Bool {
        guard let windowEnds else { return false }
        return now >= windowEnds
    }

    /// The lines of the window once it has ended at `now` (none before), and a fresh start.
    /// - Parameter accountName: the account's username (never anything secret).
    public mutating func closeWindow(now: UInt64, service: String, accountName: (Int32) -> String) -> [String] {
        guard isDue(now: now) else { return [] }
        var lines: [String] = []
        lines.reserveCapacity(order.count + 2)
        for key in order {
            guard let tally = tallies[key] else { continue }
            lines.append("rejected: \(service), account \(accountName(key.account)), \(key.reason.explanation) (\(key.reason)), "
                + "\(tally.count) × \(key.answer), first token \(Self.printable(tally.firstToken))")
        }
        if overflow > 0 {
            lines.append("rejected: \(service), \(overflow) more for other accounts or reasons (at most \(maxLines) lines a window)")
        }
        if droppedSeen > droppedLogged {
            lines.append("rejected: \(service), \(droppedSeen &- droppedLogged) rejects not logged: the ring of reject notices was full "
                + "(\(droppedSeen) since start)")
            droppedLogged = droppedSeen
        }
        tallies.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        overflow = 0
        windowEnds = nil
        return lines
    }

    mutating func open(_ now: UInt64) {
        if windowEnds == nil { windowEnds = now &+ windowNanoseconds }
    }

    /// The token as the client sent it, trailing spaces cut, and anything but printable ASCII
    /// shown as `?`: the client chose these bytes, and a log line must not carry control
    /// characters from outside.
    static func printable(_ token: OrderToken) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(14)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: token.high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 16, by: -8) { bytes.append(UInt8(truncatingIfNeeded: token.low >> UInt64(shift))) }
        while bytes.last == 0x20 || bytes.last == 0 { bytes.removeLast() }
        return String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
