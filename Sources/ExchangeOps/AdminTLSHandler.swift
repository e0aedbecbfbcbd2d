import ExchangeTLS
import NIOCore

/// admin.tls on: HTTPS on the admin plane's own NIO socket loop, with the same OpenSSL
/// channel as the exchange's other TLS ports (`TLSChannel`, driven by bytes through memory
/// BIOs). First in each connection's pipeline: the ciphertext NIO reads is fed to the channel
/// and what it decrypts goes on to the HTTP decoder; the HTTP answers written through it are
/// encrypted one record (at most 16 KiB) at a time and their ciphertext written to the socket.
///
/// The admin plane's bounds stay as they were: `AdminHandler` (behind this handler) still
/// times out a connection that completes no request — a client that never finishes its
/// handshake included — and still stops reading while answers wait. A handshake that fails,
/// or a record that does not decrypt, sends OpenSSL's alert, closes the connection and counts
/// it (`rtes_admin_connections_closed_total{reason="tls_failed"}`).
final class AdminTLSHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    /// What NIO's HTTP encoder writes (byte buffers only: the admin plane sends no file regions).
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let session: TLSChannel
    private let connections: AdminConnections
    private var failed = false
    private var closeNotifySent = false
    /// Plaintext a read decrypts into, and ciphertext taken from the channel, before each is
    /// copied into a buffer for NIO (one per connection, made once).
    private var scratch = [UInt8](repeating: 0, count: 16_896)

    init?(context tlsContext: TLSContext, connections: AdminConnections) {
        guard let session = TLSChannel(context: tlsContext) else { return nil }
        self.session = session
        self.connections = connections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var input = unwrapInboundIn(data)
        var fired = false
        while true {
            let taken = input.withUnsafeReadableBytes { session.receiveCiphertext($0) }
            input.moveReaderIndex(forwardBy: taken)
            var progressed = taken > 0
            if !session.isHandshakeComplete {
                let progress = session.advanceHandshake()
                writeCiphertext(context, promise: nil)
                if progress == .failed { return fail(context) }
                if progress != .complete {
                    context.flush()
                    if input.readableBytes == 0 { break }
                    if !progressed { return fail(context) }
                    continue
                }
            }
            reading: while true {
                let transfer = scratch.withUnsafeMutableBytes { session.readPlaintext(into: $0) }
                switch transfer {
                case .bytes(let n) where n > 0:
                    progressed = true
                    var plaintext = context.channel.allocator.buffer(capacity: n)
                    scratch.withUnsafeBytes { plaintext.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    fired = true
                    context.fireChannelRead(wrapInboundOut(plaintext))
                    if failed { return }
                case .bytes, .needsInput, .needsOutputRoom:
                    break reading
                case .closed:
                    // close_notify from the client: what it asked is answered; then the close.
                    if fired { context.fireChannelReadComplete() }
                    context.close(promise: nil)
                    return
                case .failed:
                    return fail(context)
                }
            }
            if input.readableBytes == 0 { break }
            if !progressed { return fail(context) }
        }
        writeCiphertext(context, promise: nil)
        context.flush()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var plaintext) = unwrapOutboundIn(data) else {
            promise?.fail(ChannelError.operationUnsupported)
            return
        }
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        while plaintext.readableBytes > 0 {
            // One record at most, and no more than the outbound buffer has room for, so that
            // OpenSSL never holds a half-written record.
            let room = TLSChannel.defaultBufferCapacity - session.pendingCiphertext - 64
            let count = min(plaintext.readableBytes, 16_384, room)
            guard count > 0 else {
                writeCiphertext(context, promise: nil)
                continue
            }
            let transfer = plaintext.withUnsafeReadableBytes { session.writePlaintext(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            switch transfer {
            case .bytes(let n):
                plaintext.moveReaderIndex(forwardBy: n)
                if n == 0 { writeCiphertext(context, promise: nil) }
            case .needsOutputRoom, .needsInput:
                writeCiphertext(context, promise: nil)
            case .closed, .failed:
                promise?.fail(ChannelError.ioOnClosedChannel)
                return fail(context)
            }
        }
        writeCiphertext(context, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A clean end for clients that wait for one (curl, Python's ssl): close_notify first.
        if !failed, !closeNotifySent, mode != .input, session.isHandshakeComplete {
            closeNotifySent = true
            _ = session.close()
            writeCiphertext(context, promise: nil)
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    /// Moves the ciphertext the channel holds into the outbound pipeline (not flushed);
    /// `promise` completes with the last of it (in order, after what was written before, when
    /// there is none).
    private func writeCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var wrote = false
        while session.pendingCiphertext > 0 {
            let n = scratch.withUnsafeMutableBytes { session.takeCiphertext(into: $0) }
            guard n > 0 else { break }
            var buffer = context.channel.allocator.buffer(capacity: n)
            scratch.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            let last = session.pendingCiphertext == 0
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: last ? promise : nil)
            if last { wrote = true }
        }
        // No ciphertext (an empty write, such as the HTTP encoder's end of a response): an empty
        // write carries the promise, so that it completes in order — once the kernel has taken
        // everything written before it — as it would without TLS. (Completing it at once would
        // let the admin plane read on while its answers pile up unsent.)
        if !wrote, let promise { context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise) }
    }

    /// The handshake or a record failed: OpenSSL's alert goes out, then the connection closes.
    private func fail(_ context: ChannelHandlerContext) {
        guard !failed else { return }
        failed = true
        connections.count(.tlsFailed)
        var alert: ByteBuffer?
        while session.pendingCiphertext > 0 {
            let n = scratch.withUnsafeMutableBytes { session.takeCiphertext(into: $0) }
            guard n > 0 else { break }
            if alert == nil { alert = context.channel.allocator.buffer(capacity: n) }
            scratch.withUnsafeBytes { alert!.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        guard let alert else { return context.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(alert))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Why the session failed (tests and logs).
    var failure: TLSFailure? { session.failure }
}
