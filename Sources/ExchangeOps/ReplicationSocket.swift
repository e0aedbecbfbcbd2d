import Glibc

/// One end of the replication link: a non-blocking TCP socket with a bounded receive buffer
/// (two frames) and a bounded send buffer. Used only on the replication threads (cold path:
/// they may allocate and log). Every call reports errno as a value; nothing blocks except
/// `connect`, which is bounded by its timeout.
final class ReplicationSocket {
    let descriptor: Int32
    /// `address:port` of the other end, for the log.
    let peer: String
    let receiveBuffer: UnsafeMutableRawPointer
    let receiveCapacity = 2 * ReplicationFrame.maximumFrameBytes
    var receiveStart = 0
    var receiveEnd = 0
    let sendBuffer: UnsafeMutableRawPointer
    let sendCapacity: Int
    var sendStart = 0
    var sendEnd = 0
    private(set) var closed = false
    var bytesSent: UInt64 = 0
    var bytesReceived: UInt64 = 0

    init(descriptor: Int32, peer: String, sendCapacity: Int = 256 << 10) {
        self.descriptor = descriptor
        self.peer = peer
        self.sendCapacity = max(sendCapacity, 2 * ReplicationFrame.maximumFrameBytes)
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 8)
        sendBuffer = .allocate(byteCount: self.sendCapacity, alignment: 8)
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        close()
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(descriptor)
    }

    /// Connects to `address` (host byte order) and `port`, waiting at most `timeoutMilliseconds`.
    static func connect(address: UInt32, port: UInt16, timeoutMilliseconds: Int32) -> Result<ReplicationSocket, ReplicationProtocolError> {
        let peer = "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF):\(port)"
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(ReplicationProtocolError("socket: \(String(cString: strerror(errno)))")) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = address.bigEndian
        var result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 && errno == EINPROGRESS {
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&entry, 1, timeoutMilliseconds) == 1 {
                var pending: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                result = getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending == 0 ? 0 : -1
                if pending != 0 { errno = pending }
            } else {
                errno = ETIMEDOUT
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            return .failure(ReplicationProtocolError("cannot connect to the primary at \(peer): \(reason)"))
        }
        return .success(ReplicationSocket(descriptor: fd, peer: peer))
    }

    /// Room left in the send buffer.
    var sendRoom: Int { sendCapacity - sendEnd }
    var hasPendingSend: Bool { sendEnd > sendStart }

    /// Appends a frame written by `write` (given room for `maximumFrameBytes`); false when the
    /// buffer has no room for one (the caller waits for the peer to read).
    @discardableResult
    func queue(_ write: (UnsafeMutableRawPointer) -> Int) -> Bool {
        compactSend()
        guard sendRoom >= ReplicationFrame.maximumFrameBytes else { return false }
        sendEnd += write(sendBuffer + sendEnd)
        return true
    }

    func compactSend() {
        if sendStart == sendEnd {
            sendStart = 0
            sendEnd = 0
        } else if sendStart > 0 && sendRoom < ReplicationFrame.maximumFrameBytes {
            sendBuffer.copyMemory(from: sendBuffer + sendStart, byteCount: sendEnd - sendStart)
            sendEnd -= sendStart
            sendStart = 0
        }
    }

    /// Sends what is queued, as much as the kernel takes. An error names the failure.
    func flush() -> ReplicationProtocolError? {
        while sendEnd > sendStart {
            let n = send(descriptor, sendBuffer + sendStart, sendEnd - sendStart, Int32(MSG_NOSIGNAL))
            if n > 0 {
                sendStart += n
                bytesSent &+= UInt64(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return nil
            } else {
                return ReplicationProtocolError("sending to \(peer) failed: \(String(cString: strerror(errno)))")
            }
        }
        return nil
    }

    /// Reads what the kernel has into the receive buffer. `.endOfStream` when the peer closed.
    enum ReceiveResult { case progressed, nothing, endOfStream, failed(ReplicationProtocolError) }

    func receive() -> ReceiveResult {
        if receiveStart > 0 {
            receiveBuffer.copyMemory(from: receiveBuffer + receiveStart, byteCount: receiveEnd - receiveStart)
            receiveEnd -= receiveStart
            receiveStart = 0
        }
        let room = receiveCapacity - receiveEnd
        guard room > 0 else { return .nothing }
        while true {
            let n = recv(descriptor, receiveBuffer + receiveEnd, room, 0)
            if n > 0 {
                receiveEnd += n
                bytesReceived &+= UInt64(n)
                return .progressed
            }
            if n == 0 { return .endOfStream }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .nothing }
            return .failed(ReplicationProtocolError("receiving from \(peer) failed: \(String(cString: strerror(errno)))"))
        }
    }

    /// The next whole frame in the receive buffer (consumed), nil when none yet, or the
    /// protocol error the bytes are.
    func nextFrame() -> Result<ReplicationFrame.Frame?, ReplicationProtocolError> {
        let bytes = UnsafeRawBufferPointer(start: receiveBuffer + receiveStart, count: receiveEnd - receiveStart)
        switch ReplicationFrame.parse(bytes) {
        case .incomplete: return .success(nil)
        case .invalid(let reason): return .failure(ReplicationProtocolError(reason))
        case .frame(let frame, let frameBytes):
            receiveStart += frameBytes
            return .success(frame)
        }
    }

    /// Sends a refusal with `reason` (best effort, without waiting) and closes.
    func refuse(_ reason: String) {
        queue { ReplicationFrame.writeRefuse(reason, to: $0) }
        _ = flush()
        close()
    }

    /// Waits at most `milliseconds` for something to read (or room to send when asked).
    func wait(milliseconds: Int32, writing: Bool = false) {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN) | (writing ? Int16(POLLOUT) : 0), revents: 0)
        _ = poll(&entry, 1, milliseconds)
    }
}
