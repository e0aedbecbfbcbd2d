import CExchangeShim
import ExchangeRuntime
import ExchangeWire
import Glibc

// The snapshot service (Glimpse-style, SoupBinTCP 3.0 on TCP). A connection must send a
// Login Request within the login timeout; a wrong session gets Login Rejected `S`, an
// unknown account or password `A` (then the connection closes). An accepted login gets
// Login Accepted (this feed's session, sequence 1) and the snapshot (`GlimpseSnapshot`),
// after which the client logs out (`O`); the server sends heartbeats while it waits and
// closes a connection silent for the idle timeout. Anything else a client sends (or a
// malformed frame) is a protocol error and closes the connection. Every outcome is counted.
extension MarketDataAgent {
    mutating func armAccept() {
        guard ring.prepareAccept(listener: listenFD, tag: CompletionTag(kind: Self.acceptKind)) else { return }
        operationsInFlight &+= 1
    }

    mutating func accepted(_ result: Int32) {
        if !(draining && publisher.phase == .ended) { armAccept() }
        guard result >= 0 else { return }
        guard publisher.phase != .ended, let c = snapshots.freeEntry() else {
            snapshots.refused &+= 1
            close(result)
            return
        }
        var one: Int32 = 1
        _ = setsockopt(result, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let now = rtes_monotonic_ns()
        snapshots.fds[c] = result
        snapshots.states[c] = .awaitingLogin
        snapshots.connectedAt[c] = now
        snapshots.receivedAt[c] = now
        snapshots.sentAt[c] = now
        snapshots.closeAfterSend[c] = false
        snapshots.controlInFlight[c] = false
        snapshots.readers[c].reset()
        snapshots.connections &+= 1
        snapshots.open &+= 1
        armSnapshotReceive(c)
    }

    mutating func armSnapshotReceive(_ c: Int) {
        guard ring.prepareReceive(fd: snapshots.fds[c], into: snapshots.receiveBuffer(c), count: SnapshotConnections.receiveBytes,
                                  tag: CompletionTag(kind: Self.snapshotReceiveKind, index: c)) else {
            beginClose(c)
            return
        }
        snapshots.receivesInFlight[c] &+= 1
        operationsInFlight &+= 1
    }

    mutating func snapshotReceived(_ c: Int, result: Int32) {
        snapshots.receivesInFlight[c] &-= 1
        if snapshots.states[c] == .closing { return finishCloseIfIdle(c) }
        guard result > 0 else { return beginClose(c) }  // the client closed, or an error
        snapshots.receivedAt[c] = rtes_monotonic_ns()
        var input = UnsafeRawBufferPointer(start: snapshots.receiveBuffer(c), count: Int(result))
        loop: while snapshots.isOpen(c) {
            switch snapshots.readers[c].next(&input) {
            case .needMoreData: break loop
            case .malformed:
                snapshots.protocolErrors &+= 1
                beginClose(c)
            case .frame(let frame):
                switch (frame.type, snapshots.states[c]) {
                case (SoupPacketType.loginRequest, .awaitingLogin): login(c, frame.payload)
                case (SoupPacketType.clientHeartbeat, _): break
                case (SoupPacketType.logoutRequest, _): beginClose(c)
                default:
                    snapshots.protocolErrors &+= 1
                    beginClose(c)
                }
            }
        }
        if snapshots.isOpen(c) { armSnapshotReceive(c) }
    }

    mutating func login(_ c: Int, _ payload: UnsafeRawBufferPointer) {
        guard case .success(let request) = SoupBinTCP.decodeLoginRequest(payload) else {
            snapshots.protocolErrors &+= 1
            return beginClose(c)
        }
        if !request.session.isBlank && request.session != publisher.session {
            return reject(c, SoupLoginRejectReason.sessionNotAvailable)
        }
        guard snapshots.authorizes(request.username, request.password) else {
            return reject(c, SoupLoginRejectReason.notAuthorized)
        }
        snapshots.states[c] = .waitingForBuffer
        startNextSnapshot()
    }

    mutating func reject(_ c: Int, _ reason: UInt8) {
        snapshots.loginsRejected &+= 1
        let n = SoupBinTCP.loginRejected(reason: reason, to: snapshots.controlBuffer(c))
        snapshots.closeAfterSend[c] = true
        sendControl(c, length: n)
    }

    /// Builds the snapshot for the longest-waiting logged-in connection, if the buffer is free.
    mutating func startNextSnapshot() {
        guard snapshots.owner < 0 else { return }
        var next = -1
        for c in 0..<snapshots.capacity where snapshots.states[c] == .waitingForBuffer {
            if next < 0 || snapshots.connectedAt[c] < snapshots.connectedAt[next] { next = c }
        }
        guard next >= 0 else { return }
        let t0 = rtes_rdtsc()
        var n = SoupBinTCP.loginAccepted(session: publisher.session, sequence: 1, to: snapshots.buffer)
        n += publisher.writeSnapshot(timestamp: configuration.clock.nanosecondsSinceMidnight(), to: snapshots.buffer + n).bytes
        let ticks = rtes_rdtsc() &- t0
        if ticks > snapshots.worstBuildTicks { snapshots.worstBuildTicks = ticks }
        snapshots.owner = next
        snapshots.length = n
        snapshots.offset = 0
        snapshots.states[next] = .sending
        snapshots.sendStartedAt[next] = rtes_monotonic_ns()
        if snapshots.sendsInFlight[next] == 0 { sendSnapshotChunk(next) }
    }

    mutating func sendSnapshotChunk(_ c: Int) {
        let chunk = min(snapshots.length - snapshots.offset, configuration.snapshotChunkBytes)
        guard ring.prepareSend(fd: snapshots.fds[c], bytes: snapshots.buffer + snapshots.offset, count: chunk,
                               tag: CompletionTag(kind: Self.snapshotSendKind, index: c)) else { return beginClose(c) }
        snapshots.sendsInFlight[c] &+= 1
        snapshots.controlInFlight[c] = false
        operationsInFlight &+= 1
    }

    mutating func sendControl(_ c: Int, length: Int) {
        guard snapshots.sendsInFlight[c] == 0,
              ring.prepareSend(fd: snapshots.fds[c], bytes: snapshots.controlBuffer(c), count: length,
                               tag: CompletionTag(kind: Self.snapshotSendKind, index: c)) else { return }
        snapshots.sendsInFlight[c] &+= 1
        snapshots.controlInFlight[c] = true
        operationsInFlight &+= 1
    }

    mutating func snapshotSent(_ c: Int, result: Int32) {
        snapshots.sendsInFlight[c] &-= 1
        if snapshots.states[c] == .closing { return finishCloseIfIdle(c) }
        guard result >= 0 else { return beginClose(c) }
        snapshots.sentAt[c] = rtes_monotonic_ns()
        if snapshots.controlInFlight[c] {
            snapshots.controlInFlight[c] = false
            if snapshots.closeAfterSend[c] { beginClose(c) }
            return
        }
        guard snapshots.states[c] == .sending && snapshots.owner == c else { return }
        snapshots.offset += Int(result)
        if snapshots.offset < snapshots.length {
            sendSnapshotChunk(c)
            return
        }
        snapshots.served &+= 1
        snapshots.bytes &+= UInt64(snapshots.length)
        snapshots.states[c] = .sent
        snapshots.owner = -1
        startNextSnapshot()
    }

    /// Shuts the connection down; it closes once its operations have completed.
    mutating func beginClose(_ c: Int) {
        guard snapshots.states[c] != .closing && snapshots.states[c] != .free else { return }
        shutdown(snapshots.fds[c], Int32(SHUT_RDWR))
        snapshots.states[c] = .closing
        if snapshots.owner == c {
            snapshots.owner = -1
            startNextSnapshot()
        }
        finishCloseIfIdle(c)
    }

    mutating func finishCloseIfIdle(_ c: Int) {
        guard snapshots.receivesInFlight[c] == 0 && snapshots.sendsInFlight[c] == 0 else { return }
        close(snapshots.fds[c])
        snapshots.fds[c] = -1
        snapshots.states[c] = .free
        snapshots.open &-= 1
    }

    /// Login, idle and slow-reader timeouts, and heartbeats to clients that wait to log out.
    mutating func snapshotTimers(now: UInt64) -> Int {
        var work = 0
        for c in 0..<snapshots.capacity {
            switch snapshots.states[c] {
            case .free, .closing: continue
            case .awaitingLogin where now &- snapshots.connectedAt[c] > configuration.snapshotLoginTimeoutNanoseconds,
                 .waitingForBuffer where now &- snapshots.receivedAt[c] > configuration.snapshotIdleTimeoutNanoseconds,
                 .sent where now &- snapshots.receivedAt[c] > configuration.snapshotIdleTimeoutNanoseconds,
                 .sending where now &- snapshots.sendStartedAt[c] > configuration.snapshotSendTimeoutNanoseconds:
                snapshots.timeouts &+= 1
                beginClose(c)
                work &+= 1
            case .sent where now &- snapshots.sentAt[c] >= 1_000_000_000 && snapshots.sendsInFlight[c] == 0:
                sendControl(c, length: SoupBinTCP.serverHeartbeat(to: snapshots.controlBuffer(c)))
                work &+= 1
            default: continue
            }
        }
        return work
    }
}

extension SnapshotConnections {
    /// Shuts every open connection down (at the end of the session).
    mutating func shutdownAll() {
        for c in 0..<capacity where states[c] != .free && states[c] != .closing {
            shutdown(fds[c], Int32(SHUT_RDWR))
        }
    }
}
