import ExchangeCore
import ExchangeWire

/// Server packets and OUCH messages as one readable line each, e.g.
/// `Accepted token=C1732200000001 side=B shares=100 AAPL @ 230.0000 ref=1 state=L tif=99998 firm=DEM1 display=Y`.
public enum MessageText {
    public static func line(_ packet: ServerPacket) -> String {
        switch packet {
        case .sequenced(let m): return m.description
        case .heartbeat: return "Heartbeat"
        case .debug(let text): return "Debug \"\(text)\""
        case .endOfSession: return "End of Session"
        case .loginAccepted(let session, let sequence): return "Login Accepted session=\(quoted(session)) next=\(sequence)"
        case .loginRejected(let reason): return "Login Rejected reason=\(reason)"
        }
    }

    public static func line(_ message: OUCHMessage) -> String {
        switch message {
        case .systemEvent(_, let code):
            let meaning = code == OUCH.SystemEventCode.startOfDay ? " (start of day)" : code == OUCH.SystemEventCode.endOfDay ? " (end of day)" : ""
            return "System Event \(character(code))\(meaning)"
        case .accepted(let m):
            return "Accepted token=\(m.token) side=\(character(m.side.ouchCode)) shares=\(m.shares) \(m.symbol) @ \(wirePrice(m.price)) ref=\(m.reference) "
                + "state=\(state(m.state)) tif=\(m.timeInForce) firm=\(m.firm) display=\(character(m.display.ouchCode))"
                + (m.minimumQuantity > 0 ? " min=\(m.minimumQuantity)" : "")
        case .replaced(let m):
            return "Replaced token=\(m.token) previous=\(m.previousToken) side=\(character(m.side.ouchCode)) shares=\(m.shares) \(m.symbol) @ \(wirePrice(m.price)) "
                + "ref=\(m.reference) state=\(state(m.state)) tif=\(m.timeInForce) display=\(character(m.display.ouchCode))"
        case .canceled(_, let token, let decrement, let reason):
            return "Canceled token=\(token) shares=\(decrement) reason=\(character(reason)) (\(cancelReason(reason)))"
        case .executed(_, let token, let shares, let price, let liquidity, let match):
            return "Executed token=\(token) shares=\(shares) @ \(self.price(price)) liquidity=\(character(liquidity)) (\(liquidityName(liquidity))) match=\(match)"
        case .brokenTrade(_, let token, let match, let reason):
            return "Broken Trade token=\(token) match=\(match) reason=\(character(reason))"
        case .rejected(_, let token, let reason):
            return "Rejected token=\(token) reason=\(character(reason)) (\(rejectReason(reason)))"
        case .cancelPending(_, let token):
            return "Cancel Pending token=\(token)"
        case .cancelReject(_, let token):
            return "Cancel Reject token=\(token) (no live order with this token, or the request cannot apply to it)"
        case .orderModified(_, let token, let side, let shares):
            return "Order Modified token=\(token) side=\(character(side.ouchCode)) shares=\(shares)"
        }
    }

    /// A price with its 4 implied decimals: 2300000 → `230.0000`.
    public static func price(_ price: Price) -> String { PriceText.format(price) }

    /// Parses a decimal price with at most 4 decimals (`230`, `230.5`, `230.0125`) into
    /// price units; nil for anything else or a price above 214748.3647.
    public static func parsePrice(_ text: String) -> Price? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), whole.count <= 6 else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 4, fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { return nil }
        fraction += String(repeating: "0", count: 4 - fraction.count)
        guard let units = UInt64(whole), let decimals = UInt64(fraction) else { return nil }
        let value = units * 10_000 + decimals
        return value < UInt64(OUCH.marketPrice) ? Price(value) : nil
    }

    /// As `price`, but the market-order price reads `MKT`.
    public static func wirePrice(_ value: Price) -> String {
        value == OUCH.marketPrice ? "MKT" : price(value)
    }

    /// Nanoseconds since midnight as `HH:MM:SS.nnnnnnnnn`.
    public static func time(_ timestamp: Timestamp) -> String {
        let seconds = timestamp / 1_000_000_000
        let nanos = String(timestamp % 1_000_000_000)
        func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(seconds / 3_600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))."
            + String(repeating: "0", count: 9 - nanos.count) + nanos
    }

    /// An OUCH 4.2 Rejected reason code in words (the codes RTES sends, and the spec's
    /// others), followed by what RTES means by it: a code several of its reasons share (X for
    /// the tick, the collar and the ladder) lists each, since the byte alone cannot tell them
    /// apart (the exchange's debug log names the exact one). `O` (other) stands for a dozen
    /// unrelated reasons; listing them would not help, so it stays "other".
    public static func rejectReason(_ code: UInt8) -> String {
        let causes = RejectReason.allCases.filter { $0.ouchCode == code }.map(\.explanation)
        let name = ouchRejectName(code)
        if causes.isEmpty || causes.count > 5 { return name }
        return name + ": " + (causes.count == 1 ? causes[0] : causes.dropLast().joined(separator: ", ") + " or " + causes.last!)
    }

    /// The OUCH 4.2 specification's name of a Rejected reason code.
    static func ouchRejectName(_ code: UInt8) -> String {
        switch code {
        case 0x54: "test mode"
        case 0x48: "halted"
        case 0x5A: "shares exceed safety threshold"
        case 0x53: "invalid stock"
        case 0x44: "invalid display type"
        case 0x43: "exchange closed"
        case 0x4C: "requested firm not authorized"
        case 0x4F: "other"
        case 0x58: "invalid price"
        case 0x4E: "invalid minimum quantity"
        case 0x61: "reject all enabled"
        case 0x65: "odd lot"
        case 0x6E: "exceeded dollar value limit"
        default: "unknown reason"
        }
    }

    /// An OUCH Canceled reason code in words.
    public static func cancelReason(_ code: UInt8) -> String {
        if let reason = CancelReason(ouchCode: code) { return reason.description.replacingUnderscores() }
        return "unknown reason"
    }

    public static func liquidityName(_ code: UInt8) -> String {
        switch LiquidityFlag(ouchCode: code) {
        case .added: "added"
        case .removed: "removed"
        case .addedNonDisplayed: "added, non-displayed"
        case nil: "other"
        }
    }

    static func state(_ state: OrderState) -> String {
        character(state.ouchCode)
    }

    /// A code byte as its character (`O`), or its value when it is not printable.
    public static func character(_ code: UInt8) -> String {
        code >= 0x21 && code < 0x7F ? String(UnicodeScalar(code)) : "0x" + String(code, radix: 16)
    }

    /// A SoupBinTCP packet type byte with its name, from the client's point of view.
    static func typeName(_ type: UInt8) -> String {
        let name: String = switch type {
        case SoupPacketType.loginAccepted: "Login Accepted"
        case SoupPacketType.loginRejected: "Login Rejected"
        case SoupPacketType.sequencedData: "Sequenced Data"
        case SoupPacketType.serverHeartbeat: "Server Heartbeat"
        case SoupPacketType.endOfSession: "End of Session"
        case SoupPacketType.debug: "Debug"
        default: "unknown"
        }
        return "\(character(type)) \(name)"
    }

    static func quoted(_ text: String) -> String { "\"\(text)\"" }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
