import ExchangeClock
import ExchangeTLS
import ExchangeWire
import Glibc

/// A feed handler on real sockets, for tests and tools: joins the multicast group, asks the
/// re-request server for what it misses (from its own UDP socket, where the answers come
/// back), and can start from a snapshot. Blocking calls with timeouts; not for a hot path.
public final class FeedClient {
    public var handler: FeedHandler
    public let multicastFD: Int32
    public let requestFD: Int32
    /// Times re-requests (only differences are used).
    let clock: any Clock
    /// The re-request servers: the primary's, then backups. A request repeated for the same
    /// gap (the last went unanswered) goes to the next one, round the list.
    let retransmitAddresses: [sockaddr_in]
    public private(set) var retransmitIndex = 0
    var retransmitAddress: sockaddr_in { retransmitAddresses[retransmitIndex] }
    /// The first sequence of the last request sent, to tell a repeat.
    var lastRequestedSequence: UInt64?
    let buffer: UnsafeMutableRawPointer
    static let bufferBytes = 65_536
    /// Decides, per multicast packet — its number (from 0) and its bytes (MoldUDP64 header
    /// first) — whether to drop it on purpose (tests: random loss, or chosen sequence numbers).
    public var drop: (Int, UnsafeRawBufferPointer) -> Bool = { _, _ in false }
    public private(set) var multicastPackets = 0
    public private(set) var dropped = 0
    public private(set) var answers = 0
    /// Called with each multicast packet that is not dropped, and its kernel receive time.
    public var onPacket: ((UnsafeRawBufferPointer, UInt64) -> Void)?
    /// Called with each re-request answer (messages recovered for a gap, in the sequence
    /// they fill; they may repeat what was seen).
    public var onAnswer: ((UnsafeRawBufferPointer) -> Void)?
    /// The snapshot service and the account to resynchronise through when the exchange
    /// restarts; nil: the handler's fresh book goes on (`handler.incompleteSince` says
    /// whether it lacks what the day published before the restart).
    public var resynchronisation: SnapshotAccount?
    /// Called with each restart the handler notices, before any resynchronisation.
    public var onRestart: ((FeedHandler.Restart) -> Void)?
    /// Called with the outcome of each resynchronisation after a restart: the sequence the
    /// feed continues at, or why the snapshot could not be had (the book then stays as the
    /// handler left it: fresh from the restart, `incompleteSince` set).
    public var onResynchronised: ((Result<UInt64, SnapshotClient.Failure>) -> Void)?
    /// Restarts noticed, and the outcome of the latest resynchronisation.
    public private(set) var restarts = 0
    public private(set) var lastResynchronisation: Result<UInt64, SnapshotClient.Failure>?

    /// Where and as whom to fetch a snapshot.
    public struct SnapshotAccount: Sendable {
        public var host: UInt32
        public var port: UInt16
        public var username: SoupUsername
        public var password: SoupPassword
        /// market_data.snapshot_tls on: the client context to speak TLS with (nil: plain TCP).
        public var tls: TLSContext?
        /// Snapshot services to try, in order, when `host`:`port` cannot serve (a standby's).
        public var backups: [FeedServiceAddress]

        public init(host: UInt32, port: UInt16, username: SoupUsername, password: SoupPassword, tls: TLSContext? = nil,
                    backups: [FeedServiceAddress] = []) {
            self.host = host
            self.port = port
            self.backups = backups
            self.username = username
            self.password = password
            self.tls = tls
        }
    }

    /// Joins `group:port` on `interface` (127.0.0.1 keeps it on the host); re-requests go to
    /// `retransmitHost:retransmitPort`. `clock` times re-requests (CLOCK_MONOTONIC unless a
    /// test passes its own).
    /// `retransmitBackups`: more re-request servers (a standby's), tried in turn when a
    /// request goes unanswered.
    public init(group: UInt32, port: UInt16, interface: UInt32, retransmitHost: UInt32, retransmitPort: UInt16,
                retransmitBackups: [FeedServiceAddress] = [],
                instrumentCount: Int, orderCapacity: Int, receiveBuffer: Int = 32 << 20,
                clock: any Clock = TSCClock.calibrated(.monotonic)) throws(FeedSocketError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FeedSocketError(call: "socket", errno: errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var size = Int32(clamping: receiveBuffer)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = FeedSockets.socketAddress(group, port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw FeedSocketError(call: "bind(\(FeedSockets.dotted(group)):\(port))", errno: e)
        }
        var membership = ip_mreq(imr_multiaddr: in_addr(s_addr: group.bigEndian), imr_interface: in_addr(s_addr: interface.bigEndian))
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &membership, socklen_t(MemoryLayout<ip_mreq>.size)) == 0 else {
            let e = errno
            close(fd)
            throw FeedSocketError(call: "setsockopt(IP_ADD_MEMBERSHIP)", errno: e)
        }
        let requests: (Int32, UInt16)
        do {
            requests = try FeedSockets.openDatagramSocket(address: 0x7F00_0001, port: 0, receiveBuffer: 4 << 20)
        } catch {
            close(fd)
            throw error
        }
        multicastFD = fd
        requestFD = requests.0
        self.clock = clock
        retransmitAddresses = [FeedSockets.socketAddress(retransmitHost, retransmitPort)]
            + retransmitBackups.map { FeedSockets.socketAddress($0.host, $0.port) }
        handler = FeedHandler(instrumentCount: instrumentCount, orderCapacity: orderCapacity)
        buffer = .allocate(byteCount: Self.bufferBytes, alignment: 64)
    }

    deinit {
        close(multicastFD)
        close(requestFD)
        buffer.deallocate()
    }

    /// Sends a raw datagram to the re-request server (tests send malformed ones with it).
    @discardableResult
    public func sendToRetransmitServer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var to = retransmitAddress
        return withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(requestFD, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == bytes.count
    }

    func send(_ request: FeedHandler.Request) {
        if lastRequestedSequence == request.sequence && retransmitAddresses.count > 1 {
            retransmitIndex = (retransmitIndex + 1) % retransmitAddresses.count
        }
        lastRequestedSequence = request.sequence
        var bytes = (UInt64(0), UInt64(0), UInt32(0))
        withUnsafeMutableBytes(of: &bytes) { raw in
            let n = MoldUDP64.writeRequest(session: request.session, sequence: request.sequence, count: request.count, to: raw.baseAddress!)
            sendToRetransmitServer(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }

    /// Waits up to `timeoutMilliseconds` for packets on either socket and handles all that
    /// are there; a restart the handler noticed is reported (`onRestart`) and, with
    /// `resynchronisation` set, repaired through the snapshot service (blocking, within the
    /// snapshot client's timeout). Returns how many packets were handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) -> Int {
        var fds = [pollfd(fd: multicastFD, events: Int16(POLLIN), revents: 0), pollfd(fd: requestFD, events: Int16(POLLIN), revents: 0)]
        let ready = Glibc.poll(&fds, 2, timeoutMilliseconds)
        var handled = 0
        let now = clock.now()
        if ready > 0 {
            while let (n, stamp) = receive(multicastFD) {
                let index = multicastPackets
                multicastPackets += 1
                let packet = UnsafeRawBufferPointer(start: buffer, count: n)
                if drop(index, packet) {
                    dropped += 1
                    continue
                }
                onPacket?(packet, stamp)
                if let request = handler.handle(packet, now: now, source: .live) { send(request) }
                handled += 1
            }
            while let (n, _) = receive(requestFD) {
                answers += 1
                let packet = UnsafeRawBufferPointer(start: buffer, count: n)
                onAnswer?(packet)
                if let request = handler.handle(packet, now: now, source: .retransmission) { send(request) }
                handled += 1
            }
        }
        if let restart = handler.takeRestart() { restarted(restart) }
        if let request = handler.pendingRequest(now: now) { send(request) }
        return handled
    }

    /// Says so, then rejoins through the snapshot service when an account is configured and
    /// the fresh book lacks something (a new session seen from its sequence 1 is whole).
    func restarted(_ restart: FeedHandler.Restart) {
        restarts += 1
        onRestart?(restart)
        guard let account = resynchronisation, handler.incompleteSince != nil else { return }
        let outcome = joinFromSnapshot(host: account.host, port: account.port, username: account.username, password: account.password,
                                       tls: account.tls, backups: account.backups)
        lastResynchronisation = outcome
        onResynchronised?(outcome)
    }

    /// One datagram without waiting, with its kernel receive timestamp; nil when none is there.
    func receive(_ fd: Int32) -> (Int, UInt64)? { receiveDatagram(fd, into: buffer, capacity: Self.bufferBytes) }
}

extension FeedClient {
    /// Joins late: keeps multicast packets while fetching the snapshot, loads it, then
    /// continues from the snapshot's sequence number.
    /// `tls`: speak TLS with this client context (market_data.snapshot_tls on). `backups`:
    /// snapshot services tried in order when one cannot serve (`SnapshotClient.fetch(from:)`).
    public func joinFromSnapshot(host: UInt32, port: UInt16, username: SoupUsername, password: SoupPassword,
                                 tls: TLSContext? = nil, backups: [FeedServiceAddress] = []) -> Result<UInt64, SnapshotClient.Failure> {
        handler.beginSnapshot()
        _ = poll(timeoutMilliseconds: 0)
        let addresses = [FeedServiceAddress(host: host, port: port)] + backups
        switch SnapshotClient.fetch(from: addresses, username: username, password: password, tls: tls) {
        case .failure(let f):
            handler.abandonSnapshot()
            return .failure(f)
        case .success(let snapshot):
            for message in snapshot.messages { message.withUnsafeBytes { handler.applySnapshot($0) } }
            handler.endSnapshot(nextSequence: snapshot.nextSequence, session: snapshot.session)
            return .success(snapshot.nextSequence)
        }
    }
}

/// One datagram from `fd` into `buffer` without waiting, with its kernel receive timestamp
/// (SO_TIMESTAMPNS; 0 when the socket gives none): its length and the stamp in nanoseconds
/// since the epoch, nil when none is there. For a feed handler's sockets (FeedClient, the
/// benchmarks' feed taps).
public func receiveDatagram(_ fd: Int32, into buffer: UnsafeMutableRawPointer, capacity: Int) -> (Int, UInt64)? {
    var iov = iovec(iov_base: buffer, iov_len: capacity)
    var control = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    return withUnsafeMutableBytes(of: &control) { controlBytes -> (Int, UInt64)? in
        withUnsafeMutablePointer(to: &iov) { iovPointer -> (Int, UInt64)? in
            var header = msghdr()
            header.msg_iov = iovPointer
            header.msg_iovlen = 1
            header.msg_control = controlBytes.baseAddress
            header.msg_controllen = controlBytes.count
            let n = recvmsg(fd, &header, Int32(MSG_DONTWAIT))
            guard n >= 0 else { return nil }
            var stamp: UInt64 = 0
            if header.msg_controllen >= MemoryLayout<cmsghdr>.size {
                let cmsg = controlBytes.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                if cmsg.pointee.cmsg_level == SOL_SOCKET && cmsg.pointee.cmsg_type == SO_TIMESTAMPNS {
                    let ts = (controlBytes.baseAddress! + MemoryLayout<cmsghdr>.size).loadUnaligned(as: timespec.self)
                    stamp = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
                }
            }
            return (n, stamp)
        }
    }
}
