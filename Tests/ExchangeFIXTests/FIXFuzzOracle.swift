import ExchangeCore
import ExchangeFIX

/// The checks the seeded fuzz test and the libFuzzer entry (Tests/WireFuzzer/FIXFuzzer.swift)
/// run on one input: it is fed to a logged-on session as a stream; every step must consume
/// bytes, stay within the output, and every message the session writes must frame again.
enum FIXFuzzOracle {
    static let header = "49=C|56=R|52=20261207-09:00:00.000"
    static func message(_ fields: String) -> [UInt8] {
        let body: [UInt8] = fields.utf8.map { $0 == UInt8(ascii: "|") ? 1 : $0 }  // no Foundation: the libFuzzer build links none
        var m = Array("8=FIX.4.4\u{01}9=\(body.count)\u{01}".utf8) + body
        let sum = m.reduce(UInt8(0), &+)
        let digits: [UInt8] = [sum / 100 &+ 48, sum / 10 % 10 &+ 48, sum % 10 &+ 48, 1]
        m += Array("10=".utf8)
        m += digits
        return m
    }

    static let seedMessages: [[UInt8]] = [
        message("35=D|\(header)|34=2|11=A|55=AAPL|54=1|38=100|40=2|44=10.25|59=0|60=20261207-09:00:00.000|"),
        message("35=G|\(header)|34=2|11=B|41=A|55=AAPL|54=1|38=100|40=2|44=10.5|60=20261207-09:00:00.000|"),
        message("35=F|\(header)|34=2|11=C|41=A|55=AAPL|54=1|60=20261207-09:00:00.000|"),
        message("35=H|\(header)|34=2|11=A|55=AAPL|54=1|"),
        message("35=q|\(header)|34=2|11=M|530=7|60=20261207-09:00:00.000|"),
        message("35=2|\(header)|34=2|7=1|16=0|"),
        message("35=4|\(header)|34=2|123=Y|36=5|43=Y|122=20261207-09:00:00.000|"),
        message("35=1|\(header)|34=2|112=T|"),
        message("35=5|\(header)|34=2|"),
        message("35=A|\(header)|34=2|98=0|108=30|141=Y|"),
    ]

    struct Accept: FIXLogonVerifier {
        func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision { .accept }
    }

    static let t0: UInt64 = 1_796_634_000 * 1_000_000_000  // 2026-12-07 09:00 UTC

    /// nil when all checks hold, else what failed.
    static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var c = FIXSessionConfiguration(senderCompID: "R", targetCompID: "C")
        c.heartBtIntRange = 1...300
        let ringBytes = FIXMessageRing.byteCount(slotCount: 8, slotSize: 256)
        let ring = UnsafeMutableRawPointer.allocate(byteCount: ringBytes, alignment: 8)
        defer { ring.deallocate() }
        var session = FIXSession(configuration: c, store: FIXMessageRing(memory: ring, slotCount: 8, slotSize: 256), now: t0)
        var appConfiguration = FIXApplicationConfiguration(client: 1, firm: .blank, execIDPrefix: 1, midnight: t0)
        appConfiguration.maximumClOrdIDs = 16
        var app = FIXApplication(configuration: appConfiguration)
        var verifier = Accept()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 8)
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer { out.deallocate(); body.deallocate() }
        let logon = message("35=A|\(header)|34=1|98=0|108=30|")
        let first = logon.withUnsafeBytes { l in
            session.receive(FIXFrameReader.next(l, maximumLength: 4096), bytes: l, now: t0, verifier: &verifier, out: out)
        }
        guard first.event == .loggedOn else { return "seed Logon not accepted: \(first.event)" }
        var offset = 0
        var steps = 0
        while offset < input.count, session.state != .disconnected {
            steps += 1
            if steps > input.count + 2 { return "no progress" }
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            let frame = FIXFrameReader.next(rest, maximumLength: 4096)
            var n: Int
            switch frame {
            case .needMore: return nil
            case .message(let l): n = l
            case .garbled(let skip, _): n = skip
            case .fatal: n = rest.count
            }
            guard n >= 1, n <= rest.count else { return "frame of \(n) bytes from \(rest.count): \(frame)" }
            let step = session.receive(frame, bytes: UnsafeRawBufferPointer(rebasing: rest[0..<n]), now: t0, verifier: &verifier, out: out)
            guard step.written <= out.count else { return "wrote past the output" }
            if let problem = reframe(UnsafeRawBufferPointer(rebasing: out[0..<step.written])) { return problem }
            if case .application = step.event {
                let r = app.inbound(session.message, now: t0, timestamp: 0, body: body)
                guard r.replyLength <= body.count else { return "reply past the body buffer" }
                if r.replyLength > 0 {
                    guard let m = session.send(r.replyType, body: UnsafeRawBufferPointer(rebasing: body[0..<r.replyLength]), now: t0, out: out)
                    else { return "reply did not fit" }
                    if let problem = reframe(UnsafeRawBufferPointer(rebasing: out[0..<m])) { return problem }
                }
            }
            offset += n
        }
        return nil
    }

    /// Every message the session wrote frames and parses cleanly.
    static func reframe(_ bytes: UnsafeRawBufferPointer) -> String? {
        var offset = 0
        var parsed = FIXMessage()
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard case .message(let n) = FIXFrameReader.next(rest, maximumLength: 1 << 16) else { return "we wrote an unframeable message" }
            if let failure = parsed.parse(UnsafeRawBufferPointer(rebasing: rest[0..<n])) { return "we wrote a message that fails: \(failure)" }
            offset += n
        }
        return nil
    }
}
