import ExchangeClient
import ExchangeCore
import ExchangeBookReplica
import ExchangeFeed
import ExchangeWire

/// Runs a population on the caller's thread: one OUCH session per agent (its own account),
/// one ITCH feed client shared by all of them (they run in one process and see the same
/// feed), the fair value, and the agents' decisions. `step` does one turn: read the feed,
/// read every session's answers, let each agent decide, send what it decided. Nothing runs
/// in the background.
public final class AgentRunner {
    public let configuration: AgentsConfiguration
    public let instruments: [InstrumentSpec]
    public private(set) var agents: [Agent]
    public private(set) var market: MarketState
    public private(set) var fair: FairValue
    public let feed: FeedClient
    var clients: [OrderEntryClient?]
    /// Per agent: why its session ended (nil while it runs).
    public private(set) var failures: [String?]
    let clock: () -> UInt64
    let start: UInt64
    /// Called with each message sent: the agent, the time, the intent, and the phase the agent saw.
    public var onSend: ((Int, UInt64, Intent, MarketPhase) -> Void)?
    /// Called with each OUCH message an agent's session receives.
    public var onMessage: ((Int, OUCHMessage) -> Void)?
    /// Messages the feed carried that did not decode.
    public private(set) var undecodedMessages = 0

    /// The population: market makers, noise traders, momentum and mean-reversion takers, in
    /// that order (agent i uses `configuration.accounts[i]`), each trading `symbols`.
    public static func population(_ configuration: AgentsConfiguration, instruments: [InstrumentSpec], symbols: [Int],
                                  tokenPrefix: String) -> [Agent] {
        var roles: [AgentRole] = []
        roles += Array(repeating: .marketMaker, count: configuration.makers.count)
        roles += Array(repeating: .noise, count: configuration.noise.count)
        roles += Array(repeating: .momentum, count: configuration.momentum.count)
        roles += Array(repeating: .meanReversion, count: configuration.meanReversion.count)
        return roles.enumerated().map { i, role in
            Agent(index: i, role: role, configuration: configuration, instruments: instruments, symbols: symbols, tokenPrefix: tokenPrefix)
        }
    }

    /// The indexes of the configuration's symbols in the exchange's list (all of them when
    /// it names none); throws naming a symbol the exchange does not list.
    public static func symbolIndexes(_ configuration: AgentsConfiguration, instruments: [InstrumentSpec]) throws(AgentsConfigurationError) -> [Int] {
        if configuration.symbols.isEmpty { return Array(instruments.indices) }
        var indexes: [Int] = []
        var problems: [String] = []
        for name in configuration.symbols {
            if let i = instruments.firstIndex(where: { $0.symbol.description == name }) { indexes.append(i) } else {
                problems.append("symbol \"\(name)\" is not one of the exchange's (\(instruments.map(\.symbol.description).joined(separator: ", ")))")
            }
        }
        guard problems.isEmpty else { throw AgentsConfigurationError(source: "symbols", problems: problems) }
        return indexes
    }

    /// `clock`: CLOCK_MONOTONIC-like nanoseconds (time only moves forward); `tokenPrefix`
    /// makes this run's order tokens differ from an earlier run's on the same day.
    public init(configuration: AgentsConfiguration, instruments: [InstrumentSpec], feed: FeedClient, clock: @escaping () -> UInt64,
                tokenPrefix: String) throws(AgentsConfigurationError) {
        let symbols = try Self.symbolIndexes(configuration, instruments: instruments)
        let problems = configuration.problems(symbolCount: symbols.count)
        guard problems.isEmpty else { throw AgentsConfigurationError(source: "configuration", problems: problems) }
        self.configuration = configuration
        self.instruments = instruments
        self.feed = feed
        self.clock = clock
        start = clock()
        agents = Self.population(configuration, instruments: instruments, symbols: symbols, tokenPrefix: tokenPrefix)
        market = MarketState(symbolCount: instruments.count)
        fair = FairValue(seed: configuration.seed, parameters: configuration.fairValue, instruments: instruments)
        clients = Array(repeating: nil, count: agents.count)
        failures = Array(repeating: nil, count: agents.count)
        feed.handler.recording = true
    }

    deinit {
        for client in clients { client?.close() }
    }

    /// Logs every agent in (agent i as `configuration.accounts[i]`); `password` gives an
    /// account's password. A failure closes the sessions opened so far and is thrown.
    public func connect(addresses: [ExchangeAddress], password: (String) throws -> String,
                        options: OrderEntryClient.Options = .init()) throws {
        do {
            for i in agents.indices {
                let username = configuration.accounts[i]
                let client = try OrderEntryClient(addresses: addresses, options: options)
                switch try client.login(username: username, password: try password(username)) {
                case .accepted: clients[i] = client
                case .rejected(let reason, let debug):
                    client.close()
                    throw ClientError.loginRejected(reason, debug: debug)
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// Agents whose session is up.
    public var running: Int { clients.lazy.filter { $0 != nil }.count }

    /// One turn: waits up to `waitMilliseconds` for the feed, then reads it, reads every
    /// session, and lets each agent decide and send.
    public func step(waitMilliseconds: Int32 = 1) {
        feed.poll(timeoutMilliseconds: waitMilliseconds)
        readFeed()
        let now = clock()
        for i in agents.indices { readSession(i, now: now) }
        fair.advance(toElapsed: now &- start)
        for i in agents.indices where clients[i] != nil {
            let intents = agents[i].decide(now: now, market: market, fair: fair)
            for intent in intents {
                onSend?(i, now, intent, market.phase)
                guard send(intent, by: i) else { break }
            }
        }
    }

    func readFeed() {
        let messages = feed.handler.takeRecorded()
        guard !messages.isEmpty else { return }
        var executed: [OrderReference] = []
        for raw in messages {
            raw.withUnsafeBytes { bytes in
                switch ITCHDecoder.decode(bytes) {
                case .success(let message):
                    market.apply(message)
                    switch message {
                    case .orderExecuted(let m): executed.append(m.reference)
                    case .orderExecutedWithPrice(let m): executed.append(m.reference)
                    default: break
                    }
                case .failure:
                    undecodedMessages += 1
                }
            }
        }
        for reference in executed where feed.handler.replica.shares(of: reference) == nil { market.forget(reference: reference) }
        for i in market.symbols.indices {
            market.symbols[i].bestBid = feed.handler.replica.depth(instrument: InstrumentIndex(i), side: .bid).first?.price
            market.symbols[i].bestAsk = feed.handler.replica.depth(instrument: InstrumentIndex(i), side: .ask).first?.price
        }
    }

    func readSession(_ i: Int, now: UInt64) {
        guard let client = clients[i] else { return }
        do throws(ClientError) {
            while let packet = try client.poll(timeout: .zero) {
                switch packet {
                case .sequenced(let m):
                    onMessage?(i, m.message)
                    agents[i].apply(m.message, now: now, preOpens: market.preOpens)
                case .endOfSession:
                    end(i, "the exchange ended the session (End of Session)")
                    return
                case .heartbeat, .debug, .loginAccepted, .loginRejected:
                    continue
                }
            }
        } catch {
            end(i, "\(error)")
        }
    }

    /// Sends one intent; false when the session failed (the agent stops).
    func send(_ intent: Intent, by i: Int) -> Bool {
        guard let client = clients[i] else { return false }
        do throws(ClientError) {
            switch intent {
            case .enter(let token, let symbol, let side, let shares, let price, let immediate):
                try client.enter(token: token, side: side, shares: shares, symbol: instruments[symbol].symbol, price: price,
                                 timeInForce: immediate ? .immediateOrCancel : .marketHours)
            case .replace(let existing, let replacement, let shares, let price):
                try client.replace(existing: existing, replacement: replacement, shares: shares, price: price)
            case .cancel(let token):
                try client.cancel(token: token)
            }
            return true
        } catch {
            end(i, "\(error)")
            return false
        }
    }

    func end(_ i: Int, _ why: String) {
        clients[i]?.close()
        clients[i] = nil
        failures[i] = why
        agents[i].forgetOrders()
    }

    /// Logs every session out (its day orders stay on the book until the close).
    public func close() {
        for i in clients.indices {
            if let client = clients[i] { _ = try? client.logout(timeout: .milliseconds(500)) }
            clients[i]?.close()
            clients[i] = nil
        }
    }
}
