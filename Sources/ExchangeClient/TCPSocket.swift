import CClientShim
import ExchangeClock
import Glibc

/// What one non-blocking transfer did.
enum Transfer {
    case bytes(Int)
    /// The kernel had nothing to give (receive) or no room (send).
    case wouldBlock
    /// The peer closed its end (receive only).
    case endOfStream
    case failed(errno: Int32)
}

/// A non-blocking TCP socket: the client's only contact with the kernel. Every call goes
/// through `retryingEINTR` and reports errno as a value.
struct TCPSocket {
    let descriptor: Int32

    /// Connects to `host`:`port` (a name or a numeric IPv4/IPv6 address), trying each
    /// address it resolves to, within `timeoutNanoseconds` in all.
    static func connect(host: String, port: Int, timeoutNanoseconds: UInt64, noDelay: Bool) throws(ClientError) -> TCPSocket {
        let deadline = Monotonic.now() &+ timeoutNanoseconds
        var lastError = ClientError.connectionRefused(host: host, port: port)
        for address in try SocketAddress.resolve(host: host, port: port) {
            do throws(ClientError) {
                return try connect(to: address, host: host, port: port, deadline: deadline, noDelay: noDelay)
            } catch {
                lastError = error
                if case .timedOut = error { break }
            }
        }
        throw lastError
    }

    private static func connect(
        to address: SocketAddress, host: String, port: Int, deadline: UInt64, noDelay: Bool
    ) throws(ClientError) -> TCPSocket {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.family, type, Int32(IPPROTO_TCP))
        guard fd >= 0 else { throw ClientError.system(call: "socket", errno: errno) }
        let socket = TCPSocket(descriptor: fd)
        var result = address.withSockaddr { pointer, length in retryingEINTR { Glibc.connect(fd, pointer, length) } }
        if result == -EINPROGRESS {
            // Wait for the handshake, then ask how it ended.
            do throws(ClientError) {
                guard try socket.wait(for: Int16(POLLOUT), until: deadline) else {
                    socket.close()
                    throw ClientError.timedOut(waitingFor: "the TCP connection to \(host):\(port)", seconds: 0)
                }
            } catch {
                socket.close()
                throw error
            }
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            result = getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 ? -Int(pending) : -Int(errno)
        }
        guard result == 0 else {
            socket.close()
            if result == -ECONNREFUSED { throw ClientError.connectionRefused(host: host, port: port) }
            throw ClientError.connectFailed(host: host, port: port, errno: Int32(-result))
        }
        if noDelay {
            let set = rtes_tcp_set_nodelay(fd, 1)
            if set < 0 {
                socket.close()
                throw ClientError.system(call: "setsockopt(TCP_NODELAY)", errno: -set)
            }
        }
        return socket
    }

    func receive(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Transfer {
        let n = retryingEINTR { recv(descriptor, buffer, capacity, 0) }
        if n > 0 { return .bytes(n) }
        if n == 0 { return .endOfStream }
        if n == -EAGAIN || n == -EWOULDBLOCK { return .wouldBlock }
        return .failed(errno: Int32(-n))
    }

    func send(_ bytes: UnsafeRawPointer, count: Int) -> Transfer {
        let n = retryingEINTR { Glibc.send(descriptor, bytes, count, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .bytes(n) }
        if n == -EAGAIN || n == -EWOULDBLOCK { return .wouldBlock }
        return .failed(errno: Int32(-n))
    }

    /// Waits until the socket is ready for `events` (POLLIN, POLLOUT) or `deadline`
    /// (monotonic nanoseconds) passes. True when ready (or in error: the next transfer says
    /// which), false at the deadline.
    func wait(for events: Int16, until deadline: UInt64) throws(ClientError) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        return try Self.poll(&entry, count: 1, until: deadline) > 0
    }

    /// Waits until one of `count` entries is ready for its events (POLLIN, POLLOUT) or
    /// `deadline` (monotonic nanoseconds) passes. Returns how many are ready (0 at the
    /// deadline). `select` rather than `poll`: it times out to the microsecond, where poll
    /// counts whole milliseconds. Entries with a negative descriptor are skipped.
    static func poll(_ entries: UnsafeMutablePointer<pollfd>, count: Int, until deadline: UInt64) throws(ClientError) -> Int {
        var highest: Int32 = -1
        for i in 0..<count where entries[i].fd > highest { highest = entries[i].fd }
        guard highest < FD_SETSIZE else { return try pollMilliseconds(entries, count: count, until: deadline) }
        while true {
            var readable = fd_set()
            var writable = fd_set()
            for i in 0..<count where entries[i].fd >= 0 {
                let fd = Int(entries[i].fd)
                if entries[i].events & Int16(POLLIN) != 0 { withUnsafeMutableBytes(of: &readable) { $0[fd >> 3] |= 1 << (fd & 7) } }
                if entries[i].events & Int16(POLLOUT) != 0 { withUnsafeMutableBytes(of: &writable) { $0[fd >> 3] |= 1 << (fd & 7) } }
            }
            let now = Monotonic.now()
            let left = deadline > now ? deadline &- now : 0
            var timeout = timeval(tv_sec: Int(left / 1_000_000_000), tv_usec: Int(left % 1_000_000_000 / 1_000))
            let n = select(highest + 1, &readable, &writable, nil, &timeout)
            if n >= 0 { return Int(n) }
            let error = errno
            if error != EINTR { throw ClientError.system(call: "select", errno: error) }
        }
    }

    /// `poll` for descriptors beyond select's reach, to the next whole millisecond.
    static func pollMilliseconds(_ entries: UnsafeMutablePointer<pollfd>, count: Int, until deadline: UInt64) throws(ClientError) -> Int {
        while true {
            let now = Monotonic.now()
            let left = deadline > now ? deadline &- now : 0
            let n = Glibc.poll(entries, nfds_t(count), Int32(min((left + 999_999) / 1_000_000, 60_000)))
            if n >= 0 { return Int(n) }
            let error = errno
            if error != EINTR { throw ClientError.system(call: "poll", errno: error) }
        }
    }

    func close() {
        _ = rtes_close(descriptor)
    }
}

/// Runs a system call again while it fails with EINTR; returns its result, or -errno.
@inline(__always)
func retryingEINTR<R: BinaryInteger>(_ call: () -> R) -> Int {
    while true {
        let result = Int(call())
        if result >= 0 { return result }
        let error = errno
        if error != EINTR { return -Int(error) }
    }
}

/// Deadlines of the blocking calls: CLOCK_MONOTONIC nanoseconds, read through the one clock
/// abstraction (`TSCClock` on its CLOCK_MONOTONIC source, so a deadline means the same
/// thing to `poll` and to every caller that passes one in).
enum Monotonic {
    static let clock = TSCClock.calibrated(.monotonic)

    @inline(__always) static func now() -> UInt64 { clock.ticks() }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    static func deadline(after duration: Duration) -> UInt64 { now() &+ nanoseconds(duration) }

    static func seconds(_ duration: Duration) -> Double { Double(nanoseconds(duration)) / 1e9 }
}
