import CExchangeShim
import ExchangeCore
import ExchangeRisk
import ExchangeWire
import NIOCore
import NIOPosix

/// The same protocol served the way a Swift developer would build it on SwiftNIO: one event
/// loop (its thread pinned), a ByteToMessageDecoder for the framing, a handler per
/// connection, and the real engine (`RiskCheckedEngine`) in process on the event loop.
/// The codecs are RTES's own (ExchangeWire), so the difference to RTES is the I/O and
/// threading, not the encoding.
final class NIOOrderEntryServer {
    let port: UInt16
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    init(cpu: Int, fifoPriority: Int, accounts: [BenchAccount]) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            try loop.submit {
                let pinned = rtes_pin_current_thread(Int32(cpu))
                guard pinned == 0 else { throw BenchFailure("cannot pin the event loop to CPU \(cpu): \(-pinned)") }
                if fifoPriority > 0 {
                    let result = rtes_set_current_thread_fifo(Int32(fifoPriority))
                    guard result == 0 else { throw BenchFailure("cannot run the event loop under SCHED_FIFO: \(-result)") }
                }
            }.wait()
            let exchange = try loop.submit { NIOLoopBound(NIOExchange(accounts: accounts), eventLoop: loop) }.wait()
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SoupPacketDecoder()))
                        try channel.pipeline.syncOperations.addHandler(NIOOrderEntryHandler(exchange: exchange.value))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        port = UInt16(channel.localAddress?.port ?? 0)
    }

    /// Closes the listener and every connection and stops the event loop.
    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// The engine and the accounts behind every connection of the SwiftNIO server. Lives on
/// the event loop (`NIOLoopBound`): no locks, one command at a time.
final class NIOExchange {
    static let session = SoupSessionName("NIOBENCH")!

    private var engine: RiskCheckedEngine
    private let symbols: [Symbol]
    private let accounts: [BenchAccount]
    /// The logged-in connection of each client ID (one session per account).
    private var sessions: [NIOOrderEntryHandler?]
    private var reading: NIOOrderEntryHandler?

    init(accounts: [BenchAccount]) {
        let configuration = EngineConfiguration(
            instruments: BenchMarket.specs, orderPoolSize: BenchMarket.orderPoolSize, maxClients: BenchMarket.maxClients,
            priceLevels: BenchMarket.priceLevels)
        engine = RiskCheckedEngine(configuration: configuration, limits: BenchMarket.limits)
        symbols = BenchMarket.specs.map(\.symbol)
        self.accounts = accounts
        sessions = Array(repeating: nil, count: BenchMarket.maxClients)
    }

    func authenticate(_ request: SoupLoginRequest) -> BenchAccount? {
        guard let account = accounts.first(where: { $0.username == request.username }),
              account.password.constantTimeEquals(request.password), Int(account.clientID) < sessions.count else { return nil }
        return account
    }

    func beginSession(client: ClientID, handler: NIOOrderEntryHandler) -> Bool {
        guard sessions[Int(client)] == nil else { return false }
        sessions[Int(client)] = handler
        return true
    }

    func endSession(client: ClientID, handler: NIOOrderEntryHandler) {
        if sessions[Int(client)] === handler { sessions[Int(client)] = nil }
    }

    /// One OUCH message from a logged-in client; false for a protocol violation.
    func submit(_ payload: UnsafeRawBufferPointer, from account: BenchAccount) -> Bool {
        let now = rtes_realtime_ns() % 86_400_000_000_000
        reading = sessions[Int(account.clientID)]
        defer { reading = nil }
        switch OUCHInbound.decode(payload, client: account.clientID, defaultFirm: account.firm, timestamp: now) {
        case .command(let command):
            var status = engine.process(command)
            deliver()
            while status == .suspended {
                status = engine.resume()
                deliver()
            }
            return true
        case .rejectable(let token, let reason):
            sessions[Int(account.clientID)]?.sendSequenced {
                OUCHOutbound.rejected(timestamp: now, token: token, reason: reason.ouchCode, to: $0)
            }
            return true
        case .malformed:
            return false
        }
    }

    /// Order events to their sessions; book events have no subscriber here.
    private func deliver() {
        for event in engine.events {
            switch event {
            case .accepted(let e): send(to: e.client) { OUCHOutbound.accepted(e, symbol: self.symbols[Int(e.instrument)], to: $0) }
            case .rejected(let e): send(to: e.client) { OUCHOutbound.rejected(e, to: $0) }
            case .replaced(let e): send(to: e.client) { OUCHOutbound.replaced(e, symbol: self.symbols[Int(e.instrument)], to: $0) }
            case .canceled(let e): send(to: e.client) { OUCHOutbound.canceled(e, to: $0) }
            case .modified(let e): send(to: e.client) { OUCHOutbound.modified(e, to: $0) }
            case .cancelRejected(let e): send(to: e.client) { OUCHOutbound.cancelRejected(e, to: $0) }
            case .executed(let e):
                send(to: e.takerClient) { OUCHOutbound.executed(e, as: .taker, to: $0) }
                send(to: e.makerClient) { OUCHOutbound.executed(e, as: .maker, to: $0) }
            case .crossFill(let e):
                send(to: e.buy.client) { OUCHOutbound.crossExecuted(e, buySide: true, to: $0) }
                send(to: e.sell.client) { OUCHOutbound.crossExecuted(e, buySide: false, to: $0) }
            case .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent, .phaseChanged, .marketEvent, .imbalance,
                 .crossCompleted, .limitState, .auctionCollar:
                break
            }
        }
        engine.clearEvents()
    }

    private func send(to client: ClientID, _ encode: (UnsafeMutableRawPointer) -> Int) {
        guard Int(client) < sessions.count, let session = sessions[Int(client)] else { return }
        session.sendSequenced(encode)
        if session !== reading { session.flush() }
    }
}
