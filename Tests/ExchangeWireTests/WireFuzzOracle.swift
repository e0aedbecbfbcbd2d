import ExchangeCore
import ExchangeWire

// The fuzzing oracle, shared by the seeded CI fuzz test (WireFuzzTests) and the libFuzzer
// target (Tests/WireFuzzer, built by .ci/fuzz-wire). It imports no test framework so both
// can compile it.
//
// One input drives everything:
//   byte 0  bit 0: 0 = the rest is a raw byte stream; 1 = the rest are instructions that
//           build a stream of valid packets (every message type) and then mutate it
//   byte 1  the reader's maximumPacketLength (from a small set, including 1 and 65535)
//   byte 2… the stream or the instructions; they also seed the chunking
//
// Checks, any failure returned as a description:
//   - SoupFrameReader, fed the stream in pseudo-random chunks (each chunk in its own
//     exact-size allocation, freed after use, so AddressSanitizer sees any read past a chunk
//     or any pointer kept into an old one), yields exactly the packets, error and leftover
//     bytes of a naive reference framer over the whole stream;
//   - every packet payload, and the whole input as one payload, goes through
//     OUCHInbound.decode, OUCHMessage.decode and the SoupBinTCP parsers: each result is
//     consistent with the bytes, and whatever decodes re-encodes to the same bytes.
enum WireFuzzOracle {
    static func run(_ data: UnsafeRawBufferPointer) -> String? {
        guard data.count >= 2 else { return checkPayload(Array(data)) }
        let bytes = Array(data)
        let maximum = maximumLengths[Int(bytes[1]) % maximumLengths.count]
        let stream = bytes[0] & 1 == 0 ? Array(bytes[2...]) : structuredStream(Array(bytes[2...]))
        var random = SplitMix64(seed: bytes.reduce(UInt64(0x9E37_79B9)) { $0 &* 31 &+ UInt64($1) })
        if let failure = checkFraming(stream, maximum: maximum, random: &random) { return failure }
        return checkPayload(Array(bytes[2...]))
    }

    static let maximumLengths = [1, 2, 3, 20, 47, 50, 81, 200, 65535]

    // MARK: Framing

    struct Outcome: Equatable {
        var frames: [[UInt8]] = []   // type byte followed by payload
        var error: SoupFramingError?
        var leftover = 0
    }

    /// The obviously-correct framer: the whole stream at once.
    static func referenceFraming(_ s: [UInt8], maximum: Int) -> Outcome {
        var outcome = Outcome()
        var i = 0
        while true {
            if s.count - i < 2 { outcome.leftover = s.count - i; break }
            let length = Int(s[i]) << 8 | Int(s[i + 1])
            if length == 0 { outcome.error = .zeroLength; break }
            if length > maximum { outcome.error = .tooLong(length); break }
            if s.count - i - 2 < length { outcome.leftover = s.count - i; break }
            outcome.frames.append(Array(s[(i + 2)..<(i + 2 + length)]))
            i += 2 + length
        }
        return outcome
    }

    static func checkFraming(_ stream: [UInt8], maximum: Int, random: inout SplitMix64) -> String? {
        let expected = referenceFraming(stream, maximum: maximum)
        var reader = SoupFrameReader(maximumPacketLength: maximum)
        var got = Outcome()
        var payloads: [[UInt8]] = []
        var offset = 0
        feeding: while offset <= stream.count {
            let size = min(stream.count - offset, random.chunkSize())
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
            defer { chunk.deallocate() }
            for k in 0..<size { chunk[k] = stream[offset + k] }
            var input = UnsafeRawBufferPointer(start: chunk.baseAddress, count: size)
            let chunkStart = UnsafeRawPointer(chunk.baseAddress!)
            draining: while true {
                let before = input.count
                switch reader.next(&input) {
                case .frame(let frame):
                    guard frame.payload.count < maximum else { return "payload of \(frame.payload.count) above maximum \(maximum)" }
                    guard input.count < before else { return "frame without consuming input" }
                    if let p = frame.payload.baseAddress, frame.payload.count > 0,
                       p >= chunkStart && p < chunkStart + size,
                       p + frame.payload.count > chunkStart + size {
                        return "zero-copy payload runs past its input"
                    }
                    let copy = [frame.type] + Array(frame.payload)
                    got.frames.append(copy)
                    payloads.append(Array(frame.payload))
                case .needMoreData:
                    guard input.count == 0 else { return "needMoreData with \(input.count) bytes unread" }
                    break draining
                case .malformed(let error):
                    got.error = error
                    break feeding
                }
            }
            offset += size
            if offset == stream.count { break }
        }
        if got.error == nil { got.leftover = reader.bufferedBytes }
        guard got == expected else {
            return "framing differs from the reference (maximum \(maximum)): got \(got.frames.count) frames, " +
                "error \(String(describing: got.error)), leftover \(got.leftover); expected \(expected.frames.count), " +
                "\(String(describing: expected.error)), \(expected.leftover)"
        }
        for payload in payloads {
            if let failure = checkPayload(payload) { return failure }
        }
        return nil
    }

    // MARK: Payload decoders

    static func checkPayload(_ payload: [UInt8]) -> String? {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(payload.count, 1), alignment: 1)
        defer { memory.deallocate() }
        for k in 0..<payload.count { memory[k] = payload[k] }
        let p = UnsafeRawBufferPointer(start: memory.baseAddress, count: payload.count)
        if let failure = checkInbound(p, payload) { return failure }
        if let failure = checkOutbound(p, payload) { return failure }
        return checkSoupPayloads(p, payload)
    }

    static let inboundLengths: [UInt8: Int] = [0x4F: 49, 0x55: 47, 0x58: 19, 0x4D: 20]

    static func checkInbound(_ p: UnsafeRawBufferPointer, _ payload: [UInt8]) -> String? {
        let result = OUCHInbound.decode(p, client: 1, defaultFirm: .blank, timestamp: 5)
        guard let type = payload.first else {
            return result == .malformed(.empty) ? nil : "empty payload gave \(result)"
        }
        guard let expected = inboundLengths[type] else {
            return result == .malformed(.unknownType(type)) ? nil : "unknown type gave \(result)"
        }
        guard payload.count == expected else {
            return result == .malformed(.wrongLength(type: type, expected: expected, got: payload.count))
                ? nil : "wrong length gave \(result)"
        }
        switch result {
        case .command(let command):
            guard command.timestamp == 5 else { return "timestamp not stamped" }
            var buffer = [UInt8](repeating: 0, count: OUCH.maximumInboundLength)
            let length = buffer.withUnsafeMutableBytes { OUCHInboundEncoder.encode(command, to: $0.baseAddress!) }
            guard let length, Array(buffer[..<length]) == payload else { return "inbound \(command) does not re-encode to its bytes" }
        case .rejectable(_, let reason):
            switch (type, reason) {
            case (0x4F, .invalidSide), (0x4D, .invalidSide):
                guard Side(ouchCode: payload[15]) == nil else { return "valid side refused" }
            case (0x4F, .invalidDisplay), (0x55, .invalidDisplay):
                guard Display(ouchCode: payload[type == 0x4F ? 40 : 41]) == nil else { return "valid display refused" }
            case (0x4F, .invalidCapacity):
                guard Capacity(ouchCode: payload[41]) == nil else { return "valid capacity refused" }
            case (0x4F, .invalidIntermarketSweep), (0x55, .invalidIntermarketSweep):
                guard IntermarketSweep(ouchCode: payload[42]) == nil else { return "valid intermarket sweep refused" }
            case (0x4F, .invalidCrossType):
                guard CrossType(ouchCode: payload[47]) == nil else { return "valid cross type refused" }
            case (0x4F, .invalidCustomerType):
                guard CustomerType(ouchCode: payload[48]) == nil else { return "valid customer type refused" }
            case (0x55, .marketPriceOnReplace):
                guard payload[33..<37].elementsEqual([0x7F, 0xFF, 0xFF, 0xFF]) else { return "limit replace refused" }
            default:
                return "type \(type) rejectable for \(reason)"
            }
        case .malformed(let error):
            return "well-formed \(type) message malformed: \(error)"
        }
        return nil
    }

    static func checkOutbound(_ p: UnsafeRawBufferPointer, _ payload: [UInt8]) -> String? {
        guard let message = OUCHMessage.decode(p) else { return nil }
        var buffer = [UInt8](repeating: 0, count: OUCH.maximumOutboundLength)
        let length = buffer.withUnsafeMutableBytes { message.encode(to: $0.baseAddress!) }
        return Array(buffer[..<length]) == payload ? nil : "outbound \(message) does not re-encode to its bytes"
    }

    static func checkSoupPayloads(_ p: UnsafeRawBufferPointer, _ payload: [UInt8]) -> String? {
        switch SoupBinTCP.decodeLoginRequest(p) {
        case .success(let request):
            guard payload.count == 46 else { return "login request of \(payload.count) bytes accepted" }
            var buffer = [UInt8](repeating: 0, count: 49)
            _ = buffer.withUnsafeMutableBytes {
                SoupBinTCP.loginRequest(username: request.username, password: request.password, session: request.session,
                                        sequence: request.sequence, to: $0.baseAddress!)
            }
            guard buffer[3..<29].elementsEqual(payload[0..<26]) else { return "login credentials not kept byte for byte" }
            let again = buffer.withUnsafeBytes { SoupBinTCP.parseLoginRequest(UnsafeRawBufferPointer(rebasing: $0[3...])) }
            guard again?.sequence == request.sequence else { return "login sequence does not round trip" }
        case .failure(.wrongLength(let n)):
            guard n == payload.count, n != 46 else { return "wrong length \(n) for \(payload.count) bytes" }
        case .failure(.nonNumericSequence):
            guard payload.count == 46 else { return "non-numeric sequence for a \(payload.count)-byte payload" }
        }
        if let accepted = SoupBinTCP.parseLoginAccepted(p) {
            var buffer = [UInt8](repeating: 0, count: 33)
            _ = buffer.withUnsafeMutableBytes {
                SoupBinTCP.loginAccepted(session: accepted.session, sequence: accepted.sequence, to: $0.baseAddress!)
            }
            guard buffer[3..<13].elementsEqual(payload[0..<10]) else { return "session not kept byte for byte" }
        }
        return nil
    }

    // MARK: Structured streams

    /// Valid packets of every type, client and server side.
    static let seedPackets: [[UInt8]] = {
        func packet(_ body: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 128)
            let n = buffer.withUnsafeMutableBytes { body($0.baseAddress!) }
            return Array(buffer[..<n])
        }
        func sequenced(_ body: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
            packet { out in
                let n = body(out + 3)
                return SoupBinTCP.sequencedDataHeader(payloadLength: n, to: out) + n
            }
        }
        func unsequenced(_ body: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
            packet { out in
                let n = body(out + 3)
                return SoupBinTCP.unsequencedDataHeader(payloadLength: n, to: out) + n
            }
        }
        let token = OrderToken("FUZZ0000000001")!
        let other = OrderToken("FUZZ0000000002")!
        let symbol = Symbol("AAPL")!
        let firm = Firm("RTES")!
        return [
            packet { SoupBinTCP.loginRequest(username: SoupUsername("fuzz")!, password: SoupPassword("pw")!, sequence: 12, to: $0) },
            packet { SoupBinTCP.loginAccepted(session: SoupSessionName("S1")!, sequence: 1, to: $0) },
            packet { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.notAuthorized, to: $0) },
            packet { SoupBinTCP.serverHeartbeat(to: $0) },
            packet { SoupBinTCP.clientHeartbeat(to: $0) },
            packet { SoupBinTCP.endOfSession(to: $0) },
            packet { SoupBinTCP.logoutRequest(to: $0) },
            unsequenced { OUCHInboundEncoder.enter(token: token, side: .buy, shares: 100, symbol: symbol, price: 10_000, to: $0) },
            unsequenced { OUCHInboundEncoder.enter(token: token, side: .sell, shares: 1, symbol: symbol, price: 0,
                                                   orderType: .market, firm: firm, to: $0) },
            unsequenced { OUCHInboundEncoder.replace(existingToken: token, replacementToken: other, shares: 5, price: 1, to: $0) },
            unsequenced { OUCHInboundEncoder.cancel(token: token, shares: 0, to: $0) },
            unsequenced { OUCHInboundEncoder.modify(token: token, side: .sellShort, shares: 3, to: $0) },
            sequenced { OUCHOutbound.systemEvent(timestamp: 1, eventCode: 0x53, to: $0) },
            sequenced { OUCHOutbound.accepted(
                timestamp: 2, token: token, side: .buy, shares: 100, symbol: symbol, price: 10_000, timeInForce: .marketHours,
                firm: firm, display: .anonymous, reference: 1, capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0,
                crossType: .continuous, state: .live, to: $0) },
            sequenced { OUCHOutbound.replaced(
                timestamp: 3, token: other, side: .buy, shares: 5, symbol: symbol, price: 1, timeInForce: .marketHours,
                firm: firm, display: .anonymous, reference: 2, capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0,
                crossType: .continuous, state: .live, previousToken: token, to: $0) },
            sequenced { OUCHOutbound.canceled(timestamp: 4, token: other, decrement: 5, reason: 0x55, to: $0) },
            sequenced { OUCHOutbound.executed(timestamp: 5, token: token, shares: 1, price: 1, liquidity: 0x52, matchNumber: 1, to: $0) },
            sequenced { OUCHOutbound.brokenTrade(timestamp: 6, token: token, matchNumber: 1, reason: 0x45, to: $0) },
            sequenced { OUCHOutbound.rejected(timestamp: 7, token: token, reason: 0x4F, to: $0) },
            sequenced { OUCHOutbound.cancelPending(timestamp: 8, token: token, to: $0) },
            sequenced { OUCHOutbound.cancelReject(timestamp: 9, token: token, to: $0) },
            sequenced { OUCHOutbound.orderModified(timestamp: 10, token: token, side: .sell, shares: 2, to: $0) },
            packet { out in
                let text: [UInt8] = Array("debug".utf8)
                return text.withUnsafeBytes { SoupBinTCP.debug(text: $0, to: out) }
            },
        ]
    }()

    /// Instructions: the first byte (mod 16, plus 1) says how many packets; each next byte
    /// picks one; then triples (operation, position, value) mutate the concatenated stream:
    /// overwrite a byte, delete one, insert one, or truncate.
    static func structuredStream(_ instructions: [UInt8]) -> [UInt8] {
        guard let first = instructions.first else { return [] }
        let packets = Int(first % 16) + 1
        var stream: [UInt8] = []
        var i = 1
        while i < instructions.count && i <= packets {
            stream += seedPackets[Int(instructions[i]) % seedPackets.count]
            i += 1
        }
        while i + 2 < instructions.count {
            let operation = instructions[i], value = instructions[i + 2]
            let position = stream.isEmpty ? 0 : Int(instructions[i + 1]) % stream.count
            switch operation % 8 {
            case 0, 1, 2, 3: if !stream.isEmpty { stream[position] = value }
            case 4: if !stream.isEmpty { stream.remove(at: position) }
            case 5: stream.insert(value, at: position)
            case 6: if !stream.isEmpty { stream[position] ^= 1 << (value % 8) }
            default: if value < 16 { stream.removeLast(min(stream.count, Int(value))) }
            }
            i += 3
        }
        return stream
    }
}

/// A small deterministic generator (Vigna's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mostly small chunks (splits land everywhere), sometimes empty, sometimes large.
    mutating func chunkSize() -> Int {
        switch next() % 8 {
        case 0: 0
        case 1, 2, 3: Int(next() % 4) + 1
        case 4, 5: Int(next() % 40) + 1
        default: Int(next() % 400) + 1
        }
    }
}
