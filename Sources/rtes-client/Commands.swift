import ArgumentParser
import CClock
import ExchangeClient
import ExchangeCore
import ExchangeWire
import Glibc

/// The fields of a new order both `buy` and `sell` take.
struct OrderArguments: ParsableArguments {
    @Argument(help: "Number of shares.")
    var shares: UInt32

    @Argument(help: "Stock symbol, e.g. AAPL.")
    var symbol: String

    @Argument(help: "Limit price (e.g. 230.00, at most 4 decimals), or `market`.")
    var price: String

    @Option(help: "Time in force: day (market hours, 99998), system (99999), ioc (0), or a number of seconds (1-86400).")
    var tif = "day"

    @Option(help: "Order token (1-14 characters, day-unique per account). Default: C + the wall clock in milliseconds.")
    var token: String?

    @Option(help: "Display: Y anonymous, A attributable, N non-displayed, P post-only, L post-only attributable.")
    var display = "Y"

    @Option(help: "Firm (1-4 characters). Default: the account's own.")
    var firm: String?

    @Option(name: .customLong("min-qty"), help: "Minimum quantity to execute on entry.")
    var minimumQuantity: UInt32 = 0

    /// The order's fields, each checked; a bad one is a usage error before any connection.
    func validate() throws {
        _ = try argument { () throws(ClientError) in try fields() }
    }

    /// The checked fields of the order (the token from the clock unless --token).
    func fields() throws(ClientError) -> OrderFields {
        let token = try makeToken(self.token)
        guard let stock = Symbol(symbol.uppercased()), !symbol.isEmpty else {
            throw ClientError.invalidArgument("symbol \"\(symbol)\": 1 to 8 characters")
        }
        let isMarket = ["market", "mkt"].contains(price.lowercased())
        guard isMarket || MessageText.parsePrice(price) != nil else {
            throw ClientError.invalidArgument("price \"\(price)\": a decimal with at most 4 places (e.g. 230.00), or market")
        }
        let limit = isMarket ? OUCH.marketPrice : MessageText.parsePrice(price)!
        let timeInForce = try parseTimeInForce(tif)
        guard display.count == 1, let displayByte = display.uppercased().utf8.first, let orderDisplay = Display(ouchCode: displayByte) else {
            throw ClientError.invalidArgument("display \"\(display)\": one character (Y, A, N, P or L)")
        }
        var orderFirm = Firm.blank
        if let firm {
            guard let parsed = Firm(firm.uppercased()), !firm.isEmpty else { throw ClientError.invalidArgument("firm \"\(firm)\": 1 to 4 characters") }
            orderFirm = parsed
        }
        return OrderFields(token: token, symbol: stock, isMarket: isMarket, limit: limit, timeInForce: timeInForce,
                           display: orderDisplay, firm: orderFirm)
    }

    func send(side: Side, with client: OrderEntryClient) throws(ClientError) -> (String, OrderToken) {
        let order = try fields()
        try client.enter(token: order.token, side: side, shares: shares, symbol: order.symbol, price: order.limit,
                         orderType: order.isMarket ? .market : .limit, timeInForce: order.timeInForce, firm: order.firm,
                         display: order.display, minimumQuantity: minimumQuantity)
        let text = "Enter Order token=\(order.token) side=\(MessageText.character(side.ouchCode)) shares=\(shares) \(order.symbol) @ "
            + "\(order.isMarket ? "MKT" : MessageText.price(order.limit)) tif=\(order.timeInForce)"
        return (text, order.token)
    }
}

/// A new order's fields as checked from the command line.
struct OrderFields {
    var token: OrderToken
    var symbol: Symbol
    var isMarket: Bool
    var limit: Price
    var timeInForce: TimeInForce
    var display: Display
    var firm: Firm
}

extension OrderArguments {
    /// Sends the order on `side` in a session; Accepted for it is the answer, Rejected a refusal.
    func enter(side: Side, session: SessionOptions) throws {
        var token = OrderToken.blank
        let symbol = Symbol(self.symbol.uppercased())
        try runSession(session, symbol: symbol, request: { (client) throws(ClientError) in
            let (text, sent) = try send(side: side, with: client)
            token = sent
            return text
        }, answer: { enterAnswer(token)($0) })
    }
}

/// Accepted for `token` is the answer; Rejected for it is a refusal.
func enterAnswer(_ token: OrderToken) -> (OUCHMessage) -> Answer? {
    { message in
        switch message {
        case .accepted(let m) where m.token == token: .accepted
        case .rejected(_, let t, let reason) where t == token: rejection(reason)
        default: nil
        }
    }
}

/// An OUCH Rejected as a refusal, with its reason in words.
func rejection(_ reason: UInt8) -> Answer {
    .refused("Rejected reason \(MessageText.character(reason)) (\(MessageText.rejectReason(reason)))")
}

struct Buy: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enter a buy order: buy SHARES SYMBOL PRICE.")

    @OptionGroup var session: SessionOptions
    @OptionGroup var order: OrderArguments

    func run() throws {
        try order.enter(side: .buy, session: session)
    }
}

struct Sell: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enter a sell order: sell SHARES SYMBOL PRICE.")

    @OptionGroup var session: SessionOptions
    @OptionGroup var order: OrderArguments

    @Flag(help: "Sell short (BuySell T).")
    var short = false

    @Flag(help: "Sell short exempt (BuySell E).")
    var exempt = false

    func run() throws {
        try order.enter(side: exempt ? .sellShortExempt : short ? .sellShort : .sell, session: session)
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel an order (or reduce it): cancel TOKEN.")

    @OptionGroup var session: SessionOptions

    @Argument(help: "The order's token.")
    var token: String

    @Option(help: "The new open size; 0 cancels the whole order.")
    var shares: UInt32 = 0

    func run() throws {
        let orderToken = try argument { () throws(ClientError) in try makeToken(token) }
        try runSession(session, request: { (client) throws(ClientError) in
            try client.cancel(token: orderToken, shares: shares)
            return "Cancel Order token=\(orderToken) shares=\(shares)"
        }, answer: { message in
            switch message {
            case .canceled(_, let t, _, _) where t == orderToken: .accepted
            case .cancelReject(_, let t) where t == orderToken: .refused("Cancel Reject (no live order with this token, or the size is not smaller)")
            default: nil
            }
        })
    }
}

struct Replace: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replace an order with a new size and price: replace TOKEN SHARES PRICE.")

    @OptionGroup var session: SessionOptions

    @Argument(help: "The existing order's token.")
    var token: String

    @Argument(help: "New number of shares.")
    var shares: UInt32

    @Argument(help: "New limit price.")
    var price: String

    @Option(name: .customLong("new-token"), help: "The replacement's token. Default: C + the wall clock in milliseconds.")
    var newToken: String?

    @Option(help: "Time in force of the replacement: day, system, ioc, or seconds.")
    var tif = "day"

    func run() throws {
        let existing = try argument { () throws(ClientError) in try makeToken(token) }
        let replacement = try argument { () throws(ClientError) in try makeToken(newToken) }
        guard let limit = MessageText.parsePrice(price) else {
            throw ValidationError("price \"\(price)\": a decimal with at most 4 places (a replacement is always a limit order)")
        }
        let timeInForce = try argument { () throws(ClientError) in try parseTimeInForce(tif) }
        try runSession(session, request: { (client) throws(ClientError) in
            try client.replace(existing: existing, replacement: replacement, shares: shares, price: limit, timeInForce: timeInForce)
            return "Replace Order token=\(existing) replacement=\(replacement) shares=\(shares) @ \(MessageText.price(limit)) tif=\(timeInForce)"
        }, answer: { message in
            switch message {
            case .replaced(let m) where m.token == replacement: .accepted
            case .rejected(_, let t, let reason) where t == replacement: rejection(reason)
            default: nil
            }
        })
    }
}

struct Modify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change an order's side (sell, short, exempt) or reduce it, keeping its priority: modify TOKEN SIDE SHARES.")

    @OptionGroup var session: SessionOptions

    @Argument(help: "The order's token.")
    var token: String

    @Argument(help: "B buy, S sell, T sell short, E sell short exempt (within the order's book side).")
    var side: String

    @Argument(help: "The new open size (not more than now).")
    var shares: UInt32

    func run() throws {
        let orderToken = try argument { () throws(ClientError) in try makeToken(token) }
        guard side.count == 1, let byte = side.uppercased().utf8.first, let newSide = Side(ouchCode: byte) else {
            throw ValidationError("side \"\(side)\": B, S, T or E")
        }
        try runSession(session, request: { (client) throws(ClientError) in
            try client.modify(token: orderToken, side: newSide, shares: shares)
            return "Modify Order token=\(orderToken) side=\(MessageText.character(newSide.ouchCode)) shares=\(shares)"
        }, answer: { message in
            switch message {
            case .orderModified(_, let t, _, _) where t == orderToken: .accepted
            case .cancelReject(_, let t) where t == orderToken:
                .refused("Cancel Reject (no live order with this token, another book side, or a larger size)")
            default: nil
            }
        })
    }
}

struct Listen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in and print what arrives: with --sequence 1, the day's messages first.")

    @OptionGroup var session: SessionOptions

    @Option(name: .customLong("for"), help: "Seconds to listen.")
    var seconds: Double = 5

    func run() throws {
        let password = session.resolvedPassword()
        do throws(ClientError) {
            let client = try session.connect(password: password, options: OrderEntryClient.Options(), timeout: .seconds(5))
            defer { client.close() }
            print("logged in as \(session.user), session \(client.session ?? "?"), next sequence \(client.nextSequence)")
            for packet in try client.packets(for: .milliseconds(Int(seconds * 1_000))) { show(packet, session) }
            _ = try? client.logout(timeout: .seconds(1))
        } catch {
            exitFor(error)
        }
    }
}

// MARK: Parsing

/// A command-line value parsed with `parse`; its failure is a usage error (exit status 64).
func argument<T>(_ parse: () throws(ClientError) -> T) throws -> T {
    do { return try parse() } catch { throw ValidationError(error.description) }
}

/// The given token, or C + the wall clock in milliseconds (13 digits: unique per millisecond).
func makeToken(_ text: String?) throws(ClientError) -> OrderToken {
    if let text {
        guard !text.isEmpty, let token = OrderToken(text) else {
            throw ClientError.invalidArgument("token \"\(text)\": 1 to 14 printable ASCII characters")
        }
        return token
    }
    let milliseconds = rtes_realtime_ns() / 1_000_000
    return OrderToken("C" + String(milliseconds % 10_000_000_000_000))!
}

func parseTimeInForce(_ text: String) throws(ClientError) -> TimeInForce {
    switch text.lowercased() {
    case "day", "market": return .marketHours
    case "system": return .systemHours
    case "ioc": return .immediateOrCancel
    default:
        guard let seconds = UInt32(text), seconds >= 1, seconds <= TimeInForce.maximumSecondsToLive else {
            throw ClientError.invalidArgument("time in force \"\(text)\": day, system, ioc, or 1-86400 seconds")
        }
        return .seconds(seconds)
    }
}

extension OrderToken {
    static let blank = OrderToken(high: 0x2020_2020_2020_2020, low: 0x2020_2020_2020_0000)
}
