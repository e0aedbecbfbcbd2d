import ExchangeCore

#if !DEBUG
// The compiler proves that a FIX session's per-message work takes no lock and allocates
// nothing: these wrappers exist only to carry the annotations, which are checked on optimized
// builds (`swift build -c release --target ExchangeFIX`). FIXAllocationTests proves the same
// at run time with the malloc counter.
enum ProvenHotPaths {
    struct Verifier: FIXLogonVerifier {
        func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision { .pending }
    }

    @_noLocks @_noAllocation
    static func frame(_ input: UnsafeRawBufferPointer) -> FIXFrame {
        FIXFrameReader.next(input, maximumLength: 4096)
    }

    @_noLocks @_noAllocation
    static func parse(_ message: inout FIXMessage, _ input: UnsafeRawBufferPointer) -> FIXParseFailure? {
        message.parse(input)
    }

    @_noLocks @_noAllocation
    static func receive(_ session: inout FIXSession<FIXMessageRing>, _ frame: FIXFrame, _ input: UnsafeRawBufferPointer, now: UInt64,
                        verifier: inout Verifier, out: UnsafeMutableRawBufferPointer) -> FIXSessionStep {
        session.receive(frame, bytes: input, now: now, verifier: &verifier, out: out)
    }

    @_noLocks @_noAllocation
    static func tick(_ session: inout FIXSession<FIXMessageRing>, now: UInt64, out: UnsafeMutableRawBufferPointer) -> FIXSessionStep {
        session.tick(now: now, out: out)
    }

    @_noLocks @_noAllocation
    static func send(_ session: inout FIXSession<FIXMessageRing>, _ type: FIXMsgType, body: UnsafeRawBufferPointer, now: UInt64,
                     out: UnsafeMutableRawBufferPointer) -> Int? {
        session.send(type, body: body, now: now, out: out)
    }

    @_noLocks @_noAllocation
    static func inbound(_ app: inout FIXApplication, _ message: borrowing FIXMessage, now: UInt64, timestamp: Timestamp,
                        body: UnsafeMutableRawBufferPointer) -> FIXInbound {
        app.inbound(message, now: now, timestamp: timestamp, body: body)
    }

    @_noLocks @_noAllocation
    static func token(_ table: borrowing FIXOrderTable, _ index: Int, _ token: OrderToken) -> (OrderToken, Int?) {
        (table.engineToken(index), table.index(of: token))
    }

    @_noLocks @_noAllocation
    static func report(_ app: inout FIXApplication, _ event: EngineEvent, maker: Bool, body: UnsafeMutableRawBufferPointer) -> (FIXMsgType, Int)? {
        app.report(event, maker: maker, body: body)
    }
}
#endif
