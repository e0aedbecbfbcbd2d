import CChecksum
import ExchangeCore
import ExchangeEngine

/// One journal record: a sequenced engine command as bytes on disk. docs/DURABILITY.md
/// describes the format; this is the one place that writes and reads it.
///
/// ```
/// offset size  field (little-endian; a record is padded with zeros to a multiple of 8)
///  0     4     crc32c     CRC-32C of bytes 4 ..< length (the length field included)
///  4     4     length     bytes of the whole record, header and padding included
///  8     8     sequence   the engine's command sequence (1, 2, 3 … for the day)
/// 16     8     timestamp  the command's timestamp (nanoseconds since midnight)
/// 24     1     type       `JournalRecord.Kind`
/// 25     7     reserved   zero
/// 32     …     payload    per kind (`JournalRecord.Kind.payloadBytes`), below
/// ```
/// A record of length 0 (a preallocated segment's zeros) marks the end of what was written.
public enum JournalRecord {
    public static let headerBytes = 32
    /// The longest record (an Enter Order).
    public static let maximumBytes = headerBytes + 56

    /// What a record holds: one per `EngineCommand` case. The raw values are the format;
    /// never renumber them.
    public enum Kind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case enter = 1
        case replace = 2
        case cancel = 3
        case modify = 4
        case cancelAll = 5
        case killClient = 6
        case reinstateClient = 7
        case killExchange = 8
        case reinstateExchange = 9
        case haltInstrument = 10
        case resumeInstrument = 11
        case advanceTime = 12
        case refuse = 13
        case session = 14
        case startOfDay = 15
        case endOfDay = 16
        case fixSession = 17
        case leadership = 18
        // 19 is free (left while leadership and trading phases were built side by side).
        case tradingPhase = 20
        case operatorNote = 21

        /// Bytes of the payload that follows the header.
        public var payloadBytes: Int {
            switch self {
            case .enter, .replace, .fixSession, .leadership, .operatorNote: 56
            case .cancel, .refuse: 24
            case .modify: 32
            case .cancelAll, .killClient, .reinstateClient, .haltInstrument, .resumeInstrument, .session: 8
            case .tradingPhase: 16
            case .killExchange, .reinstateExchange, .advanceTime, .startOfDay, .endOfDay: 0
            }
        }

        public var recordBytes: Int { JournalRecord.headerBytes + payloadBytes }

        /// Slots of a table indexed by raw value (raw values are not dense).
        public static let rawValueSlots = Int(allCases.map(\.rawValue).max()!) + 1

        public var description: String {
            switch self {
            case .enter: "enter"
            case .replace: "replace"
            case .cancel: "cancel"
            case .modify: "modify"
            case .cancelAll: "cancel_all"
            case .killClient: "kill_client"
            case .reinstateClient: "reinstate_client"
            case .killExchange: "kill_exchange"
            case .reinstateExchange: "reinstate_exchange"
            case .haltInstrument: "halt"
            case .resumeInstrument: "resume"
            case .advanceTime: "advance_time"
            case .refuse: "refuse"
            case .session: "session"
            case .startOfDay: "start_of_day"
            case .endOfDay: "end_of_day"
            case .fixSession: "fix_session"
            case .leadership: "leadership"
            case .tradingPhase: "trading_phase"
            case .operatorNote: "operator_note"
            }
        }

        @inlinable
        public init(_ command: EngineCommand) {
            switch command {
            case .enter: self = .enter
            case .replace: self = .replace
            case .cancel: self = .cancel
            case .modify: self = .modify
            case .cancelAll: self = .cancelAll
            case .killClient: self = .killClient
            case .reinstateClient: self = .reinstateClient
            case .killExchange: self = .killExchange
            case .reinstateExchange: self = .reinstateExchange
            case .haltInstrument: self = .haltInstrument
            case .resumeInstrument: self = .resumeInstrument
            case .advanceTime: self = .advanceTime
            case .refuse: self = .refuse
            case .session: self = .session
            case .fixSession: self = .fixSession
            case .leadership: self = .leadership
            case .startOfDay: self = .startOfDay
            case .endOfDay: self = .endOfDay
            case .tradingPhase: self = .tradingPhase
            case .operatorNote: self = .operatorNote
            }
        }
    }

    /// Why bytes are not a record.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Fewer bytes than the header, or than the header's length says.
        case truncated(available: Int, needed: Int)
        /// A length that is not a multiple of 8, or not the kind's.
        case badLength(UInt32)
        case checksumMismatch(stored: UInt32, computed: UInt32)
        case unknownKind(UInt8)
        /// A field whose value the engine's vocabulary cannot hold.
        case invalidField(String, UInt64)
        case nonZeroReserved

        public var description: String {
            switch self {
            case .truncated(let available, let needed): "truncated record: \(available) bytes of \(needed)"
            case .badLength(let length): "bad record length \(length)"
            case .checksumMismatch(let stored, let computed):
                "CRC-32C mismatch: stored \(hex(stored)), computed \(hex(computed))"
            case .unknownKind(let kind): "unknown record type \(kind)"
            case .invalidField(let name, let value): "invalid \(name) \(value)"
            case .nonZeroReserved: "reserved header bytes are not zero"
            }
        }
    }

    /// Writes `command` as a record at `out` (at least `maximumBytes` writable, 8-byte
    /// aligned) and returns its length. Allocates nothing.
    @inlinable
    public static func encode(_ command: SequencedCommand, to out: UnsafeMutableRawPointer) -> Int {
        let kind = Kind(command.command)
        let length = kind.recordBytes
        out.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        store(UInt32(length), out, 4)
        store(command.sequence, out, 8)
        store(command.command.timestamp, out, 16)
        out.storeBytes(of: kind.rawValue, toByteOffset: 24, as: UInt8.self)
        let p = out + headerBytes
        switch command.command {
        case .enter(let c):
            store(c.client, p, 0)
            store(c.shares, p, 4)
            store(c.token.high, p, 8)
            store(c.token.low, p, 16)
            store(c.symbol.rawValue, p, 24)
            store(c.price, p, 32)
            store(c.timeInForce.rawValue, p, 36)
            store(c.firm.rawValue, p, 40)
            store(c.minimumQuantity, p, 44)
            byte(c.side.rawValue, p, 48)
            byte(c.orderType.rawValue, p, 49)
            byte(c.display.rawValue, p, 50)
            byte(c.capacity.rawValue, p, 51)
            byte(c.intermarketSweep.rawValue, p, 52)
            byte(c.crossType.rawValue, p, 53)
            byte(c.customerType.rawValue, p, 54)
        case .replace(let c):
            store(c.client, p, 0)
            store(c.shares, p, 4)
            store(c.existingToken.high, p, 8)
            store(c.existingToken.low, p, 16)
            store(c.replacementToken.high, p, 24)
            store(c.replacementToken.low, p, 32)
            store(c.price, p, 40)
            store(c.timeInForce.rawValue, p, 44)
            store(c.minimumQuantity, p, 48)
            byte(c.display.rawValue, p, 52)
            byte(c.intermarketSweep.rawValue, p, 53)
        case .cancel(let c):
            store(c.client, p, 0)
            store(c.shares, p, 4)
            store(c.token.high, p, 8)
            store(c.token.low, p, 16)
        case .modify(let c):
            store(c.client, p, 0)
            store(c.shares, p, 4)
            store(c.token.high, p, 8)
            store(c.token.low, p, 16)
            byte(c.side.rawValue, p, 24)
        case .cancelAll(let a), .killClient(let a), .reinstateClient(let a):
            store(a.client, p, 0)
        case .haltInstrument(let a), .resumeInstrument(let a):
            store(a.symbol.rawValue, p, 0)
        case .refuse(let r):
            store(r.client, p, 0)
            byte(r.reason.rawValue, p, 4)
            byte(r.asCancelReject ? 1 : 0, p, 5)
            store(r.token.high, p, 8)
            store(r.token.low, p, 16)
        case .session(let e):
            store(e.client, p, 0)
            byte(e.kind.rawValue, p, 4)
        case .fixSession(let f):
            // client, kind, detail, length, 2 zero; first; second; 32 bytes of words.
            store(f.client, p, 0)
            byte(f.kind.rawValue, p, 4)
            byte(f.detail, p, 5)
            byte(f.length, p, 6)
            store(f.first, p, 8)
            store(f.second, p, 16)
            store(f.words.0, p, 24)
            store(f.words.1, p, 32)
            store(f.words.2, p, 40)
            store(f.words.3, p, 48)
        case .leadership(let l):
            // token; name length, 7 zero; the name's 40 bytes (five words).
            store(l.token, p, 0)
            byte(l.nameLength, p, 8)
            store(l.words.0, p, 16)
            store(l.words.1, p, 24)
            store(l.words.2, p, 32)
            store(l.words.3, p, 40)
            store(l.words.4, p, 48)
        case .tradingPhase(let c):
            // symbol (0: every symbol), action, 7 zero.
            store(c.symbol.rawValue, p, 0)
            byte(c.action.rawValue, p, 8)
        case .operatorNote(let n):
            // subject; action, part, parts, length, who length, 3 zero; the text's 40 bytes (five words).
            store(n.subject, p, 0)
            byte(n.action.rawValue, p, 8)
            byte(n.part, p, 9)
            byte(n.parts, p, 10)
            byte(n.length, p, 11)
            byte(n.whoLength, p, 12)
            store(n.words.0, p, 16)
            store(n.words.1, p, 24)
            store(n.words.2, p, 32)
            store(n.words.3, p, 40)
            store(n.words.4, p, 48)
        case .killExchange, .reinstateExchange, .advanceTime, .startOfDay, .endOfDay:
            break
        }
        store(rtes_crc32c(0, out + 4, length &- 4), out, 0)
        return length
    }

    /// Reads the record at the start of `bytes`: the command and the record's length, or
    /// what is wrong with it. A zero length word is reported as `.truncated(available, 0)`
    /// by `isEnd(_:)` callers first; `decode` treats it as a bad length.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<(command: SequencedCommand, length: Int), DecodingError> {
        guard bytes.count >= headerBytes else { return .failure(.truncated(available: bytes.count, needed: headerBytes)) }
        let base = bytes.baseAddress!
        let length = load(UInt32.self, base, 4)
        guard length >= UInt32(headerBytes), length % 8 == 0, length <= UInt32(maximumBytes) else {
            return .failure(.badLength(length))
        }
        guard bytes.count >= Int(length) else { return .failure(.truncated(available: bytes.count, needed: Int(length))) }
        let stored = load(UInt32.self, base, 0)
        let computed = rtes_crc32c(0, base + 4, Int(length) - 4)
        guard stored == computed else { return .failure(.checksumMismatch(stored: stored, computed: computed)) }
        let rawKind = base.load(fromByteOffset: 24, as: UInt8.self)
        guard let kind = Kind(rawValue: rawKind) else { return .failure(.unknownKind(rawKind)) }
        guard Int(length) == kind.recordBytes else { return .failure(.badLength(length)) }
        for i in 25..<32 where base.load(fromByteOffset: i, as: UInt8.self) != 0 { return .failure(.nonZeroReserved) }
        let sequence = load(UInt64.self, base, 8)
        let t = load(UInt64.self, base, 16)
        let p = UnsafeRawPointer(base + headerBytes)
        func token(_ offset: Int) -> OrderToken { OrderToken(high: load(UInt64.self, p, offset), low: load(UInt64.self, p, offset + 8)) }
        func field<E: RawRepresentable>(_ type: E.Type, _ name: String, _ offset: Int) throws(DecodingError) -> E where E.RawValue == UInt8 {
            let raw = p.load(fromByteOffset: offset, as: UInt8.self)
            guard let value = E(rawValue: raw) else { throw .invalidField(name, UInt64(raw)) }
            return value
        }
        let command: EngineCommand
        do throws(DecodingError) {
            switch kind {
            case .enter:
                command = .enter(EnterOrder(
                    timestamp: t, client: load(UInt32.self, p, 0), token: token(8), side: try field(Side.self, "side", 48),
                    orderType: try field(OrderType.self, "order type", 49), shares: load(UInt32.self, p, 4),
                    symbol: Symbol(rawValue: load(UInt64.self, p, 24)), price: load(UInt32.self, p, 32),
                    timeInForce: TimeInForce(rawValue: load(UInt32.self, p, 36)), firm: Firm(rawValue: load(UInt32.self, p, 40)),
                    display: try field(Display.self, "display", 50), capacity: try field(Capacity.self, "capacity", 51),
                    intermarketSweep: try field(IntermarketSweep.self, "intermarket sweep", 52),
                    minimumQuantity: load(UInt32.self, p, 44), crossType: try field(CrossType.self, "cross type", 53),
                    customerType: try field(CustomerType.self, "customer type", 54)))
            case .replace:
                command = .replace(ReplaceOrder(
                    timestamp: t, client: load(UInt32.self, p, 0), existingToken: token(8), replacementToken: token(24),
                    shares: load(UInt32.self, p, 4), price: load(UInt32.self, p, 40),
                    timeInForce: TimeInForce(rawValue: load(UInt32.self, p, 44)), display: try field(Display.self, "display", 52),
                    intermarketSweep: try field(IntermarketSweep.self, "intermarket sweep", 53),
                    minimumQuantity: load(UInt32.self, p, 48)))
            case .cancel:
                command = .cancel(CancelOrder(timestamp: t, client: load(UInt32.self, p, 0), token: token(8), shares: load(UInt32.self, p, 4)))
            case .modify:
                command = .modify(ModifyOrder(timestamp: t, client: load(UInt32.self, p, 0), token: token(8),
                                              side: try field(Side.self, "side", 24), shares: load(UInt32.self, p, 4)))
            case .cancelAll: command = .cancelAll(ClientAction(timestamp: t, client: load(UInt32.self, p, 0)))
            case .killClient: command = .killClient(ClientAction(timestamp: t, client: load(UInt32.self, p, 0)))
            case .reinstateClient: command = .reinstateClient(ClientAction(timestamp: t, client: load(UInt32.self, p, 0)))
            case .killExchange: command = .killExchange(t)
            case .reinstateExchange: command = .reinstateExchange(t)
            case .haltInstrument: command = .haltInstrument(InstrumentAction(timestamp: t, symbol: Symbol(rawValue: load(UInt64.self, p, 0))))
            case .resumeInstrument: command = .resumeInstrument(InstrumentAction(timestamp: t, symbol: Symbol(rawValue: load(UInt64.self, p, 0))))
            case .advanceTime: command = .advanceTime(t)
            case .refuse:
                let flag = p.load(fromByteOffset: 5, as: UInt8.self)
                guard flag <= 1 else { throw .invalidField("cancel-reject flag", UInt64(flag)) }
                command = .refuse(Refusal(timestamp: t, client: load(UInt32.self, p, 0), token: token(8),
                                          reason: try field(RejectReason.self, "reject reason", 4), asCancelReject: flag == 1))
            case .session:
                command = .session(SessionEvent(timestamp: t, client: load(UInt32.self, p, 0),
                                                kind: try field(SessionEventKind.self, "session event", 4)))
            case .startOfDay: command = .startOfDay(t)
            case .endOfDay: command = .endOfDay(t)
            case .fixSession:
                let fact = FIXSessionFact(
                    timestamp: t, client: load(UInt32.self, p, 0), kind: try field(FIXSessionFact.Kind.self, "FIX fact kind", 4),
                    detail: p.load(fromByteOffset: 5, as: UInt8.self), length: p.load(fromByteOffset: 6, as: UInt8.self),
                    first: load(UInt64.self, p, 8), second: load(UInt64.self, p, 16),
                    words: (load(UInt64.self, p, 24), load(UInt64.self, p, 32), load(UInt64.self, p, 40), load(UInt64.self, p, 48)))
                if fact.kind == .clOrdID && !(1...FIXSessionFact.maximumClOrdIDLength).contains(fact.clOrdIDLength) {
                    throw .invalidField("ClOrdID length", UInt64(fact.clOrdIDLength))
                }
                command = .fixSession(fact)
            case .leadership:
                let token = load(Int64.self, p, 0)
                guard token > 0 else { throw .invalidField("fencing token", UInt64(bitPattern: token)) }
                let length = p.load(fromByteOffset: 8, as: UInt8.self)
                guard Int(length) <= LeadershipTerm.maximumNameBytes else { throw .invalidField("leader name length", UInt64(length)) }
                command = .leadership(LeadershipTerm(
                    timestamp: t, token: token, nameLength: length,
                    words: (load(UInt64.self, p, 16), load(UInt64.self, p, 24), load(UInt64.self, p, 32), load(UInt64.self, p, 40),
                            load(UInt64.self, p, 48))))
            case .tradingPhase:
                command = .tradingPhase(PhaseCommand(timestamp: t, symbol: Symbol(rawValue: load(UInt64.self, p, 0)),
                                                     action: try field(PhaseAction.self, "phase action", 8)))
            case .operatorNote:
                let part = p.load(fromByteOffset: 9, as: UInt8.self)
                let parts = p.load(fromByteOffset: 10, as: UInt8.self)
                let length = p.load(fromByteOffset: 11, as: UInt8.self)
                let whoLength = p.load(fromByteOffset: 12, as: UInt8.self)
                guard parts >= 1 && Int(parts) <= OperatorNote.maximumParts else { throw .invalidField("operator note parts", UInt64(parts)) }
                guard part < parts else { throw .invalidField("operator note part", UInt64(part)) }
                guard Int(length) <= OperatorNote.chunkBytes else { throw .invalidField("operator note length", UInt64(length)) }
                guard Int(whoLength) <= OperatorNote.maximumWhoBytes else { throw .invalidField("operator note who length", UInt64(whoLength)) }
                command = .operatorNote(OperatorNote(
                    timestamp: t, subject: load(UInt64.self, p, 0), action: try field(OperatorNote.Action.self, "operator action", 8),
                    part: part, parts: parts, length: length, whoLength: whoLength,
                    words: (load(UInt64.self, p, 16), load(UInt64.self, p, 24), load(UInt64.self, p, 32), load(UInt64.self, p, 40),
                            load(UInt64.self, p, 48))))
            }
        } catch {
            return .failure(error)
        }
        return .success((SequencedCommand(sequence: sequence, command: command), Int(length)))
    }

    /// True when `bytes` starts where nothing was written (a zero length word).
    public static func isEnd(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count < 8 || (bytes.load(fromByteOffset: 4, as: UInt32.self) == 0 && bytes.load(fromByteOffset: 0, as: UInt32.self) == 0)
    }

    @inlinable @inline(__always) @usableFromInline
    static func store<T: FixedWidthInteger>(_ value: T, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }

    @inlinable @inline(__always) @usableFromInline
    static func byte(_ value: UInt8, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    static func load<T: FixedWidthInteger>(_ type: T.Type, _ p: UnsafeRawPointer, _ offset: Int) -> T {
        T(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
