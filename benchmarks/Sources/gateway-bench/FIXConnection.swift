import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeFIX
import ExchangeTLS
import Glibc

/// A FIX 4.4 initiator's connection for the benchmark (rtes-fix and quickfix): the socket,
/// send queue and optional TLS of `OrderEntryConnection`, with FIX framing of what arrives
/// (`FIXFrameReader`, CheckSum checked) and the messages written by `FIXWriter`.
///
/// The session is the least a counterparty needs: Logon with ResetSeqNumFlag (both sides
/// start at 1 on every connection, so rounds need no stored sequence numbers), Username and
/// Password; MsgSeqNum counted up; a TestRequest answered with its Heartbeat; Logout at the
/// end without waiting. Inbound sequence numbers are not checked: the benchmark trusts the
/// server, and every order still needs its answer.
///
/// ClOrdID is the order's 14-character token (`L0000000000042`); a cancel's own ClOrdID is
/// the token followed by `C`, its OrigClOrdID the token. Nothing allocates after `init`.
struct FIXConnection: ~Copyable {
    private var transport: OrderEntryConnection
    private let senderCompID: [UInt8]
    private let targetCompID: [UInt8]
    private var nextSeqNum: UInt64 = 1
    /// Received bytes not yet taken as messages: `[pendingStart, pendingEnd)`.
    private let pending: UnsafeMutableRawPointer
    private let pendingCapacity = 1 << 17
    private var pendingStart = 0
    private var pendingEnd = 0
    /// The last message `nextMessage` returned (it points into `pending`).
    private var message = FIXMessage()
    static let maximumMessageLength = 4_096

    var port: UInt16 { transport.port }
    var lastReceiveTSC: UInt64 { transport.lastReceiveTSC }

    init(port: UInt16, account: BenchAccount, targetCompID: String, tls: TLSContext?) throws(BenchFailure) {
        transport = try OrderEntryConnection(port: port, tls: tls)
        senderCompID = Array(account.username.description.utf8)
        self.targetCompID = Array(targetCompID.utf8)
        pending = .allocate(byteCount: pendingCapacity, alignment: 64)
    }

    deinit { pending.deallocate() }

    // MARK: Receiving

    /// The next whole message if one has arrived (in `message`), else false after one receive
    /// that found nothing. A garbled or fatal frame fails the run.
    @inline(__always)
    private mutating func nextMessage() throws(BenchFailure) -> Bool {
        while true {
            let bytes = UnsafeRawBufferPointer(start: pending + pendingStart, count: pendingEnd - pendingStart)
            switch FIXFrameReader.next(bytes, maximumLength: Self.maximumMessageLength) {
            case .message(let length):
                let whole = UnsafeRawBufferPointer(start: pending + pendingStart, count: length)
                pendingStart += length
                if let failure = message.parse(whole) {
                    throw BenchFailure("port \(port): a FIX message that does not parse (\(failure)): \(Self.text(whole))")
                }
                return true
            case .needMore:
                break
            case .garbled(_, let reason):
                throw BenchFailure("port \(port): a garbled FIX message (\(reason)): \(Self.text(bytes))")
            case .fatal(let reason):
                throw BenchFailure("port \(port): FIX framing failed (\(reason)): \(Self.text(bytes))")
            }
            if pendingStart == pendingEnd {
                pendingStart = 0
                pendingEnd = 0
            } else if pendingCapacity - pendingEnd < Self.maximumMessageLength {
                pending.copyMemory(from: pending + pendingStart, byteCount: pendingEnd - pendingStart)
                pendingEnd -= pendingStart
                pendingStart = 0
            }
            let received = try transport.receive(into: pending + pendingEnd, capacity: pendingCapacity - pendingEnd)
            if received == 0 { return false }
            pendingEnd += received
        }
    }

    /// The message's text with `|` for SOH, for failure messages.
    static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix(300).map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
    }

    private func value(_ tag: FIXTag) -> String { message.value(tag).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    // MARK: Sending

    /// Queues one message: the standard header, the fields `body` writes, the trailer.
    @inline(__always)
    private mutating func send(_ type: FIXMsgType, _ body: (inout FIXWriter) -> Void) {
        let seqNum = nextSeqNum
        nextSeqNum += 1
        let (sender, target) = (senderCompID, targetCompID)
        transport.queue { out in
            var w = FIXWriter(UnsafeMutableRawBufferPointer(start: out, count: Self.largestRequest))
            w.msgType(type)
            sender.withUnsafeBytes { w.field(Tag.senderCompID, $0) }
            target.withUnsafeBytes { w.field(Tag.targetCompID, $0) }
            w.field(Tag.msgSeqNum, seqNum)
            w.timestamp(Tag.sendingTime, rtes_realtime_ns(), precision: .milliseconds)
            body(&w)
            guard let length = w.finish() else { fatalError("a FIX message longer than \(Self.largestRequest) bytes") }
            return length
        }
    }

    /// The token's 14 characters, and a cancel's `C` after them.
    @inline(__always)
    private static func writeClOrdID(_ w: inout FIXWriter, _ tag: FIXTag, _ token: OrderToken, cancel: Bool) {
        var bytes = (token.high.bigEndian, token.low.bigEndian)
        withUnsafeMutableBytes(of: &bytes) { b in
            if cancel { b[14] = UInt8(ascii: "C") }
            w.field(tag, UnsafeRawBufferPointer(rebasing: b[0..<(cancel ? 15 : 14)]))
        }
    }

    /// The order token a ClOrdID names (its first 14 characters).
    @inline(__always)
    private static func token(_ clOrdID: UnsafeRawBufferPointer?) -> OrderToken {
        guard let clOrdID, clOrdID.count >= 14 else { return BenchAnswer.noToken }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(clOrdID[i]) }
        for i in 8..<14 { low = low << 8 | UInt64(clOrdID[i]) }
        return OrderToken(high: high, low: low << 16)
    }

    // MARK: Session

    /// Connects and logs on `account`, trying again as `LoginRetry` says.
    static func loggedOn(port: UInt16, account: BenchAccount, targetCompID: String, clock: TSCClock,
                         tls: TLSContext? = nil) throws(BenchFailure) -> FIXConnection {
        try LoginRetry.connect(port: port, account: account) { (refusal) throws(BenchFailure) -> FIXConnection? in
            var connection = try FIXConnection(port: port, account: account, targetCompID: targetCompID, tls: tls)
            guard let refused = try connection.logon(account, deadline: rtes_rdtsc() &+ clock.ticksPerSecond &* 5) else { return connection }
            refusal = refused
            return nil
        }
    }

    /// Sends Logon (ResetSeqNumFlag Y, Username, Password) and waits for the server's Logon;
    /// nil, or the Logout's text when the server refused.
    private mutating func logon(_ account: BenchAccount, deadline: UInt64) throws(BenchFailure) -> String? {
        let (user, password) = (Array(account.username.description.utf8), Array(account.passwordText.utf8))
        send(.logon) { w in
            w.field(Tag.encryptMethod, 0)
            w.field(Tag.heartBtInt, 30)
            w.field(Tag.resetSeqNumFlag, char: UInt8(ascii: "Y"))
            user.withUnsafeBytes { w.field(Tag.username, $0) }
            password.withUnsafeBytes { w.field(Tag.password, $0) }
        }
        try transport.flushAll(deadline: deadline)
        var spins: UInt32 = 0
        while true {
            guard try nextMessage() else {
                try transport.waitBetweenPolls(&spins, deadline: deadline)
                continue
            }
            switch message.msgType {
            case .logon: return nil
            case .logout: return "Logout \(value(Tag.text))"
            case .heartbeat, .testRequest: continue
            default: throw BenchFailure("port \(port): FIX message \(message.msgType) before the Logon answer: \(Self.text(message.bytes))")
            }
        }
    }
}

extension FIXConnection: BenchOrderConnection {
    /// A NewOrderSingle or an OrderCancelRequest is under 200 bytes.
    static var largestRequest: Int { 512 }

    var sendRoom: Int { transport.sendRoom }

    @inline(__always)
    mutating func queueEnter(_ token: OrderToken) {
        send(.newOrderSingle) { w in
            Self.writeClOrdID(&w, Tag.clOrdID, token, cancel: false)
            w.field(Tag.symbol, text: "AAPL")
            w.field(Tag.side, char: UInt8(ascii: "1"))
            w.timestamp(Tag.transactTime, rtes_realtime_ns(), precision: .milliseconds)
            w.field(Tag.orderQty, UInt64(BenchMarket.shares))
            w.field(Tag.ordType, char: UInt8(ascii: "2"))
            w.price(Tag.price, BenchMarket.price)
            w.field(Tag.timeInForce, char: UInt8(ascii: "0"))
        }
    }

    @inline(__always)
    mutating func queueCancel(_ token: OrderToken) {
        send(.orderCancelRequest) { w in
            Self.writeClOrdID(&w, Tag.origClOrdID, token, cancel: false)
            Self.writeClOrdID(&w, Tag.clOrdID, token, cancel: true)
            w.field(Tag.symbol, text: "AAPL")
            w.field(Tag.side, char: UInt8(ascii: "1"))
            w.timestamp(Tag.transactTime, rtes_realtime_ns(), precision: .milliseconds)
            w.field(Tag.orderQty, UInt64(BenchMarket.shares))
        }
    }

    @inline(__always) @discardableResult
    mutating func flush() throws(BenchFailure) -> Bool { try transport.flush() }

    @inline(__always)
    mutating func flushAll(deadline: UInt64) throws(BenchFailure) { try transport.flushAll(deadline: deadline) }

    func waitBetweenPolls(_ spins: inout UInt32, deadline: UInt64) throws(BenchFailure) {
        try transport.waitBetweenPolls(&spins, deadline: deadline)
    }

    /// ExecutionReport New / Canceled / Rejected and OrderCancelReject; a TestRequest is
    /// answered, Heartbeats skipped; a Logout or session Reject fails the run.
    @inline(__always)
    mutating func nextAnswer() throws(BenchFailure) -> BenchAnswer? {
        while try nextMessage() {
            switch message.msgType {
            case .executionReport:
                let execType = message.value(Tag.execType).flatMap { $0.first } ?? 0
                switch execType {
                case UInt8(ascii: "0"): return BenchAnswer(kind: .accepted, token: Self.token(message.value(Tag.clOrdID)))
                case UInt8(ascii: "4"):
                    return BenchAnswer(kind: .canceled, token: Self.token(message.value(Tag.origClOrdID) ?? message.value(Tag.clOrdID)))
                case UInt8(ascii: "8"):
                    return BenchAnswer(kind: .rejected, token: Self.token(message.value(Tag.clOrdID)),
                                       reason: "103=\(value(Tag.ordRejReason)) 58=\(value(Tag.text))")
                default: return BenchAnswer(kind: .other, token: Self.token(message.value(Tag.clOrdID)))
                }
            case .orderCancelReject:
                return BenchAnswer(kind: .cancelRejected, token: Self.token(message.value(Tag.origClOrdID)),
                                   reason: "102=\(value(Tag.cxlRejReason)) 58=\(value(Tag.text))")
            case .heartbeat:
                continue
            case .testRequest:
                guard transport.sendRoom >= Self.largestRequest else { continue }  // the next one is answered
                let id = message.value(Tag.testReqID).map { Array($0) } ?? []
                send(.heartbeat) { w in id.withUnsafeBytes { w.field(Tag.testReqID, $0) } }
                _ = try transport.flush()
            case .logout, .reject, .businessMessageReject:
                throw BenchFailure("port \(port): FIX \(message.msgType) from the server: \(Self.text(message.bytes))")
            default:
                return BenchAnswer(kind: .other, token: BenchAnswer.noToken)
            }
        }
        return nil
    }

    mutating func logout() {
        guard transport.sendRoom >= Self.largestRequest else { return }
        send(.logout) { _ in }
        _ = try? transport.flush()
    }
}
