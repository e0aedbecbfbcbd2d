import ExchangeCore
import ExchangeEngine

// Recovery: before `onStart`, a restarted gateway is given the day so far — the journaled
// commands and the events a replaying engine makes of them — and ends with the session logs
// and the token history the gateway that saw them live had. Nothing is sent: no connection
// exists yet. Then `onStart` (with `GatewayOptions.startsDay` false: the day continues).
extension GatewayAgent {
    /// Appends a replayed order event to the session logs through the same routing and
    /// encoding as a live one (`route`). Fed every order event of the day in order, each
    /// session log ends byte for byte as the live one, with the same next sequence; a client
    /// that logs in after the restart resumes where it was.
    public mutating func replayOrderEvent(_ event: EngineEvent) {
        guard event.isOrderEvent else { return }
        route(event)
    }

    /// A FIX session fact rebuilds its session (GatewayAgent+FIXJournal.swift); an Enter
    /// Order or a Replace of a FIX session fills its ClOrdID entry.
    /// Remembers the token of a journaled Enter Order, or a Replace's replacement token, as
    /// the live gateway did when it sent the command (a token the gateway refused never
    /// became a command, so it is not there either): tokens used today stay unique across
    /// restarts. Commands of clients that are not gateway accounts (the demo flow) are
    /// ignored, as live.
    public mutating func replayCommand(_ command: EngineCommand) {
        if case .fixSession(let fact) = command { return fixReplay(fact) }
        fixReplayCommand(command)
        guard let (client, token) = Self.tokenUsed(by: command) else { return }
        let account = Int(client)
        guard account < accounts.count else { return }
        if tokens.insert(token, account: account) == .inserted { accounts.tokensUsed[account] &+= 1 }
    }

    /// The next sequence number of `account`'s session.
    public func nextSequence(account: Int) -> UInt64 { accounts.logs[account].nextSequence }

    /// Every packet `account`'s session log still holds, as sent (for checks and tools; it
    /// allocates).
    public func sessionLogBytes(account: Int) -> [UInt8] {
        let log = accounts.logs[account]
        var offset = log.offset(ofSequence: log.oldestSequence) ?? log.writeOffset
        var out: [UInt8] = []
        while offset < log.writeOffset {
            let piece = log.contiguousBytes(from: offset, limit: Int.max)
            guard !piece.isEmpty else { break }
            out.append(contentsOf: piece)
            offset &+= UInt64(piece.count)
        }
        return out
    }

    /// Whether `account` has used `token` today (live or replayed).
    public func hasUsed(_ token: OrderToken, account: Int) -> Bool { tokens.contains(token, account: account) }

    /// The client and the token a command uses up for the day: an Enter Order's token, or a
    /// Replace's replacement token (nil for every other command). Replay here and the
    /// snapshot agent's replica both count tokens through it.
    public static func tokenUsed(by command: EngineCommand) -> (client: ClientID, token: OrderToken)? {
        switch command {
        case .enter(let order): (order.client, order.token)
        case .replace(let replace): (replace.client, replace.replacementToken)
        default: nil
        }
    }
}
