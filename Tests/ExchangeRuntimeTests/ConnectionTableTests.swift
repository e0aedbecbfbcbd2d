import CExchangeShim
import ExchangeRuntime
import Glibc
import Testing

/// The rules of the connection layer (`ConnectionTable`), one test each, over a real
/// io_uring on loopback. Waits for the kernel are bounded; no sleep decides an outcome.
@Suite(.enabled(if: IOUringFeatures.probe().multishotReceive.isAvailable && IOUringFeatures.probe().multishotAccept.isAvailable,
                "multishot accept and receive are not available on this kernel"))
struct ConnectionTableTests {
    @Test func ignoresACompletionWhoseGenerationIsStale() throws {
        let h = try TableHarness(capacity: 2)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port)
        let slot = try #require(h.pumpUntilAccepted())
        let generation = h.table.generation(slot)
        let check1 = h.table.close(slot) == false
        #expect(check1, "the receive is still armed: the slot waits for its completion")
        #expect(h.pump { if case .released(slot) = $0 { true } else { false } })
        let check2 = h.table.state(slot) == .free
        #expect(check2)
        let check3 = h.table.generation(slot) & CompletionTag.generationMask == (generation &+ 1) & CompletionTag.generationMask
        #expect(check3)
        // The slot is taken again; a late completion of the first connection's must not reach the second.
        let second = try LoopbackClient(port: h.port)
        let reused = try #require(h.pumpUntilAccepted())
        #expect(reused == slot)
        let staleBefore = h.table.stats.staleCompletions
        let receiveKind = CompletionTag.Kind(rawValue: TableHarness.tagBase + 1)
        let sendKind = CompletionTag.Kind(rawValue: TableHarness.tagBase + 2)
        let lateReceive = Completion(tag: CompletionTag(kind: receiveKind, index: slot, generation: generation), result: 0)
        let lateSend = Completion(tag: CompletionTag(kind: sendKind, index: slot, generation: generation), result: -EPIPE)
        let receiveEvent = h.table.handle(lateReceive, ring: h.ring)
        let sendEvent = h.table.handle(lateSend, ring: h.ring)
        #expect(isNone(receiveEvent) && isNone(sendEvent))
        let check4 = h.table.stats.staleCompletions == staleBefore + 2
        #expect(check4)
        let check5 = h.table.state(slot) == .open
        #expect(check5, "the second connection is untouched")
        // The same completions with the current generation do reach it.
        let current = Completion(tag: CompletionTag(kind: sendKind, index: slot, generation: h.table.generation(slot)), result: -EPIPE)
        let currentEvent = h.table.handle(current, ring: h.ring)
        var reachesIt = false
        if case .failed(slot: slot, errno: EPIPE) = currentEvent { reachesIt = true }
        #expect(reachesIt, "a completion with the current generation is the connection's")
        _ = (client, second)
    }

    @Test func reportsASlowConsumerWhenItsBacklogPassesTheSendBound() throws {
        let h = try TableHarness(capacity: 2, sendBound: 4_096)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port)
        let slot = try #require(h.pumpUntilAccepted())
        let within = h.table.admitBacklog(slot, unsentBytes: 4_096)
        #expect(within)
        let check6 = h.table.stats.slowConsumers == 0
        #expect(check6)
        h.table.setSendBound(slot, bytes: 1_000)
        let admitted = h.table.admitBacklog(slot, unsentBytes: 1_001)
        #expect(!admitted, "beyond its bound a connection is a slow consumer")
        let check7 = h.table.stats.slowConsumers == 1
        #expect(check7)
        let check8 = h.table.stats.sendQueuePeakBytes == 4_096
        #expect(check8)
        // The service closes it (naming its reason); the client sees the end of the stream.
        h.table.close(slot)
        #expect(h.pump { if case .released(slot) = $0 { true } else { false } })
        #expect(client.readsEndOfStream())
    }

    @Test func freesASlotClosedWithASendInFlightOnlyAfterTheSendCompletes() throws {
        let h = try TableHarness(capacity: 2)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port, receiveBuffer: 4_096)
        let slot = try #require(h.pumpUntilAccepted())
        let size = 8 << 20
        let payload = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0x41, count: size)
        // The client reads nothing: the first send fills the socket buffers, the next stays in flight.
        var offset = 0
        var stuck = false
        for _ in 0..<8 where !stuck {
            let start = h.table.send(slot, bytes: payload + offset, count: size - offset, ring: h.ring)
            #expect(start == .started)
            var sent = 0
            _ = h.pump(milliseconds: 200) { if case .sent(slot, let n) = $0 { sent = n; return true } else { return false } }
            if sent == 0 { stuck = true } else { offset += sent }
        }
        try #require(stuck, "a send to a client that does not read stays in flight")
        let check9 = h.table.isSending(slot)
        #expect(check9)
        let check10 = h.table.close(slot) == false
        #expect(check10)
        let check11 = h.table.state(slot) == .closing
        #expect(check11, "shut down, but the kernel still holds the send")
        let check12 = h.table.occupied == 1
        #expect(check12)
        var sawSendEnd = false
        var releasedAfterSend = false
        #expect(h.pump { event in
            switch event {
            case .released(slot):
                releasedAfterSend = sawSendEnd || !h.table.isSending(slot)
                return true
            default:
                if !h.table.isSending(slot) { sawSendEnd = true }
                return false
            }
        })
        #expect(releasedAfterSend)
        let check13 = h.table.state(slot) == .free
        #expect(check13)
        let check14 = h.table.occupied == 0
        #expect(check14)
        _ = client
    }

    @Test func refusesAConnectionWhenEverySlotIsTakenAndCountsIt() throws {
        let h = try TableHarness(capacity: 2)
        defer { h.finish() }
        let clients = try (0..<3).map { _ in try LoopbackClient(port: h.port) }
        var accepted = 0
        var refused: [ConnectionRefusal] = []
        #expect(h.pump { event in
            switch event {
            case .accepted: accepted += 1
            case .refused(let reason): refused.append(reason)
            default: break
            }
            return accepted + refused.count == 3
        })
        #expect(accepted == 2)
        #expect(refused == [.tableFull])
        let check15 = h.table.stats.refusedTableFull == 1
        #expect(check15)
        #expect(clients.filter { $0.readsEndOfStream(milliseconds: 100) }.count == 1, "the refused socket is closed at once")
    }

    @Test func keepsSlotsForLoggedInSessionsBeyondThePreLoginShare() throws {
        let h = try TableHarness(capacity: 4, preLoginLimit: 2)
        defer { h.finish() }
        let first = try LoopbackClient(port: h.port)
        let a = try #require(h.pumpUntilAccepted())
        let second = try LoopbackClient(port: h.port)
        _ = try #require(h.pumpUntilAccepted())
        let check16 = h.table.preLoginCount == 2
        #expect(check16)
        let third = try LoopbackClient(port: h.port)
        var refusal: ConnectionRefusal?
        #expect(h.pump { if case .refused(let r) = $0 { refusal = r; return true } else { return false } })
        #expect(refusal == .preLoginFull)
        let check17 = h.table.stats.refusedPreLoginFull == 1
        #expect(check17)
        #expect(third.readsEndOfStream())
        // One logs in: its slot no longer counts against the share, so another may connect.
        h.table.markLoggedIn(a)
        let check18 = h.table.preLoginCount == 1
        #expect(check18)
        let fourth = try LoopbackClient(port: h.port)
        _ = try #require(h.pumpUntilAccepted())
        let check19 = h.table.occupied == 3
        #expect(check19)
        _ = (first, second, fourth)
    }

    @Test func aListenerOnAPortInUseIsAClearSystemError() throws {
        let first = try TCPListener(address: 0x7F00_0001, port: 0, backlog: 8)
        #expect(first.port != 0)
        do {
            _ = try TCPListener(address: 0x7F00_0001, port: first.port, backlog: 8)
            Issue.record("a second listener on port \(first.port) must fail")
        } catch {
            #expect(error.errno == EADDRINUSE)
            #expect(error.description.contains("127.0.0.1:\(first.port)"))
            #expect(error.description.contains("listen"))
        }
    }

    @Test func countsAFailedAcceptAndRearmsItAtTheNextTick() throws {
        let h = try TableHarness(capacity: 2)
        defer { h.finish() }
        let check20 = h.table.isAccepting
        #expect(check20)
        // What the kernel posts when accept fails with EMFILE: the multishot accept stopped.
        let acceptKind = CompletionTag.Kind(rawValue: TableHarness.tagBase)
        let failure = Completion(tag: CompletionTag(kind: acceptKind), result: -EMFILE)
        let event = h.table.handle(failure, ring: h.ring)
        var reported = false
        if case .acceptFailed(errno: EMFILE) = event { reported = true }
        #expect(reported, "a failed accept is reported")
        let check21 = h.table.stats.acceptErrors == 1
        #expect(check21)
        let acceptingAfterFailure = h.table.isAccepting
        #expect(!acceptingAfterFailure, "not re-armed at once: a lasting EMFILE must not spin")
        h.table.tick(ring: h.ring)
        let check22 = h.table.isAccepting
        #expect(check22, "re-armed at the next tick")
        let client = try LoopbackClient(port: h.port)
        _ = try #require(h.pumpUntilAccepted())
        _ = client
    }

    @Test func countsReceiveBufferExhaustionAndKeepsReceiving() throws {
        // Two 64-byte buffers: a 512-byte write needs eight, so the multishot receive stops
        // with ENOBUFS and must be re-armed once the buffers are back.
        let h = try TableHarness(capacity: 2, receiveBuffers: 2, receiveBufferSize: 64)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port)
        let slot = try #require(h.pumpUntilAccepted())
        let message = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
        client.send(message)
        var received: [UInt8] = []
        #expect(h.pump { if case .received(slot, let bytes) = $0 { received += bytes }; return received.count >= message.count })
        #expect(received == message)
        let check23 = h.table.stats.receiveBuffersExhausted > 0
        #expect(check23, "the receive really ran out of buffers")
        // And the re-armed receive keeps going.
        client.send(Array("after exhaustion".utf8))
        var more: [UInt8] = []
        #expect(h.pump { if case .received(slot, let bytes) = $0 { more += bytes }; return more.count >= 16 })
        #expect(more == Array("after exhaustion".utf8))
        let check24 = h.table.state(slot) == .open
        #expect(check24)
    }

    /// Connections from one source address hold at most their share of the pre-login
    /// slots; other addresses still get in, and a login frees a place for the first address.
    /// Clients bind to distinct 127.x.y.z addresses, so the limit is tested for real.
    @Test func refusesAConnectionBeyondItsAddressShareWhileOtherAddressesGetIn() throws {
        let h = try TableHarness(capacity: 8, preLoginLimit: 6, preLoginPerAddressLimit: 2)
        defer { h.finish() }
        let crowded: UInt32 = 0x7F00_0001, other: UInt32 = 0x7F01_0203
        let first = try LoopbackClient(port: h.port, source: crowded)
        let a = try #require(h.pumpUntilAccepted())
        let second = try LoopbackClient(port: h.port, source: crowded)
        _ = try #require(h.pumpUntilAccepted())
        let check1 = h.table.address(a) == crowded && h.table.preLoginCount(from: crowded) == 2
        #expect(check1, "the slot knows its peer's address")
        let third = try LoopbackClient(port: h.port, source: crowded)
        var refusal: ConnectionRefusal?
        #expect(h.pump { if case .refused(let r) = $0 { refusal = r; return true } else { return false } })
        #expect(refusal == .addressLimit)
        #expect(third.readsEndOfStream(), "closed at once")
        let check2 = h.table.stats.refusedAddressLimit == 1 && h.table.stats.refused == 1
        #expect(check2)
        // Another address is not affected.
        let elsewhere = try LoopbackClient(port: h.port, source: other)
        let b = try #require(h.pumpUntilAccepted())
        let check3 = h.table.address(b) == other && h.table.preLoginCount(from: other) == 1 && h.table.preLoginCount == 3
        #expect(check3)
        // A login frees a place of its address's share.
        h.table.markLoggedIn(a)
        let check4 = h.table.preLoginCount(from: crowded) == 1
        #expect(check4)
        let fourth = try LoopbackClient(port: h.port, source: crowded)
        _ = try #require(h.pumpUntilAccepted())
        let check5 = h.table.preLoginCount(from: crowded) == 2 && h.table.stats.refusedAddressLimit == 1
        #expect(check5)
        _ = (first, second, fourth, elsewhere)
    }

    /// More connections from one address than the whole table holds: the address keeps its
    /// share, every other is closed at once, and the table always has room for others.
    @Test func aFloodFromOneAddressHoldsOnlyItsShare() throws {
        let h = try TableHarness(capacity: 4, preLoginLimit: 3, preLoginPerAddressLimit: 1)
        defer { h.finish() }
        var flood: [LoopbackClient] = []
        for _ in 0..<12 {
            flood.append(try LoopbackClient(port: h.port, source: 0x7F00_0009))
            #expect(h.pump { if case .refused = $0 { true } else if case .accepted = $0 { true } else { false } })
        }
        let check1 = h.table.occupied == 1 && h.table.stats.refusedAddressLimit == 11
        #expect(check1, "one slot held, eleven refused")
        let good = try LoopbackClient(port: h.port, source: 0x7F00_000A)
        _ = try #require(h.pumpUntilAccepted())
        let check2 = h.table.occupied == 2
        #expect(check2)
        _ = good
    }


    /// Back-pressure: a paused connection gets no `.received`; what the kernel had already
    /// taken is parked and handed out in order by `nextParked`; what the peer sends while
    /// paused stays in the socket until `resumeReceiving`; not a byte is lost or reordered.
    @Test func aPausedConnectionParksWhatArrivedAndResumesInOrder() throws {
        let h = try TableHarness(capacity: 2, receiveBuffers: 16, receiveBufferSize: 64)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port)
        let slot = try #require(h.pumpUntilAccepted())
        let first = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        let second = (0..<200).map { UInt8(truncatingIfNeeded: 255 &- $0) }
        client.send(first)
        // A receive completion is waiting (not yet handled) when the pause comes.
        let waiting = h.ring.waitForCompletion(milliseconds: 3_000)
        #expect(waiting)
        let paused = h.table.pauseReceiving(slot, ring: h.ring)
        #expect(paused)
        let pausedTwice = h.table.pauseReceiving(slot, ring: h.ring)
        #expect(!pausedTwice, "already paused")
        var delivered = 0
        _ = h.pump(milliseconds: 100) { if case .received = $0 { delivered += 1 }; return false }
        #expect(delivered == 0)
        let parked = h.table.hasParked(slot)
        #expect(parked)
        let cancelled = !h.table.isReceiving(slot)
        #expect(cancelled, "the receive was cancelled")
        let resumedEarly = h.table.resumeReceiving(slot, ring: h.ring)
        #expect(!resumedEarly, "parked bytes first")
        client.send(second)
        _ = h.pump(milliseconds: 100) { if case .received = $0 { delivered += 1 }; return false }
        #expect(delivered == 0, "nothing is received while paused")

        var got: [UInt8] = []
        while let bytes = h.table.nextParked(slot) { got += bytes }
        h.table.finishBatch()
        let resumed = h.table.resumeReceiving(slot, ring: h.ring)
        #expect(resumed)
        let total = first.count + second.count
        #expect(h.pump { if case .received(slot, let bytes) = $0 { got += bytes }; return got.count >= total })
        #expect(got == first + second)
        let stats = h.table.stats
        #expect(stats.receivePauses == 1)
        #expect(stats.receiveResumes == 1)
        #expect(stats.parkedBuffers >= 1)
        let open = h.table.state(slot) == .open && h.table.isReceiving(slot)
        #expect(open)
    }

    /// A paused connection closed with parked buffers gives them back: the buffers serve the
    /// next connection.
    @Test func closingAPausedConnectionGivesItsParkedBuffersBack() throws {
        let h = try TableHarness(capacity: 2, receiveBuffers: 4, receiveBufferSize: 64)
        defer { h.finish() }
        let client = try LoopbackClient(port: h.port)
        let slot = try #require(h.pumpUntilAccepted())
        client.send(Array(repeating: 7, count: 200))
        let waiting = h.ring.waitForCompletion(milliseconds: 3_000)
        #expect(waiting)
        h.table.pauseReceiving(slot, ring: h.ring)
        _ = h.pump(milliseconds: 100) { _ in false }
        let parked = h.table.hasParked(slot)
        #expect(parked)
        var released = h.table.close(slot)
        if !released { released = h.pump { if case .released(slot) = $0 { true } else { false } } }
        #expect(released)
        h.table.finishBatch()
        // All four buffers are the kernel's again: 256 bytes reach the next connection whole.
        let next = try LoopbackClient(port: h.port)
        let slot2 = try #require(h.pumpUntilAccepted())
        let message = (0..<256).map { UInt8(truncatingIfNeeded: $0) }
        next.send(message)
        var got: [UInt8] = []
        #expect(h.pump { if case .received(slot2, let bytes) = $0 { got += bytes }; return got.count >= message.count })
        #expect(got == message, "had the parked buffers not gone back, no receive would find one")
        _ = client
    }
}

private func isNone(_ event: ConnectionEvent) -> Bool {
    if case .none = event { true } else { false }
}

/// A ring and a table on a loopback listener, driven from the test's thread.
private final class TableHarness {
    static let tagBase: UInt8 = 16
    var ring: IOUring
    var table: ConnectionTable<Int>
    let port: Int
    let memory: UnsafeMutableRawPointer
    let batch = UnsafeMutableBufferPointer<Completion>.allocate(capacity: 64)
    var finished = false

    init(capacity: Int, preLoginLimit: Int? = nil, preLoginPerAddressLimit: Int? = nil, sendBound: UInt64 = .max,
         receiveBuffers: Int = 16, receiveBufferSize: Int = 1_024) throws {
        let listener = try TCPListener(address: 0x7F00_0001, port: 0, backlog: 16)
        port = Int(listener.port)
        let configuration = ConnectionTable<Int>.Configuration(
            capacity: capacity, preLoginLimit: preLoginLimit, preLoginPerAddressLimit: preLoginPerAddressLimit,
            receiveBufferCount: receiveBuffers,
            receiveBufferSize: receiveBufferSize, bufferGroup: 3, tagBase: Self.tagBase, noDelay: true, sendBoundBytes: sendBound)
        memory = .allocate(byteCount: configuration.receiveBufferBytes, alignment: 4_096)
        ring = try IOUring(entries: 64)
        table = try ConnectionTable(configuration: configuration, listener: listener, ring: ring, bufferMemory: memory, emptySession: 0)
        table.startAccepting(ring: ring)
        ring.submitAndPoll()
    }

    /// Turns until `done` says so for an event, or `milliseconds` of waiting for the kernel.
    func pump(milliseconds: Int = 3_000, _ done: (ConnectionEvent) -> Bool) -> Bool {
        var waited = 0
        while waited < milliseconds {
            ring.submitAndPoll()
            let n = ring.takeCompletions(into: batch)
            var finishedNow = false
            for c in batch[..<n] where table.owns(c) && !finishedNow {
                if done(table.handle(c, ring: ring)) { finishedNow = true }
            }
            table.finishBatch()
            if finishedNow {
                ring.submitAndPoll()
                return true
            }
            if n == 0 && !ring.waitForCompletion(milliseconds: 10) { waited += 10 }
        }
        return false
    }

    func pumpUntilAccepted() -> Int? {
        var slot: Int?
        _ = pump { if case .accepted(let s) = $0 { slot = s; return true } else { return false } }
        return slot
    }

    func finish() {
        guard !finished else { return }
        finished = true
        table.closeAll(ring: &ring)
        #expect(table.occupied == 0, "every connection closed")
    }

    deinit {
        memory.deallocate()
        batch.deallocate()
    }
}

/// A blocking loopback client socket, closed on deinit.
private final class LoopbackClient {
    let fd: Int32

    /// `source`: a loopback address (127.x.y.z, host byte order) to connect from.
    init(port: Int, receiveBuffer: Int32? = nil, source: UInt32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr = in_addr(s_addr: source.bigEndian)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let error = errno
                Glibc.close(fd)
                throw SystemError(call: "bind", errno: error)
            }
        }
        if var size = receiveBuffer {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let error = errno
            Glibc.close(fd)
            throw SystemError(call: "connect", errno: error)
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #expect(n == bytes.count)
    }

    /// Whether the server closed the stream (end of stream or reset) within `milliseconds`.
    func readsEndOfStream(milliseconds: Int32 = 3_000) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, milliseconds) == 1 {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return true }
        }
        return false
    }
}
