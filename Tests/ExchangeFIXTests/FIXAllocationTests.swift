import CMallocCounter
import ExchangeCore
@testable import ExchangeFIX
import Testing

struct Accept: FIXLogonVerifier {
    func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision { .accept }
}

/// The per-message work of a FIX session touches no heap: framing, parsing, the session's
/// answers (Logon, Heartbeat, Reject, resends from the ring), the application mapping of
/// NewOrderSingle / cancel / replace and the ExecutionReports of engine events. A malloc
/// interposer (CShims/CMallocCounter) counts this thread's heap operations.
@Suite(.serialized) struct FIXHeapAllocations {
    @Test func sessionAndApplicationWorkWithoutTouchingTheHeap() {
        // The first pass instantiates the runtime's type metadata (which allocates once per
        // type, in any code); the second, on a fresh session, is the one counted.
        _ = pass(counted: false)
        let (counts, commands, reports, resent, rejects, written) = pass(counted: true)
        #expect(commands == 100)
        #expect(reports == 100)
        #expect(resent > 0 && rejects == 50)
        #expect(written > 0)
        #expect(counts.allocations == 0, "\(counts.allocations) allocations, \(counts.bytes) bytes")
        #expect(counts.frees == 0)
    }

    func pass(counted: Bool) -> (rtes_malloc_counts, Int, Int, UInt64, UInt64, Int) {
        let c = FIXSessionConfiguration(senderCompID: "RTES", targetCompID: "CLIENT1")
        let ring = UnsafeMutableRawPointer.allocate(byteCount: FIXMessageRing.byteCount(slotCount: 64, slotSize: 512), alignment: 8)
        defer { ring.deallocate() }
        var session = FIXSession(configuration: c, store: FIXMessageRing(memory: ring, slotCount: 64, slotSize: 512), now: t0)
        var app = FIXApplication(configuration: FIXApplicationConfiguration(client: 7, firm: Firm("RTES")!, execIDPrefix: 7, midnight: midnight))
        var verifier = Accept()
        let h = "49=CLIENT1|56=RTES|52=\(stamp(t0))"
        var inputs: [[UInt8]] = [fix("35=A|\(h)|34=1|98=0|108=30|553=u|554=p|")]
        for i in 0..<50 {
            let seq = 2 + i * 4
            inputs.append(fix("35=D|\(h)|34=\(seq)|11=C\(i)|55=AAPL|54=1|38=100|40=2|44=10.25|\(transact)|"))
            inputs.append(fix("35=G|\(h)|34=\(seq + 1)|11=R\(i)|41=C\(i)|55=AAPL|54=1|38=200|40=2|44=10.5|\(transact)|"))
            inputs.append(fix("35=1|\(h)|34=\(seq + 2)|112=X|"))
            inputs.append(fix("35=0|\(h)|34=\(seq + 3)|58=a|58=b|"))
        }
        inputs.append(fix("35=2|\(h)|34=202|7=1|16=0|"))
        let stream = Array(inputs.joined())
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 64)
        defer { out.deallocate(); body.deallocate() }
        var written = 0, reports = 0, commands = 0

        let counts = stream.withUnsafeBytes { input -> rtes_malloc_counts in
            if counted { rtes_malloc_counter_start() }
            var offset = 0
            while offset < input.count {
                let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
                let frame = FIXFrameReader.next(rest, maximumLength: 4096)
                guard case .message(let n) = frame else { break }
                let step = session.receive(frame, bytes: UnsafeRawBufferPointer(rebasing: rest[0..<n]), now: t0, verifier: &verifier,
                                           out: UnsafeMutableRawBufferPointer(rebasing: out[written...]))
                written &+= step.written
                if case .application = step.event {
                    let r = app.inbound(session.message, now: t0, timestamp: ts, body: body)
                    if let command = r.command {
                        commands &+= 1
                        let event: EngineEvent
                        switch command {
                        case .enter(let e):
                            event = .accepted(OrderAccepted(timestamp: ts, client: 7, token: e.token, reference: 1, instrument: 0,
                                side: e.side, orderType: e.orderType, shares: e.shares, price: e.price, timeInForce: e.timeInForce,
                                firm: e.firm, display: e.display, capacity: e.capacity, intermarketSweep: e.intermarketSweep,
                                minimumQuantity: e.minimumQuantity, crossType: e.crossType, state: .live))
                        case .replace(let e):
                            event = .executed(OrderExecuted(timestamp: ts, instrument: 0, shares: 50, price: 102_500, matchNumber: 1,
                                takerClient: 7, takerToken: e.existingToken, takerReference: 1, takerSide: .buy, makerClient: 9,
                                makerToken: e.existingToken, makerReference: 2, makerSide: .sell, makerDisplay: .anonymous))
                        default:
                            event = .systemEvent(SystemEventOccurred(timestamp: ts, event: .startOfDay))
                        }
                        if let (type, n) = app.report(event, body: body),
                           let m = session.send(type, body: UnsafeRawBufferPointer(rebasing: body[0..<n]), now: t0,
                                                out: UnsafeMutableRawBufferPointer(rebasing: out[written...])) {
                            written &+= m
                            reports &+= 1
                        }
                    }
                }
                offset &+= n
            }
            return counted ? rtes_malloc_counter_stop() : rtes_malloc_counts()
        }
        return (counts, commands, reports, session.counters.messagesResent, session.counters.rejectsSent, written)
    }
}
