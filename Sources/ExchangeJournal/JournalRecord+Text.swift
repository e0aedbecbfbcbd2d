import ExchangeCore
import ExchangeEngine

extension JournalRecord {
    /// One record as one readable line (`rtes-journal dump`): the sequence, the time of day,
    /// the kind and every field by name, prices with their 4 decimals, text fields trimmed.
    ///
    /// `12 09:30:00.000000001 enter client=7 token=T1 side=buy shares=100 symbol=AAPL price=230.0000 tif=99998 firm=ABCD …`
    public static func text(_ record: SequencedCommand) -> String {
        let command = record.command
        var line = "\(record.sequence) \(timeOfDay(command.timestamp)) \(Kind(command))"
        func field(_ name: String, _ value: some CustomStringConvertible) { line += " \(name)=\(value)" }
        switch command {
        case .enter(let c):
            field("client", c.client)
            field("token", tokenText(c.token))
            field("side", c.side)
            field("shares", c.shares)
            field("symbol", alphaText(c.symbol.rawValue, width: 8))
            field("price", PriceText.format(c.price))
            field("tif", c.timeInForce)
            field("firm", alphaText(UInt64(c.firm.rawValue), width: 4))
            field("display", c.display)
            field("type", String(describing: c.orderType))
            field("capacity", String(describing: c.capacity))
            field("iso", String(describing: c.intermarketSweep))
            field("min_qty", c.minimumQuantity)
            field("cross", String(describing: c.crossType))
            field("customer", String(describing: c.customerType))
        case .replace(let c):
            field("client", c.client)
            field("token", tokenText(c.existingToken))
            field("new_token", tokenText(c.replacementToken))
            field("shares", c.shares)
            field("price", PriceText.format(c.price))
            field("tif", c.timeInForce)
            field("display", c.display)
            field("iso", String(describing: c.intermarketSweep))
            field("min_qty", c.minimumQuantity)
        case .cancel(let c):
            field("client", c.client)
            field("token", tokenText(c.token))
            field("shares", c.shares)
        case .modify(let c):
            field("client", c.client)
            field("token", tokenText(c.token))
            field("side", c.side)
            field("shares", c.shares)
        case .cancelAll(let a), .killClient(let a), .reinstateClient(let a):
            field("client", a.client)
        case .haltInstrument(let a), .resumeInstrument(let a):
            field("symbol", alphaText(a.symbol.rawValue, width: 8))
        case .refuse(let r):
            field("client", r.client)
            field("token", tokenText(r.token))
            field("reason", r.reason)
            field("as_cancel_reject", r.asCancelReject)
        case .session(let e):
            field("client", e.client)
            field("event", String(describing: e.kind))
        case .fixSession(let f):
            field("client", f.client)
            field("fact", String(describing: f.kind))
            switch f.kind {
            case .bind:
                field("token_base", f.tokenBase)
                field("exec_id_prefix", f.execIDPrefix)
            case .clOrdID:
                field("entry", f.entry)
                field("entry_kind", f.detail)
                field("link", f.link)
                field("rejected_at_once", f.rejectedAtOnce)
                field("next_inbound", f.nextInbound)
                field("cl_ord_id", String(decoding: f.clOrdIDBytes.map { $0 >= 0x21 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self))
            case .outbound:
                field("first", f.first)
                field("count", f.count)
                field("exec_ids", f.execIDs)
                field("next_inbound", f.nextInbound)
                field("reset", f.reset)
            case .reply:
                field("sequence", f.first)
                field("chunk", f.chunk)
                if f.chunk == 0 {
                    field("msg_type", f.replyMsgType)
                    field("body_bytes", f.replyBodyLength)
                } else {
                    field("bytes", f.length)
                }
            }
        case .leadership(let l):
            field("token", l.token)
            field("leader", String(decoding: l.name.utf8.map { $0 >= 0x21 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self))
        case .tradingPhase(let c):
            field("symbol", c.isMarketWide ? "*" : alphaText(c.symbol.rawValue, width: 8))
            field("action", String(describing: c.action))
        case .operatorNote(let n):
            field("action", String(describing: n.action))
            field("subject", subjectText(n.action, n.subject))
            field("part", "\(n.part + 1)/\(n.parts)")
            field("text", quoted(n.bytes))
        case .killExchange, .reinstateExchange, .advanceTime, .startOfDay, .endOfDay:
            break
        }
        return line
    }

    /// An operator note's subject as `dump` prints it: a symbol (`*`: every symbol), an
    /// account number, a firm, or `-`.
    public static func subjectText(_ action: OperatorNote.Action, _ subject: UInt64) -> String {
        switch action.subjectKind {
        case .symbol: subject == 0 ? "*" : alphaText(subject, width: 8)
        case .account: String(subject)
        case .firm: alphaText(subject, width: 4)
        case .none: "-"
        }
    }

    /// Operator text in double quotes, printable ASCII kept (`"` and `\` escaped), any other
    /// byte as `\xNN`.
    public static func quoted(_ bytes: some Sequence<UInt8>) -> String {
        var text = "\""
        for byte in bytes {
            if byte == 0x22 || byte == 0x5C {
                text += "\\" + String(Unicode.Scalar(byte))
            } else if byte >= 0x20 && byte < 0x7F {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = String(byte, radix: 16, uppercase: true)
                text += "\\x" + (digits.count == 1 ? "0" : "") + digits
            }
        }
        return text + "\""
    }

    /// A whole operator note (`OperatorNote.Assembler`) as one line after its last record's:
    /// `41 09:31:02.000000001 operator who=alice action=kill_firm subject=ACME reason="runaway algo" records=39-41`
    /// (`first`: the sequence of the note's first record).
    public static func text(_ note: OperatorNote.Assembler.Whole, first: UInt64, last: SequencedCommand) -> String {
        "\(last.sequence) \(timeOfDay(last.command.timestamp)) operator who=\(note.who) action=\(note.action) "
            + "subject=\(subjectText(note.action, note.subject)) reason=\(quoted(note.reason.utf8)) records=\(first)-\(last.sequence)"
    }

    /// A packed text field (big-endian, space-padded) as printable ASCII, trailing spaces
    /// trimmed, any other byte as `\xNN` — a journal's bytes are external input, and a dump
    /// must neither lose them nor send control characters to a terminal.
    public static func alphaText(_ packed: UInt64, width: Int) -> String {
        var bytes: [UInt8] = []
        for i in (0..<width).reversed() { bytes.append(UInt8(truncatingIfNeeded: packed >> UInt64(i * 8))) }
        return printable(bytes)
    }

    public static func tokenText(_ token: OrderToken) -> String {
        var bytes: [UInt8] = []
        for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: token.high >> UInt64(i * 8))) }
        for i in (2..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: token.low >> UInt64(i * 8))) }
        return printable(bytes)
    }

    static func printable(_ bytes: [UInt8]) -> String {
        var bytes = bytes[...]
        while bytes.last == 0x20 { bytes.removeLast() }
        if bytes.isEmpty { return "\"\"" }
        var text = ""
        for byte in bytes {
            if byte > 0x20 && byte < 0x7F && byte != 0x5C {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = String(byte, radix: 16, uppercase: true)
                text += "\\x" + (digits.count == 1 ? "0" : "") + digits
            }
        }
        return text
    }

    /// Nanoseconds since midnight as `HH:MM:SS.nnnnnnnnn` (hours past 23 kept as they are).
    public static func timeOfDay(_ timestamp: Timestamp) -> String {
        let seconds = timestamp / 1_000_000_000
        let nanos = String(timestamp % 1_000_000_000)
        func two(_ v: UInt64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))."
            + String(repeating: "0", count: 9 - nanos.count) + nanos
    }
}
