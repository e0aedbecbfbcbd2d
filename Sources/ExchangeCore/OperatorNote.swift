/// Who took an operator's action on the admin plane, and why (docs/OPERATIONS.md, "What is
/// journaled"): journaled next to the command(s) the action queued, so that the journal says
/// who did what and why. Like a `SessionEvent` it changes no state of the engine and produces
/// no event: the engine only sequences it, so replay and a standby meet it in order and ignore
/// it deterministically.
///
/// A note's text — the operator's username, then the reason — is longer than a command may be,
/// so a note is `parts` records of `chunkBytes` bytes of text each, numbered `part` 0 … parts−1,
/// every one carrying the action, its subject and the username's length. The gateway pushes
/// them one after the other, before the action's commands; `OperatorNote.Assembler` joins
/// them again (`rtes-journal dump`).
public struct OperatorNote: Equatable, Sendable, BitwiseCopyable {
    /// What the operator did. The raw values are the journal's format; never renumber them.
    /// New actions (feature flags, emergency triggers, a switchover …) take the next numbers.
    public enum Action: UInt8, Equatable, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
        case halt = 1
        case resume = 2
        case killAccount = 3
        case killFirm = 4
        case killExchange = 5
        case reinstateAccount = 6
        case reinstateFirm = 7
        case reinstateExchange = 8
        case cancelAllAccount = 9
        case cancelAllFirm = 10
        case snapshot = 11
        case startDay = 12
        case endDay = 13

        public var description: String {
            switch self {
            case .halt: "halt"
            case .resume: "resume"
            case .killAccount: "kill_account"
            case .killFirm: "kill_firm"
            case .killExchange: "kill_exchange"
            case .reinstateAccount: "reinstate_account"
            case .reinstateFirm: "reinstate_firm"
            case .reinstateExchange: "reinstate_exchange"
            case .cancelAllAccount: "cancel_all_account"
            case .cancelAllFirm: "cancel_all_firm"
            case .snapshot: "snapshot"
            case .startDay: "start_day"
            case .endDay: "end_day"
            }
        }

        /// What `subject` names for this action.
        public var subjectKind: SubjectKind {
            switch self {
            case .halt, .resume: .symbol
            case .killAccount, .reinstateAccount, .cancelAllAccount: .account
            case .killFirm, .reinstateFirm, .cancelAllFirm: .firm
            case .killExchange, .reinstateExchange, .snapshot, .startDay, .endDay: .none
            }
        }
    }

    public enum SubjectKind: Sendable {
        /// A `Symbol`'s raw value (`Symbol.everySymbol`: the whole market).
        case symbol
        /// A `ClientID` (the account's index in the keys file).
        case account
        /// A `Firm`'s raw value.
        case firm
        case none
    }

    /// The longest username a note carries (the keys file's limit for operators).
    public static let maximumWhoBytes = 32
    /// The longest reason (printable ASCII).
    public static let maximumReasonBytes = 160
    /// Text bytes in one record.
    public static let chunkBytes = 40
    /// Records a note takes at most.
    public static let maximumParts = (maximumWhoBytes + maximumReasonBytes + chunkBytes - 1) / chunkBytes

    public var timestamp: Timestamp
    public var subject: UInt64
    public var action: Action
    public var part: UInt8
    public var parts: UInt8
    /// Bytes of `words` that are text.
    public var length: UInt8
    /// The username's bytes at the start of the whole text.
    public var whoLength: UInt8
    /// This part's text, in order, zero padded (five words).
    public var words: (UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(timestamp: Timestamp, subject: UInt64, action: Action, part: UInt8, parts: UInt8, length: UInt8, whoLength: UInt8,
                words: (UInt64, UInt64, UInt64, UInt64, UInt64)) {
        self.timestamp = timestamp
        self.subject = subject
        self.action = action
        self.part = part
        self.parts = parts
        self.length = length
        self.whoLength = whoLength
        self.words = words
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.timestamp == b.timestamp && a.subject == b.subject && a.action == b.action && a.part == b.part && a.parts == b.parts
            && a.length == b.length && a.whoLength == b.whoLength && a.words.0 == b.words.0 && a.words.1 == b.words.1
            && a.words.2 == b.words.2 && a.words.3 == b.words.3 && a.words.4 == b.words.4
    }

    /// Whether `reason` may go into a note: 1 to `maximumReasonBytes` bytes of printable ASCII.
    public static func isValidReason(_ reason: String) -> Bool {
        (1...maximumReasonBytes).contains(reason.utf8.count) && reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// The records of one note (allocates: the admin plane's side). Nil when `who` or `reason`
    /// is too long or not printable ASCII.
    public static func records(action: Action, subject: UInt64, who: String, reason: String, timestamp: Timestamp = 0) -> [OperatorNote]? {
        let whoBytes = Array(who.utf8)
        guard (1...maximumWhoBytes).contains(whoBytes.count), whoBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              isValidReason(reason) else { return nil }
        let text = whoBytes + Array(reason.utf8)
        let parts = (text.count + chunkBytes - 1) / chunkBytes
        return (0..<parts).map { part in
            let chunk = text[(part * chunkBytes)..<min(text.count, (part + 1) * chunkBytes)]
            var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { out in
                for (i, byte) in chunk.enumerated() { out[i] = byte }
            }
            return OperatorNote(timestamp: timestamp, subject: subject, action: action, part: UInt8(part), parts: UInt8(parts),
                                length: UInt8(chunk.count), whoLength: UInt8(whoBytes.count), words: words)
        }
    }

    /// This part's text bytes (allocates: tools).
    public var bytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0.prefix(min(Int(length), Self.chunkBytes))) }
    }

    /// Joins a note's records as they come (`rtes-journal dump`): `add` answers the whole note
    /// once its last part arrives, nil before and for a part that does not continue the note
    /// being assembled (which is then dropped).
    public struct Assembler: Sendable {
        private var pending: [OperatorNote] = []

        public init() {}

        public struct Whole: Equatable, Sendable {
            public var action: Action
            public var subject: UInt64
            public var who: String
            public var reason: String

            public init(action: Action, subject: UInt64, who: String, reason: String) {
                self.action = action
                self.subject = subject
                self.who = who
                self.reason = reason
            }
        }

        public mutating func add(_ note: OperatorNote) -> Whole? {
            if note.part == 0 { pending.removeAll(keepingCapacity: true) }
            guard let first = pending.first ?? (note.part == 0 ? note : nil), Int(note.part) == pending.count,
                  note.parts == first.parts, note.action == first.action, note.subject == first.subject,
                  note.whoLength == first.whoLength else {
                pending.removeAll(keepingCapacity: true)
                return nil
            }
            pending.append(note)
            guard Int(note.part) + 1 == Int(note.parts) else { return nil }
            let text = pending.flatMap(\.bytes)
            pending.removeAll(keepingCapacity: true)
            let split = min(Int(first.whoLength), text.count)
            func printable(_ bytes: ArraySlice<UInt8>) -> String {
                String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            }
            return Whole(action: first.action, subject: first.subject, who: printable(text[..<split]), reason: printable(text[split...]))
        }
    }
}
