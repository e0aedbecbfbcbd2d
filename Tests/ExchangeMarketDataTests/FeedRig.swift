import ExchangeAccess
import ExchangeConfig
import Logging
import CExchangeShim
import ExchangeBookReplica
import ExchangeClock
import ExchangeCore
import ExchangeFeed
import ExchangeEngine
import ExchangeMarketData
@testable import ExchangeOps
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import OrderFlow

/// An exchange in-process: a seeded order stream fed at a set rate into the engine agent,
/// the market-data agent publishing on a loopback multicast group, and the admin plane
/// serving /debug/orderbook — all agents on one thread (shared mode, backoff idle), as on
/// a 2-core CI machine.
final class FeedRig {
    let instruments: [InstrumentSpec]
    let commands: [EngineCommand]
    let runner: AgentRunner
    let admin: AdminServer
    let countersMemory: UnsafeMutableRawPointer
    let snapshotMemory: UnsafeMutableRawPointer
    let cells: CounterCells
    let group: UInt32
    let port: UInt16
    let retransmitPort: UInt16
    let snapshotPort: UInt16
    let session = SoupSessionName("RIG\(getpid() % 10_000_000)")!
    let orderCapacity = 100_000
    private var commandRing: SPSCRing<CommandEnvelope>
    private var controlRing: SPSCRing<CommandEnvelope>
    private var orderRing: SPSCRing<SequencedEvent>
    private var bookRing: SPSCRing<SequencedEvent>
    private var started = false
    /// Agents, built at init and handed to the runner by `start()`.
    private var pending: UnsafeMutablePointer<AgentPair<AgentPair<UpstreamDrainReporter<AgentPair<DemoFlowAgent<TSCClock>, AgentPair<EngineAgent, EventDrainAgent>>>, MarketDataAgent<TSCClock>>, Authenticator<TSCClock>>>?

    static let symbols = ["AAPL", "MSFT", "AMZN", "GOOGL"]

    /// The instruments of every rig: four symbols, one-cent ticks.
    static func makeInstruments() -> [InstrumentSpec] {
        symbols.enumerated().map { i, s in
            InstrumentSpec(symbol: Symbol(s)!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000,
                           referencePrice: Price(1_000_000 + 500_000 * i))
        }
    }

    /// A group and port of its own per process, so concurrent runs never hear each other.
    static func uniqueGroup() -> UInt32 { 0xEFFF_0000 | UInt32(getpid() & 0xFFFF) }

    /// - Parameters:
    ///   - commandCount: commands in the seeded stream (displayed orders only unless
    ///     `nonDisplayedPerMille` says otherwise: the engine's depth counts hidden orders too,
    ///     which the feed never shows).
    ///   - rate: commands per second fed to the engine.
    init(commandCount: Int, seed: UInt64, rate: Int, maxPayload: Int = 1_400, history: Int = 1 << 20,
         requestsPerSecond: Int = 1_000, accounts: APIKeys? = nil, nonDisplayedPerMille: Int = 0,
         heartbeatNanoseconds: UInt64 = 1_000_000_000) throws {
        instruments = Self.makeInstruments()
        let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: orderCapacity, maxClients: 64, priceLevels: 4_096)
        let limits = RiskLimits(maxOrderShares: 100_000, maxOpenNotional: 1_000_000_000 * 10_000, maxOrdersPerSecond: 1_000_000,
                                priceCollarsEnabled: true)
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        var profile = OrderFlowProfile.realistic(instruments: instruments, clients: 16,
                                                 limits: RiskLimitsHint(maxOrderShares: 100_000, maxOpenNotional: 1_000_000_000 * 10_000))
        profile.nonDisplayedPerMille = nonDisplayedPerMille
        profile.attributablePerMille = 150
        commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: commandCount) { recorder.runCollecting($0) }

        countersMemory = .allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        cells = CounterCells(base: countersMemory)
        snapshotMemory = .allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 1_000), alignment: 128)
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 1_000))
        commandRing = SPSCRing<CommandEnvelope>(capacity: 1_024)
        controlRing = SPSCRing<CommandEnvelope>(capacity: 16_384)
        orderRing = SPSCRing<SequencedEvent>(capacity: 65_536)
        bookRing = SPSCRing<SequencedEvent>(capacity: 65_536)
        runner = AgentRunner(counters: cells)
        group = Self.uniqueGroup()
        port = UInt16(freeUDPPort())

        let engineAgent = EngineAgent(
            engine: RiskCheckedEngine(configuration: configuration, limits: limits), commands: commandRing.makeConsumer(),
            control: controlRing.makeConsumer(), orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 1_000), cells: cells)
        let clock = TSCClock(ticksPerSecond: max(1, rtes_tsc_ticks_per_second(20_000_000)))
        let demo = DemoFlowAgent(commands: commands, producer: controlRing.makeProducer(), rate: rate, clock: clock, clientOffset: 0,
                                 cells: cells)
        let signal = UpstreamDrainSignal()
        let md = MarketDataConfiguration(
            session: session, instruments: instruments, orderCapacity: orderCapacity, group: group, port: port,
            interface: 0x7F00_0001, ttl: 0, loopback: true, sendBufferBytes: 4 << 20, maxPayloadBytes: maxPayload,
            heartbeatIntervalNanoseconds: heartbeatNanoseconds, bindAddress: 0x7F00_0001, retransmitPort: 0,
            retransmitHistoryMessages: history, retransmitMaxRequestsPerSecond: requestsPerSecond, snapshotPort: 0,
            snapshotLoginRequired: accounts != nil)
        let logins = LoginChannel(service: "snapshot", capacity: 16)
        let authenticator = try Authenticator(
            keys: accounts ?? APIKeys(accounts: []), policy: LoginThrottle.Policy(maxFailures: 1_000, backoff: 0, maxBackoff: 0,
                                                                                lockout: 1_000_000_000, trackedAddresses: 16),
            channels: [logins], clock: clock, cells: cells, logger: Logger(label: "feed-rig"))
        let marketData = try MarketDataAgent(configuration: md, clock: clock, events: bookRing.makeConsumer(), logins: logins.makeClient(),
                                             cells: cells,
                                             upstreamFinished: { signal.isRaised })
        retransmitPort = marketData.retransmitPort
        snapshotPort = marketData.snapshotPort
        let all = AgentPair(UpstreamDrainReporter(AgentPair(demo, AgentPair(engineAgent, EventDrainAgent(events: orderRing.makeConsumer(), ring: .orderEvents, cells: cells))),
                                                  signal: signal), marketData)
        let withAuth = AgentPair(all, authenticator)
        pending = .allocate(capacity: 1)
        pending!.initialize(to: withAuth)
        admin = try AdminServer.start(host: "127.0.0.1", port: 0, state: AdminState(
            cells: cells, snapshots: OrderBookSnapshotClient(base: snapshotMemory, maxLevels: 1_000), instruments: instruments))
    }

    /// Starts the agents' thread.
    func start() throws {
        guard let agents = pending else { return }
        pending = nil
        try runner.start(agents.move(), name: "rtes-md-test", slot: .engine, stage: 0,
                         placement: AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff)))
        agents.deallocate()
        started = true
    }

    /// Drains the agents (the feed ends with End of Session) and stops the admin plane.
    func stop() {
        if started { runner.drain() }
        started = false
        admin.stop()
    }

    deinit {
        if started { runner.drain() }
        if let agents = pending {
            agents.deinitialize(count: 1)
            agents.deallocate()
        }
        countersMemory.deallocate()
        snapshotMemory.deallocate()
    }

    func counter(_ cell: CounterCell) -> UInt64 { try! cells.register(MarketDataCounters.block).load(cell) }

    /// Commands the engine has taken from its control ring (where the demo flow feeds them).
    var commandsConsumed: UInt64 { cells.load(CountersLayout.RingSlot.control.offset + CountersLayout.RingCell.consumed) }

    /// A receiver joined to this rig's feed.
    func receiver() throws -> FeedClient {
        try FeedClient(group: group, port: port, interface: 0x7F00_0001, retransmitHost: 0x7F00_0001, retransmitPort: retransmitPort,
                       instrumentCount: instruments.count, orderCapacity: orderCapacity)
    }

    /// The exchange's own book of one symbol, from the admin plane.
    func exchangeDepth(_ symbol: String) throws -> (bids: [DepthLevel], asks: [DepthLevel]) {
        let (status, body) = try httpGet("http://127.0.0.1:\(admin.port)/debug/orderbook/\(symbol)?levels=1000")
        guard status == 200 else { throw RigError.http(status, body) }
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
        func side(_ key: String) -> [DepthLevel] {
            (json[key] as! [[String: Any]]).map { level in
                DepthLevel(price: parsePrice(level["price"] as! String), shares: (level["shares"] as! NSNumber).uint64Value,
                           orders: (level["orders"] as! NSNumber).intValue)
            }
        }
        return (side("bids"), side("asks"))
    }

    /// Every difference between a receiver's books and the exchange's, one line each.
    func differences(_ replica: borrowing BookReplica) throws -> [String] {
        var lines: [String] = []
        for (i, symbol) in Self.symbols.enumerated() {
            let exchange = try exchangeDepth(symbol)
            let bids = replica.depth(instrument: InstrumentIndex(i), side: .bid)
            let asks = replica.depth(instrument: InstrumentIndex(i), side: .ask)
            if exchange.bids.count >= 1_000 || exchange.asks.count >= 1_000 { lines.append("\(symbol): more than 1000 levels") }
            if bids != exchange.bids { lines.append("\(symbol) bids: feed \(bids.prefix(5))… exchange \(exchange.bids.prefix(5))…") }
            if asks != exchange.asks { lines.append("\(symbol) asks: feed \(asks.prefix(5))… exchange \(exchange.asks.prefix(5))…") }
        }
        return lines
    }
}

enum RigError: Error { case http(Int, String), timeout(String) }

/// "230.01" → 2_300_100.
func parsePrice(_ text: String) -> Price {
    let parts = text.split(separator: ".")
    var fraction = parts.count > 1 ? String(parts[1]) : ""
    while fraction.count < 4 { fraction += "0" }
    return Price(parts[0])! * 10_000 + Price(fraction.prefix(4))!
}

func freeUDPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var address = MarketDataSockets.socketAddress(0x7F00_0001, 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A blocking HTTP GET on loopback (the admin plane), with a plain socket.
func httpGet(_ url: String) throws -> (Int, String) {
    let u = URL(string: url)!
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = MarketDataSockets.socketAddress(0x7F00_0001, UInt16(u.port!))
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw RigError.http(0, "connect failed: errno \(errno)") }
    let path = u.path + (u.query.map { "?" + $0 } ?? "")
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = write(fd, request, request.count)
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headerEnd = text.range(of: "\r\n\r\n") else { throw RigError.http(0, text) }
    let statusLine = text[..<text.index(text.startIndex, offsetBy: min(12, text.count))]
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    var body = String(text[headerEnd.upperBound...])
    if text[..<headerEnd.lowerBound].lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
    return (status, body)
}

func dechunk(_ text: String) -> String {
    var out = ""
    var rest = Substring(text)
    while let lineEnd = rest.range(of: "\r\n") {
        let size = Int(rest[..<lineEnd.lowerBound], radix: 16) ?? 0
        if size == 0 { break }
        let start = lineEnd.upperBound
        let end = rest.index(start, offsetBy: size)
        out += rest[start..<end]
        rest = rest[end...].dropFirst(2)
    }
    return out
}

/// Polls receivers until `done` holds or `seconds` pass.
func pump(_ clients: [FeedClient], seconds: Double, until done: () -> Bool) -> Bool {
    let deadline = Deadline(seconds: seconds)
    while !deadline.hasPassed {
        for c in clients { c.poll(timeoutMilliseconds: 2) }
        if done() { return true }
    }
    return false
}
