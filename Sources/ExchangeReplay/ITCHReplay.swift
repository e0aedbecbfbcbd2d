import ExchangeClient
import ExchangeCore
import ExchangeWire

/// Replays a TotalView-ITCH 5.0 file into a running exchange over one OUCH session (the
/// replay participant's account), on the caller's thread (docs/REPLAY.md):
///
/// 1. `preload()` reads the file up to the start time into the book, sending nothing;
///    then every order open at the start goes in, in the order the file added them.
/// 2. `run(clock:)` replays the rest at the speed asked (file time × speed, or as fast as
///    the session takes it), or `advance(throughFileTime:)` without pacing (tests).
/// 3. The session's answers are read between messages and reconcile the book (`ReplayBook`).
public final class ITCHReplay {
    public struct Options: Sendable {
        /// Replay speed: 1 real time, N N times faster; nil as fast as possible.
        public var speed: Double?
        /// Nanoseconds since midnight: earlier messages only build the book at the start.
        public var start: UInt64?
        /// Stop at this file time (nanoseconds since midnight), nil: the end of the file.
        public var stop: UInt64?
        public var maxOrders = 1_000_000
        public var tokenPrefix = "R"
        /// Read the session's answers after at most this many messages sent.
        public var readEvery = 64
        public init(speed: Double? = 1, start: UInt64? = nil, stop: UInt64? = nil) {
            self.speed = speed
            self.start = start
            self.stop = stop
        }
    }

    public let reader: ITCHFileReader
    public let client: OrderEntryClient
    public let options: Options
    public private(set) var book: ReplayBook
    /// The exchange's symbol for each of the book's instruments.
    let symbols: [Symbol]
    var actions: [ReplayAction] = []
    /// The next event read but not yet due.
    var pending: (time: UInt64, locate: UInt16, event: ReplayEvent)?
    public private(set) var finished = false
    /// Messages read from the file, and OUCH messages sent.
    public private(set) var messagesRead: UInt64 = 0
    public private(set) var messagesSent: UInt64 = 0
    /// Enters and cancels not yet answered (Accepted/Rejected, Canceled/Cancel Reject).
    public private(set) var awaiting = 0
    var sentSinceRead = 0
    /// The file time of the last message applied.
    public private(set) var fileTime: UInt64 = 0
    /// Called with each answer of the exchange (after the book took it).
    public var onMessage: ((OUCHMessage) -> Void)?

    /// `symbols`: the file's stock names to replay (the exchange must list them).
    public init(reader: ITCHFileReader, client: OrderEntryClient, symbols: [Symbol], options: Options) {
        self.reader = reader
        self.client = client
        self.options = options
        self.symbols = symbols
        book = ReplayBook(symbols: symbols, maxOrders: options.maxOrders, tokenPrefix: options.tokenPrefix)
        actions.reserveCapacity(1_024)
    }

    func nextEvent() throws(ReplayError) -> (time: UInt64, locate: UInt16, event: ReplayEvent)? {
        if let p = pending {
            pending = nil
            return p
        }
        do throws(ITCHFileError) {
            guard let m = try reader.next() else { return nil }
            messagesRead += 1
            return (ReplayEvent.timestamp(m), ReplayEvent.locate(m), ReplayEvent.decode(m))
        } catch {
            throw .file(error)
        }
    }

    func apply(_ e: (time: UInt64, locate: UInt16, event: ReplayEvent)) throws(ReplayError) {
        book.messageNumber = reader.messages
        fileTime = e.time
        try book.apply(e.event, locate: e.locate, into: &actions)
        try flush()
    }

    /// Builds the book from the messages before `options.start`, then sends every order
    /// open at the start. Returns the number of orders sent.
    @discardableResult
    public func preload() throws(ReplayError) -> Int {
        if let start = options.start {
            while let e = try nextEvent() {
                if e.time >= start {
                    pending = e
                    break
                }
                book.messageNumber = reader.messages
                fileTime = e.time
                try book.apply(e.event, locate: e.locate, into: &actions)
            }
        }
        let before = book.counters.entersSent
        book.goLive(into: &actions)
        try flush()
        return Int(book.counters.entersSent - before)
    }

    /// Replays every message with a file time up to `time` at once (no pacing); false at the end of the file.
    @discardableResult
    public func advance(throughFileTime time: UInt64) throws(ReplayError) -> Bool {
        if !book.live { try preload() }
        while let e = try nextEvent() {
            if e.time > time || (options.stop.map { e.time > $0 } ?? false) {
                pending = e
                return true
            }
            try apply(e)
        }
        finished = true
        return false
    }

    /// Replays to the end of the file (or `options.stop`) at `options.speed`, `clock` giving
    /// monotonic nanoseconds; `shouldStop` is asked between messages.
    public func run(clock: () -> UInt64, shouldStop: () -> Bool = { false }) throws(ReplayError) {
        if !book.live { try preload() }
        var anchor: (wall: UInt64, file: UInt64)?
        while !shouldStop(), let e = try nextEvent() {
            if let stop = options.stop, e.time > stop { break }
            if let speed = options.speed {
                if anchor == nil { anchor = (clock(), options.start.map { max($0, 0) } ?? e.time) }
                let ahead = e.time > anchor!.file ? Double(e.time - anchor!.file) / speed : 0
                let due = anchor!.wall &+ UInt64(ahead)
                while true {
                    let now = clock()
                    if now >= due || shouldStop() { break }
                    try read(waitingUpTo: min(due - now, 50_000_000))
                }
            }
            try apply(e)
        }
        finished = true
    }

    /// Sends what the book decided, reading the answers every `readEvery` messages so the
    /// exchange's replies never back up.
    func flush() throws(ReplayError) {
        guard !actions.isEmpty else { return }
        var i = 0
        while i < actions.count {
            try send(actions[i])
            i += 1
            sentSinceRead += 1
            if sentSinceRead >= options.readEvery { try read(waitingUpTo: 0) }
        }
        actions.removeAll(keepingCapacity: true)
    }

    func send(_ action: ReplayAction) throws(ReplayError) {
        do throws(ClientError) {
            switch action {
            case .enter(let token, let instrument, let side, let shares, let price):
                try client.enter(token: token, side: side, shares: shares, symbol: symbols[instrument], price: price)
            case .cancel(let token, let newSize):
                try client.cancel(token: token, shares: newSize)
            }
        } catch {
            throw .session("\(error)")
        }
        messagesSent += 1
        awaiting += 1
    }

    /// Reads the session's answers: all there are, waiting up to `nanoseconds` for the first.
    public func read(waitingUpTo nanoseconds: UInt64) throws(ReplayError) {
        sentSinceRead = 0
        var wait = Duration.nanoseconds(Int64(nanoseconds))
        do throws(ClientError) {
            while let packet = try client.poll(timeout: wait) {
                wait = .zero
                switch packet {
                case .sequenced(let m):
                    switch m.message {
                    case .accepted, .rejected, .cancelReject: awaiting -= 1
                    case .canceled(_, _, _, let reason) where reason == UInt8(ascii: "U"): awaiting -= 1
                    default: break
                    }
                    var more: [ReplayAction] = []
                    book.report(m.message, into: &more)
                    onMessage?(m.message)
                    actions.append(contentsOf: more)
                case .endOfSession:
                    throw ClientError.closedByPeer(debug: "End of Session")
                default:
                    continue
                }
            }
        } catch {
            throw .session("\(error)")
        }
    }

    /// Reads answers until every message sent is answered (and what they caused is sent),
    /// at most `timeout` nanoseconds; true when nothing is outstanding.
    public func settle(clock: () -> UInt64, timeout: UInt64) throws(ReplayError) -> Bool {
        let deadline = clock() &+ timeout
        while true {
            try flush()
            if awaiting <= 0 && actions.isEmpty { return true }
            let now = clock()
            if now >= deadline { return false }
            try read(waitingUpTo: min(deadline - now, 20_000_000))
        }
    }
}
