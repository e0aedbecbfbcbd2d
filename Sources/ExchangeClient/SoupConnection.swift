import ExchangeTLS
import ExchangeWire
import Glibc

/// One raw SoupBinTCP packet as received: its type and a copy of its payload.
public struct SoupPacket: Equatable, Sendable, CustomStringConvertible {
    public var type: UInt8
    public var payload: [UInt8]

    public init(type: UInt8, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    public var description: String {
        if type == SoupPacketType.debug { return "Debug \"\(String(decoding: payload, as: UTF8.self))\"" }
        return "\(MessageText.typeName(type)) [\(payload.count) bytes]"
    }
}

/// A TCP connection carrying SoupBinTCP packets, byte for byte: the low level under
/// `OrderEntryClient`, and the way for tests to send anything at all (garbage, split
/// frames, packets a client may not send).
///
/// The socket is non-blocking; the blocking calls wait in `select` until their deadline.
/// Received bytes go through a `SoupFrameReader`, so packets split across reads and many
/// packets per read both come out whole. Buffers are allocated once, here.
///
/// Not thread-safe: one thread uses a connection at a time.
public final class SoupConnection {
    public let host: String
    public let port: Int
    let socket: TCPSocket
    var reader: SoupFrameReader
    /// Received bytes not yet framed are `receiveBuffer[receiveStart..<receiveEnd]`. New bytes
    /// are read only once these are all framed, so a frame that points into the buffer stays
    /// valid until the next call that hands out a frame.
    let receiveBuffer: UnsafeMutableRawPointer
    let receiveCapacity = 65_536
    var receiveStart = 0
    var receiveEnd = 0
    /// Bytes queued and not yet taken by the kernel are `sendBuffer[sendStart..<sendEnd]`.
    let sendBuffer: UnsafeMutableRawPointer
    let sendCapacity = 65_536
    var sendStart = 0
    var sendEnd = 0

    /// False once the peer closed, the connection failed, or `close()` was called.
    public private(set) var isOpen = true
    /// The text of the last Debug packet received (the exchange explains disconnects with one).
    public private(set) var lastDebug: String?
    /// When the last blocking send finished (CLOCK_MONOTONIC nanoseconds), for the blocking
    /// API's heartbeats; the non-blocking path (the load generator) keeps its own time.
    public private(set) var lastSendNanoseconds: UInt64
    /// Why the connection ended (thrown again by every later call).
    var failure: ClientError?

    /// The non-blocking socket's descriptor (to poll many connections at once).
    public var fileDescriptor: Int32 { socket.descriptor }
    /// TLS between the packets and the socket (nil: plain TCP). ClientTLS.swift.
    let tls: ClientTLS?

    /// Connects with TCP_NODELAY (unless `noDelay` is false); with `tls`, runs the TLS
    /// handshake too (within the same `connectTimeout`), checking the server's certificate
    /// against `host`.
    public init(host: String, port: Int, connectTimeout: Duration = .seconds(5), noDelay: Bool = true,
                tls context: TLSContext? = nil) throws(ClientError) {
        let deadline = Monotonic.deadline(after: connectTimeout)
        socket = try TCPSocket.connect(host: host, port: port, timeoutNanoseconds: Monotonic.nanoseconds(connectTimeout), noDelay: noDelay)
        if let context {
            guard let session = ClientTLS(context: context, host: host) else {
                socket.close()
                throw ClientError.tls("no memory for a TLS session")
            }
            do throws(ClientError) {
                try session.handshake(socket, until: deadline)
            } catch {
                socket.close()
                throw error
            }
            tls = session
        } else {
            tls = nil
        }
        self.host = host
        self.port = port
        reader = SoupFrameReader(maximumPacketLength: Int(UInt16.max))
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 64)
        sendBuffer = .allocate(byteCount: sendCapacity, alignment: 64)
        lastSendNanoseconds = Monotonic.now()
    }

    deinit {
        if isOpen { socket.close() }
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
    }

    /// Closes the socket at once (nothing queued is sent). Idempotent.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        if failure == nil { failure = .closed }
        socket.close()
    }

    // MARK: Sending

    /// Sends `bytes` exactly as given, waiting up to `timeout` for the kernel to take them.
    public func send(_ bytes: UnsafeRawBufferPointer, timeout: Duration = .seconds(5)) throws(ClientError) {
        let deadline = Monotonic.deadline(after: timeout)
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, sendCapacity)
            guard let space = try reserve(chunk, until: deadline) else { break }
            space.copyMemory(from: bytes.baseAddress! + offset, byteCount: chunk)
            commit(chunk)
            offset += chunk
        }
        try flush(until: deadline)
    }

    public func send(_ bytes: [UInt8], timeout: Duration = .seconds(5)) throws(ClientError) {
        var failure: ClientError?
        bytes.withUnsafeBytes { raw in
            do throws(ClientError) { try send(raw, timeout: timeout) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Sends one SoupBinTCP packet: the length field (1 + payload), `type`, `payload`.
    public func sendPacket(type: UInt8, payload: [UInt8] = [], timeout: Duration = .seconds(5)) throws(ClientError) {
        let length = payload.count + 1
        guard length <= Int(UInt16.max) else { throw ClientError.invalidArgument("a SoupBinTCP payload holds at most 65534 bytes") }
        try send([UInt8(length >> 8), UInt8(length & 0xFF), type] + payload, timeout: timeout)
    }

    /// Writes one message with `body` (at most `maximumLength` bytes; it returns how many it
    /// wrote) into the send buffer and sends it, waiting up to `timeout`.
    func sendMessage(maximumLength: Int, timeout: Duration, _ body: (UnsafeMutableRawPointer) -> Int) throws(ClientError) {
        let deadline = Monotonic.deadline(after: timeout)
        guard let space = try reserve(maximumLength, until: deadline) else {
            throw ClientError.timedOut(waitingFor: "room to send (the exchange is not reading)", seconds: Monotonic.seconds(timeout))
        }
        commit(body(space))
        try flush(until: deadline)
    }

    /// Room for `count` bytes at the end of the send buffer, moving unsent bytes to the front
    /// or flushing (until `deadline`) as needed. Nil at the deadline.
    func reserve(_ count: Int, until deadline: UInt64) throws(ClientError) -> UnsafeMutableRawPointer? {
        precondition(count <= sendCapacity)
        while true {
            if let space = try reserveWithoutWaiting(count) { return space }
            guard try socket.wait(for: Int16(POLLOUT), until: deadline) else { return nil }
        }
    }

    /// Room for `count` bytes, or nil when the kernel will not take enough of what is
    /// queued right now. Never blocks.
    func reserveWithoutWaiting(_ count: Int) throws(ClientError) -> UnsafeMutableRawPointer? {
        if let failure { throw failure }
        if sendCapacity - sendEnd >= count { return sendBuffer + sendEnd }
        _ = try flushWithoutWaiting()
        if sendStart > 0 {
            let pending = sendEnd - sendStart
            if pending > 0 { sendBuffer.copyMemory(from: sendBuffer + sendStart, byteCount: pending) }
            sendStart = 0
            sendEnd = pending
        }
        return sendCapacity - sendEnd >= count ? sendBuffer + sendEnd : nil
    }

    /// Marks `count` bytes written at the pointer `reserve` returned as queued.
    @inline(__always)
    func commit(_ count: Int) {
        sendEnd += count
    }

    /// Bytes queued and not yet sent.
    public var unsentBytes: Int { sendEnd - sendStart }

    /// Hands the kernel what it takes of the queued bytes now. True when none are left.
    @discardableResult
    func flushWithoutWaiting() throws(ClientError) -> Bool {
        if let failure { throw failure }
        while sendStart < sendEnd {
            let transfer = tls.map { $0.send(socket, sendBuffer + sendStart, count: sendEnd - sendStart) }
                ?? socket.send(sendBuffer + sendStart, count: sendEnd - sendStart)
            switch transfer {
            case .bytes(let n):
                sendStart += n
            case .wouldBlock:
                return false
            case .failed(let errno):
                throw fail(.connectionLost(errno: errno, debug: lastDebug))
            case .endOfStream:
                return false
            }
        }
        sendStart = 0
        sendEnd = 0
        if let tls {
            switch tls.flush(socket) {
            case .bytes: break
            case .failed(let errno): throw fail(.connectionLost(errno: errno, debug: lastDebug))
            case .wouldBlock, .endOfStream: return false
            }
        }
        return true
    }

    /// Sends everything queued, waiting until `deadline`.
    func flush(until deadline: UInt64) throws(ClientError) {
        while try !flushWithoutWaiting() {
            guard try socket.wait(for: Int16(POLLOUT), until: deadline) else {
                throw ClientError.timedOut(waitingFor: "the exchange to take \(unsentBytes) queued bytes", seconds: 0)
            }
        }
        lastSendNanoseconds = Monotonic.now()
    }

    // MARK: Receiving

    /// The next whole packet already received, or nil when more bytes are needed. Its payload
    /// is valid until the next call that returns a frame. Never blocks.
    public func nextBufferedFrame() throws(ClientError) -> SoupFrame? {
        guard receiveStart < receiveEnd || reader.bufferedBytes > 0 else {
            if let failure { throw failure }
            return nil
        }
        var input = UnsafeRawBufferPointer(start: receiveBuffer + receiveStart, count: receiveEnd - receiveStart)
        let result = reader.next(&input)
        receiveStart = receiveEnd - input.count
        switch result {
        case .frame(let frame):
            if frame.type == SoupPacketType.debug { lastDebug = String(decoding: frame.payload, as: UTF8.self) }
            return frame
        case .needMoreData:
            receiveStart = 0
            receiveEnd = 0
            if let failure { throw failure }
            return nil
        case .malformed(let error):
            throw fail(.malformedFrame(error))
        }
    }

    /// Reads once from the socket if every received byte has been framed and the kernel has
    /// some. Returns the number of bytes read (0: none now). Throws when the peer closed
    /// or the connection failed. Never blocks.
    @discardableResult
    public func receiveAvailable() throws(ClientError) -> Int {
        if let failure { throw failure }
        guard receiveStart >= receiveEnd else { return 0 }
        let transfer = tls.map { $0.receive(socket, into: receiveBuffer, capacity: receiveCapacity) }
            ?? socket.receive(into: receiveBuffer, capacity: receiveCapacity)
        switch transfer {
        case .bytes(let n):
            receiveStart = 0
            receiveEnd = n
            return n
        case .wouldBlock:
            return 0
        case .endOfStream:
            throw fail(.closedByPeer(debug: lastDebug))
        case .failed(let errno):
            throw fail(.connectionLost(errno: errno, debug: lastDebug))
        }
    }

    /// The next packet, waiting until `deadline` (CLOCK_MONOTONIC nanoseconds); nil then.
    public func nextFrame(until deadline: UInt64) throws(ClientError) -> SoupFrame? {
        while true {
            if let frame = try nextBufferedFrame() { return frame }
            if try receiveAvailable() > 0 { continue }
            guard try socket.wait(for: Int16(POLLIN), until: deadline) else { return nil }
            // Readable: bytes, end of stream or an error; the next receive says which.
            if try receiveAvailable() == 0 && Monotonic.now() >= deadline { return nil }
        }
    }


    /// Every packet until the exchange closes the connection (true) or `timeout` passes
    /// (false). For tests of what the exchange does with bad input.
    public func receiveUntilClosed(timeout: Duration = .seconds(5)) -> (packets: [SoupPacket], closed: Bool) {
        let deadline = Monotonic.deadline(after: timeout)
        var packets: [SoupPacket] = []
        while true {
            do throws(ClientError) {
                guard let frame = try nextFrame(until: deadline) else { return (packets, false) }
                packets.append(SoupPacket(type: frame.type, payload: Array(frame.payload)))
            } catch {
                switch error {
                case .closedByPeer, .connectionLost: return (packets, true)
                default: return (packets, false)
                }
            }
        }
    }

    /// Records why the connection ended, closes the socket, and returns the error to throw.
    func fail(_ error: ClientError) -> ClientError {
        // A TLS failure (a refused certificate, a bad record) is the reason, not the EPROTO it ended in.
        if failure == nil { failure = tls?.failure.map { ClientError.tls($0.description) } ?? error }
        if isOpen {
            isOpen = false
            socket.close()
        }
        return failure!
    }
}
