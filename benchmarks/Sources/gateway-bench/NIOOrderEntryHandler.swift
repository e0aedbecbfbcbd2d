import ExchangeCore
import ExchangeWire
import NIOCore

/// SoupBinTCP framing the SwiftNIO way: each whole packet (length field included) becomes
/// one inbound ByteBuffer, a slice of the bytes that arrived.
struct SoupPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        guard length > 0 else { throw BenchFailure("a SoupBinTCP length field of 0") }
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: 2 + Int(length))!))
        return .continue
    }
}

/// One client connection of the SwiftNIO order-entry server: SoupBinTCP login against the
/// accounts, then OUCH messages into the shared engine (`NIOExchange`), whose answers come
/// back through `sendSequenced`. Writes are flushed when the read burst ends, as NIO
/// handlers do.
final class NIOOrderEntryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let exchange: NIOExchange
    private var context: ChannelHandlerContext?
    private(set) var account: BenchAccount?
    private var nextSequence: UInt64 = 1

    init(exchange: NIOExchange) {
        self.exchange = exchange
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let account { exchange.endSession(client: account.clientID, handler: self) }
        account = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        let closing = packet.withUnsafeReadableBytes { bytes -> Bool in
            let type = bytes[2]
            let payload = UnsafeRawBufferPointer(rebasing: bytes[3...])
            switch type {
            case SoupPacketType.unsequencedData:
                guard let account else { return true }
                return !exchange.submit(payload, from: account)
            case SoupPacketType.loginRequest:
                return !login(payload, context: context)
            case SoupPacketType.clientHeartbeat, SoupPacketType.debug:
                return false
            default:  // Logout Request, or a type a client never sends
                return true
            }
        }
        if closing {
            context.flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Login Request → Login Accepted, or Login Rejected and false.
    private func login(_ payload: UnsafeRawBufferPointer, context: ChannelHandlerContext) -> Bool {
        guard account == nil, let request = SoupBinTCP.parseLoginRequest(payload), let found = exchange.authenticate(request) else {
            write(capacity: 4) { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.notAuthorized, to: $0) }
            return false
        }
        guard exchange.beginSession(client: found.clientID, handler: self) else {  // logged in on another connection
            write(capacity: 4) { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.sessionNotAvailable, to: $0) }
            return false
        }
        account = found
        write(capacity: 33) { [nextSequence] in SoupBinTCP.loginAccepted(session: NIOExchange.session, sequence: nextSequence, to: $0) }
        return true
    }

    /// One OUCH message in Sequenced Data; `encode` writes the message and returns its length.
    func sendSequenced(_ encode: (UnsafeMutableRawPointer) -> Int) {
        write(capacity: SoupBinTCP.headerLength + OUCH.maximumOutboundLength) { out in
            let length = encode(out + SoupBinTCP.headerLength)
            return SoupBinTCP.sequencedDataHeader(payloadLength: length, to: out) + length
        }
        nextSequence += 1
    }

    /// Sends what is written now rather than at the end of the read burst (an answer for a
    /// connection other than the one being read).
    func flush() { context?.flush() }

    private func write(capacity: Int, _ encode: (UnsafeMutableRawPointer) -> Int) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: capacity)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { encode($0.baseAddress!) }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }
}
