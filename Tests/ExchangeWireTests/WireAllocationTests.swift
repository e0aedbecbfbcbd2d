import CMallocCounter
import ExchangeCore
import ExchangeWire
import Testing

/// The gateway's per-message work touches no heap: framing (zero-copy and buffered),
/// inbound decoding, outbound encoding from engine events, and the client-side decoders.
/// A malloc interposer (CShims/CMallocCounter) counts this thread's heap operations.
@Suite(.serialized) struct WireHeapAllocations {
    /// A session of every packet type, and the same split into 7-byte pieces.
    let stream = Array(WireFuzzOracle.seedPackets.joined())

    @Test func countsTheAllocationsOfSwiftCode() {
        let size = Int.random(in: 64...128)
        rtes_malloc_counter_start()
        let array = [UInt8](repeating: 1, count: size)
        let counts = rtes_malloc_counter_stop()
        #expect(array.count == size)
        #expect(counts.allocations >= 1)
    }

    @Test func framesDecodesAndEncodesWithoutTouchingTheHeap() {
        var reader = SoupFrameReader(maximumPacketLength: 81)
        let out = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 64)
        defer { out.deallocate() }
        var frames = 0, commands = 0, messages = 0, logins = 0, bytes = 0
        let executed = Events.executed(makerDisplay: .nonDisplayed)

        func work(_ memory: UnsafeRawBufferPointer) {
            for pass in 0..<2 {
                let piece = pass == 0 ? memory.count : 7   // whole input (zero copy), then 7-byte pieces (buffered)
                var offset = 0
                while offset < memory.count {
                    let n = min(piece, memory.count - offset)
                    var input = UnsafeRawBufferPointer(rebasing: memory[offset..<(offset + n)])
                    while case .frame(let frame) = reader.next(&input) {
                        frames &+= 1
                        if case .command = OUCHInbound.decode(frame.payload, client: 1, defaultFirm: Fixture.firm,
                                                              timestamp: 9) { commands &+= 1 }
                        if OUCHMessage.decode(frame.payload) != nil { messages &+= 1 }
                        if SoupBinTCP.parseLoginRequest(frame.payload) != nil { logins &+= 1 }
                    }
                    offset &+= n
                }
            }
            bytes &+= SoupBinTCP.sequencedDataHeader(payloadLength: 66, to: out)
            bytes &+= OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: out + 3)
            bytes &+= OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: out)
            bytes &+= OUCHOutbound.canceled(Events.canceled, to: out)
            bytes &+= OUCHOutbound.executed(executed, as: .taker, to: out)
            bytes &+= OUCHOutbound.executed(executed, as: .maker, to: out)
            bytes &+= OUCHOutbound.rejected(Events.rejected, to: out)
            bytes &+= OUCHOutbound.modified(Events.modified, to: out)
            bytes &+= OUCHOutbound.cancelRejected(Events.cancelRejected, to: out)
            bytes &+= SoupBinTCP.loginAccepted(session: .blank, sequence: 123_456, to: out)
            bytes &+= OUCHInboundEncoder.enter(token: Fixture.token, side: .buy, shares: 1, symbol: Fixture.symbol,
                                               price: 1, to: out)
        }

        let counts = stream.withUnsafeBytes { memory in
            work(memory)   // warm-up
            rtes_malloc_counter_start()
            for _ in 0..<100 { work(memory) }
            return rtes_malloc_counter_stop()
        }
        #expect(frames == 101 * 2 * WireFuzzOracle.seedPackets.count)
        #expect(commands > 0 && messages > 0 && logins > 0 && bytes > 0)
        #expect(counts.allocations == 0)
        #expect(counts.frees == 0)
    }
}
