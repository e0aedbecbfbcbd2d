import ExchangeCore

#if !DEBUG
// The compiler proves that the gateway's per-message work takes no lock and allocates
// nothing: these wrappers exist only to carry the annotations, which are checked on
// optimized builds (`swift build -c release --target ExchangeWire`). Tests prove the same
// at run time with the malloc counter (WireAllocationTests).
enum ProvenHotPaths {
    @_noLocks @_noAllocation
    static func frame(_ reader: inout SoupFrameReader, _ input: inout UnsafeRawBufferPointer) -> SoupReadResult {
        reader.next(&input)
    }

    @_noLocks @_noAllocation
    static func decode(_ payload: UnsafeRawBufferPointer, client: ClientID, firm: Firm, timestamp: Timestamp) -> OUCHDecodeResult {
        OUCHInbound.decode(payload, client: client, defaultFirm: firm, timestamp: timestamp)
    }

    @_noLocks @_noAllocation
    static func login(_ payload: UnsafeRawBufferPointer) -> SoupLoginRequest? {
        SoupBinTCP.parseLoginRequest(payload)
    }

    @_noLocks @_noAllocation
    static func accepted(_ event: OrderAccepted, symbol: Symbol, to out: UnsafeMutableRawPointer) -> Int {
        OUCHOutbound.accepted(event, symbol: symbol, to: out)
    }

    @_noLocks @_noAllocation
    static func replaced(_ event: OrderReplaced, symbol: Symbol, to out: UnsafeMutableRawPointer) -> Int {
        OUCHOutbound.replaced(event, symbol: symbol, to: out)
    }

    @_noLocks @_noAllocation
    static func executed(_ event: OrderExecuted, as role: ExecutionRole, to out: UnsafeMutableRawPointer) -> Int {
        OUCHOutbound.executed(event, as: role, to: out)
    }

    @_noLocks @_noAllocation
    static func orderEvent(_ event: EngineEvent, symbol: Symbol, to out: UnsafeMutableRawPointer) -> Int {
        let header = SoupBinTCP.sequencedDataHeader(payloadLength: 0, to: out)
        let body = out + header
        let length: Int
        switch event {
        case .accepted(let e): length = OUCHOutbound.accepted(e, symbol: symbol, to: body)
        case .replaced(let e): length = OUCHOutbound.replaced(e, symbol: symbol, to: body)
        case .canceled(let e): length = OUCHOutbound.canceled(e, to: body)
        case .rejected(let e): length = OUCHOutbound.rejected(e, to: body)
        case .modified(let e): length = OUCHOutbound.modified(e, to: body)
        case .cancelRejected(let e): length = OUCHOutbound.cancelRejected(e, to: body)
        case .executed(let e): length = OUCHOutbound.executed(e, as: .taker, to: body)
        default: return 0
        }
        return SoupBinTCP.sequencedDataHeader(payloadLength: length, to: out) + length
    }

    @_noLocks @_noAllocation
    static func decodeOutbound(_ payload: UnsafeRawBufferPointer) -> OUCHMessage? {
        OUCHMessage.decode(payload)
    }
}
#endif
