import CExchangeShim
import ExchangeTLS
import Glibc

/// TLS under a benchmark client's connection (rtes-tls): a client `TLSChannel` between the
/// protocol's bytes and the non-blocking socket. Packets are encrypted as they are queued
/// (`encrypt`), so the send queue holds ciphertext; received ciphertext is decrypted on the
/// client's thread after the TSC read that stamps its arrival. So the round trip the
/// benchmark times holds the server's TLS work and the longer bytes on the wire, not the
/// client's own encryption and decryption. Buffers are allocated once, here.
final class BenchTLS {
    /// The most a TLS record adds to its plaintext (TLS 1.3 with AES-GCM adds 22 bytes;
    /// 1.2 with a CBC suite, up to 5 + 16 + 48 + 255).
    static let recordOverhead = 512

    private let channel: TLSChannel
    private let port: UInt16
    /// Ciphertext received and not yet taken by the channel (its inbound buffer was full).
    private let cipher: UnsafeMutableRawPointer
    private let cipherCapacity = TLSChannel.defaultBufferCapacity
    private var cipherStart = 0
    private var cipherEnd = 0
    /// A packet's plaintext before it is encrypted.
    private let plaintext: UnsafeMutableRawPointer
    private let plaintextCapacity = 4_096

    init(context: TLSContext, port: UInt16) throws(BenchFailure) {
        guard let channel = TLSChannel(context: context, expectedHost: "127.0.0.1") else {
            throw BenchFailure("port \(port): cannot make a TLS session (out of memory)")
        }
        self.channel = channel
        self.port = port
        cipher = .allocate(byteCount: cipherCapacity, alignment: 64)
        plaintext = .allocate(byteCount: plaintextCapacity, alignment: 64)
    }

    deinit {
        cipher.deallocate()
        plaintext.deallocate()
    }

    /// Runs the handshake on the non-blocking socket `fd`, spinning, for at most `seconds`.
    func handshake(fd: Int32, seconds: UInt64) throws(BenchFailure) {
        let deadline = rtes_monotonic_ns() + seconds * 1_000_000_000
        while true {
            let progress = channel.advanceHandshake()
            try sendPending(fd: fd)
            switch progress {
            case .complete: return
            case .failed: throw failure("the TLS handshake failed")
            case .needsInput, .needsOutputRoom: break
            }
            let received = recv(fd, cipher, cipherCapacity, Int32(MSG_DONTWAIT))
            if received > 0 {
                _ = channel.receiveCiphertext(UnsafeRawBufferPointer(start: cipher, count: received))
                continue
            }
            if received == 0 { throw failure("the server closed the connection during the TLS handshake (is gateway.tls on?)") }
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw BenchFailure("port \(port): recv: \(String(cString: strerror(errno)))")
            }
            if rtes_monotonic_ns() > deadline { throw BenchFailure("port \(port): no TLS handshake within \(seconds) s") }
        }
    }

    /// Writes one packet with `write` into a scratch buffer, encrypts it, and moves its
    /// ciphertext to `out` (at least `room` bytes); returns the ciphertext's length.
    @inline(__always)
    func encrypt(_ write: (UnsafeMutableRawPointer) -> Int, to out: UnsafeMutableRawPointer, room: Int) -> Int {
        let length = write(plaintext)
        guard case .bytes(let taken) = channel.writePlaintext(UnsafeRawBufferPointer(start: plaintext, count: length)),
              taken == length else {
            fatalError("port \(port): TLS did not take a \(length)-byte packet")  // the channel's buffer holds two whole records
        }
        let moved = channel.takeCiphertext(into: UnsafeMutableRawBufferPointer(start: out, count: room))
        precondition(channel.pendingCiphertext == 0, "port \(port): the send queue has no room for a TLS record")
        return moved
    }

    /// Plaintext into `buffer`: what the channel can decrypt, after feeding it what the socket
    /// has; 0 when nothing whole has arrived. `arrivedAt` is the TSC right after a `recv` that
    /// returned bytes (left alone when none did).
    @inline(__always)
    func receive(fd: Int32, into buffer: UnsafeMutableRawPointer, capacity: Int, arrivedAt: inout UInt64) throws(BenchFailure) -> Int {
        while true {
            switch channel.readPlaintext(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity)) {
            case .bytes(let n) where n > 0: return n
            case .bytes, .needsInput: break
            case .needsOutputRoom: throw failure("TLS wants to send while reading (renegotiation is off)")
            case .closed: throw BenchFailure("port \(port): the server closed the TLS session")
            case .failed: throw failure("a TLS record did not decrypt")
            }
            if cipherStart < cipherEnd {
                let taken = channel.receiveCiphertext(UnsafeRawBufferPointer(start: cipher + cipherStart, count: cipherEnd - cipherStart))
                cipherStart += taken
                if taken > 0 { continue }
                throw failure("the TLS channel takes no ciphertext and yields no plaintext")
            }
            let received = recv(fd, cipher, cipherCapacity, Int32(MSG_DONTWAIT))
            if received > 0 {
                arrivedAt = rtes_rdtscp()
                cipherStart = 0
                cipherEnd = received
                continue
            }
            if received == 0 { throw BenchFailure("port \(port): the server closed the connection") }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK { return 0 }
            if error != EINTR { throw BenchFailure("port \(port): recv: \(String(cString: strerror(error)))") }
        }
    }

    /// Sends the channel's pending ciphertext (handshake messages), spinning until the kernel took it.
    private func sendPending(fd: Int32) throws(BenchFailure) {
        while channel.pendingCiphertext > 0 {
            let n = channel.takeCiphertext(into: UnsafeMutableRawBufferPointer(start: plaintext, count: plaintextCapacity))
            var sent = 0
            while sent < n {
                let r = send(fd, plaintext + sent, n - sent, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                if r > 0 { sent += r; continue }
                if r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { continue }
                throw BenchFailure("port \(port): send during the TLS handshake: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func failure(_ what: String) -> BenchFailure {
        BenchFailure("port \(port): \(what)" + (channel.failure.map { ": \($0)" } ?? ""))
    }
}
