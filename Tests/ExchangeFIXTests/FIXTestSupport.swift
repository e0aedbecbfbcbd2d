import ExchangeCore
@testable import ExchangeFIX

/// Builds a FIX 4.4 message from `35=D|49=…` (| for SOH), with BeginString, BodyLength and
/// CheckSum computed (or the given ones, to break them).
func fix(_ fields: String, checksum: Int? = nil, bodyLength: Int? = nil) -> [UInt8] {
    let body = Array(fields.replacingOccurrences(of: "|", with: "\u{01}").utf8)
    var m = Array("8=FIX.4.4\u{01}9=\(bodyLength ?? body.count)\u{01}".utf8) + body
    let sum = checksum ?? Int(m.reduce(UInt8(0), &+))
    m += Array("10=\(String(format: "%03d", sum))\u{01}".utf8)
    return m
}

/// The text of a message with | for SOH.
func text(_ bytes: some Sequence<UInt8>) -> String {
    String(decoding: bytes.map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
}

/// 2026-12-07 00:00:00 UTC.
let midnight: UInt64 = 1_796_601_600 * 1_000_000_000
let t0 = midnight + 9 * 3_600_000_000_000  // 09:00

func stamp(_ ns: UInt64) -> String {
    var b = [UInt8](repeating: 0, count: 32)
    let n = b.withUnsafeMutableBytes { FIXTimestamp.write(ns, precision: .milliseconds, to: $0.baseAddress!) }
    return String(decoding: b[0..<n], as: UTF8.self)
}

struct AcceptAll: FIXLogonVerifier {
    var seen: [String] = []
    var decision = FIXLogonDecision.accept
    mutating func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision {
        seen.append((username.map { String(decoding: $0, as: UTF8.self) } ?? "-") + "/" + (password.map { String(decoding: $0, as: UTF8.self) } ?? "-"))
        return decision
    }
}

/// Splits output bytes into messages (text with |).
func messages(_ bytes: [UInt8]) -> [String] {
    var out: [String] = []
    var rest = bytes[...]
    while !rest.isEmpty {
        let frame = rest.withUnsafeBytes { FIXFrameReader.next($0, maximumLength: 8192) }
        guard case .message(let n) = frame else { out.append("BAD:" + text(rest)); break }
        out.append(text(rest.prefix(n)))
        rest = rest.dropFirst(n)
    }
    return out
}

func field(_ message: String, _ tag: Int) -> String? {
    for f in message.split(separator: "|") where f.hasPrefix("\(tag)=") { return String(f.dropFirst("\(tag)=".count)) }
    return nil
}

/// A session over a ring, fed whole messages, with the time under the test's control.
final class Harness {
    var session: FIXSession<FIXMessageRing>
    let ringMemory: UnsafeMutableRawPointer
    var verifier = AcceptAll()
    var now = t0
    var inSeq: UInt64 = 1
    var sent: [String] = []
    var events: [FIXSessionEvent] = []

    init(configure: (inout FIXSessionConfiguration) -> Void = { _ in }) {
        var c = FIXSessionConfiguration(senderCompID: "RTES", targetCompID: "CLIENT1")
        configure(&c)
        ringMemory = .allocate(byteCount: FIXMessageRing.byteCount(slotCount: 64, slotSize: 512), alignment: 8)
        session = FIXSession(configuration: c, store: FIXMessageRing(memory: ringMemory, slotCount: 64, slotSize: 512), now: t0)
    }
    deinit { ringMemory.deallocate() }

    func header(_ type: String, seq: UInt64? = nil) -> String {
        "35=\(type)|49=CLIENT1|56=RTES|34=\(seq ?? inSeq)|52=\(stamp(now))"
    }

    /// Feeds raw bytes (as one read) and records what the session wrote.
    @discardableResult
    func feed(_ bytes: [UInt8]) -> [String] {
        var out = [UInt8](repeating: 0, count: 65536)
        var written: [UInt8] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            let step: FIXSessionStep = rest.withUnsafeBytes { input in
                let frame = FIXFrameReader.next(input, maximumLength: 4096)
                var n = 0
                switch frame {
                case .message(let l): n = l
                case .garbled(let s, _): n = s
                case .needMore, .fatal: n = input.count
                }
                let step = out.withUnsafeMutableBytes { o in
                    session.receive(frame, bytes: UnsafeRawBufferPointer(rebasing: input[0..<n]), now: now, verifier: &verifier, out: o)
                }
                rest = rest.dropFirst(n)
                return step
            }
            written += out[0..<step.written]
            events.append(step.event)
        }
        let m = messages(written)
        sent += m
        return m
    }

    /// Sends a message with the next inbound sequence number.
    @discardableResult
    func send(_ type: String, _ body: String = "", seq: UInt64? = nil, extraHeader: String = "") -> [String] {
        let s = seq ?? inSeq
        if seq == nil { inSeq += 1 }
        return feed(fix(header(type, seq: s) + extraHeader + (body.isEmpty ? "" : "|" + body) + "|"))
    }

    func logon(_ body: String = "98=0|108=30|553=alice|554=secret") -> [String] { send("A", body) }

    func tick() -> [String] {
        var out = [UInt8](repeating: 0, count: 65536)
        let step = out.withUnsafeMutableBytes { session.tick(now: now, out: $0) }
        events.append(step.event)
        let m = messages(Array(out[0..<step.written]))
        sent += m
        return m
    }

    /// Sends an application message from our side (the body fields as text).
    @discardableResult
    func sendApp(_ type: FIXMsgType, _ body: String) -> String {
        var out = [UInt8](repeating: 0, count: 4096)
        let b = Array(body.replacingOccurrences(of: "|", with: "\u{01}").utf8)
        let n = b.withUnsafeBytes { bb in out.withUnsafeMutableBytes { session.send(type, body: bb, now: now, out: $0) } }
        let m = text(out[0..<n!])
        sent.append(m)
        return m
    }
}
