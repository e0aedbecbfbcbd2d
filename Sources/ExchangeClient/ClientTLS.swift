import ExchangeTLS
import Glibc

/// TLS under a `SoupConnection`: a client TLSChannel between the SoupBinTCP bytes and the
/// socket. The handshake runs (blocking, bounded by the connect timeout) when the connection
/// is made; after it, plaintext sends encrypt into the channel and its ciphertext goes to the
/// socket as the kernel takes it, and receives read ciphertext from the socket and hand out
/// everything it decrypts to. Buffers are allocated once, here.
final class ClientTLS {
    let channel: TLSChannel
    /// Ciphertext taken from the channel and not yet taken by the kernel.
    let outbound: UnsafeMutableRawPointer
    let outboundCapacity = TLSChannel.defaultBufferCapacity
    var outboundStart = 0
    var outboundEnd = 0
    let inbound: UnsafeMutableRawPointer
    let inboundCapacity = TLSChannel.defaultBufferCapacity
    /// Why the session failed, once it has.
    var failure: TLSFailure?

    init?(context: TLSContext, host: String) {
        guard let channel = TLSChannel(context: context, expectedHost: host) else { return nil }
        self.channel = channel
        outbound = .allocate(byteCount: outboundCapacity, alignment: 64)
        inbound = .allocate(byteCount: inboundCapacity, alignment: 64)
    }

    deinit {
        outbound.deallocate()
        inbound.deallocate()
    }

    /// Runs the handshake until it completes or `deadline` (monotonic nanoseconds) passes.
    func handshake(_ socket: TCPSocket, until deadline: UInt64) throws(ClientError) {
        while true {
            let progress = channel.advanceHandshake()
            try flushBlocking(socket, until: deadline)
            switch progress {
            case .complete:
                return
            case .failed:
                throw tlsError()
            case .needsInput, .needsOutputRoom:
                break
            }
            guard try socket.wait(for: Int16(POLLIN), until: deadline) else {
                throw ClientError.timedOut(waitingFor: "the TLS handshake", seconds: 0)
            }
            switch socket.receive(into: inbound, capacity: inboundCapacity) {
            case .bytes(let n):
                _ = channel.receiveCiphertext(UnsafeRawBufferPointer(start: inbound, count: n))
            case .wouldBlock:
                break
            case .endOfStream:
                _ = channel.advanceHandshake()
                throw failure.map { ClientError.tls($0.description) }
                    ?? ClientError.tls("the exchange closed the connection during the TLS handshake (is gateway.tls on, and does it accept this certificate?)")
            case .failed(let errno):
                throw ClientError.connectionLost(errno: errno, debug: nil)
            }
        }
    }

    func tlsError() -> ClientError {
        let reason = channel.failure ?? TLSFailure(kind: .other, detail: "")
        failure = reason
        return .tls(reason.description)
    }

    /// Encrypts plaintext and pushes ciphertext to the kernel; `.bytes(n)`: n plaintext
    /// bytes are in TLS's hands (their ciphertext may still wait: `flush`).
    func send(_ socket: TCPSocket, _ bytes: UnsafeRawPointer, count: Int) -> Transfer {
        if case .failed(let errno) = flush(socket) { return .failed(errno: errno) }
        switch channel.writePlaintext(UnsafeRawBufferPointer(start: bytes, count: count)) {
        case .bytes(let n):
            if case .failed(let errno) = flush(socket) { return .failed(errno: errno) }
            return n > 0 ? .bytes(n) : .wouldBlock
        case .needsOutputRoom, .needsInput:
            return .wouldBlock
        case .closed, .failed:
            _ = tlsError()
            return .failed(errno: EPROTO)
        }
    }

    /// Hands the kernel the ciphertext waiting. `.bytes(0)`: none is left; `.wouldBlock`:
    /// some is.
    func flush(_ socket: TCPSocket) -> Transfer {
        while true {
            if outboundStart == outboundEnd {
                outboundStart = 0
                outboundEnd = channel.takeCiphertext(into: UnsafeMutableRawBufferPointer(start: outbound, count: outboundCapacity))
                if outboundEnd == 0 { return .bytes(0) }
            }
            switch socket.send(outbound + outboundStart, count: outboundEnd - outboundStart) {
            case .bytes(let n): outboundStart += n
            case .wouldBlock: return .wouldBlock
            case .failed(let errno): return .failed(errno: errno)
            case .endOfStream: return .wouldBlock
            }
        }
    }

    var hasUnsentCiphertext: Bool { outboundStart < outboundEnd || channel.pendingCiphertext > 0 }

    private func flushBlocking(_ socket: TCPSocket, until deadline: UInt64) throws(ClientError) {
        while true {
            switch flush(socket) {
            case .bytes: return
            case .failed(let errno): throw ClientError.connectionLost(errno: errno, debug: nil)
            case .wouldBlock, .endOfStream:
                guard try socket.wait(for: Int16(POLLOUT), until: deadline) else {
                    throw ClientError.timedOut(waitingFor: "the exchange to take the TLS handshake", seconds: 0)
                }
            }
        }
    }

    /// Decrypts into `buffer`: everything the channel holds, reading the socket (without
    /// waiting) when it holds nothing. The buffer should hold at least a BIO's worth
    /// (`TLSChannel.defaultBufferCapacity`), so that nothing decrypted waits unseen while
    /// the caller polls the socket.
    func receive(_ socket: TCPSocket, into buffer: UnsafeMutableRawPointer, capacity: Int) -> Transfer {
        var total = 0
        while total < capacity {
            switch channel.readPlaintext(into: UnsafeMutableRawBufferPointer(start: buffer + total, count: capacity - total)) {
            case .bytes(let n):
                total += n
            case .needsInput:
                if total > 0 { return .bytes(total) }
                switch socket.receive(into: inbound, capacity: inboundCapacity) {
                case .bytes(let n):
                    _ = channel.receiveCiphertext(UnsafeRawBufferPointer(start: inbound, count: n))
                case .wouldBlock:
                    return .wouldBlock
                case .endOfStream:
                    return .endOfStream
                case .failed(let errno):
                    return .failed(errno: errno)
                }
            case .needsOutputRoom:
                if case .failed(let errno) = flush(socket) { return .failed(errno: errno) }
                if total > 0 { return .bytes(total) }
                return .wouldBlock
            case .closed:
                return total > 0 ? .bytes(total) : .endOfStream
            case .failed:
                _ = tlsError()
                return total > 0 ? .bytes(total) : .failed(errno: EPROTO)
            }
        }
        return .bytes(total)
    }
}
