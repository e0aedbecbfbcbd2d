import CMallocCounter
import ExchangeClock
import ExchangeConfig
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// A FIX 4.4 message as a client sends it (DEMO1 to RTES): header, `fields`, BodyLength and
/// CheckSum; SendingTime is the system clock's now (the gateway checks it against its own).
func fixClientMessage(_ type: String, sequence: Int, _ fields: [(Int, String)], sender: String = "DEMO1") -> [UInt8] {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    var parts = tm()
    var seconds = t.tv_sec
    gmtime_r(&seconds, &parts)
    let sendingTime = String(format: "%04d%02d%02d-%02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                             parts.tm_hour, parts.tm_min, parts.tm_sec, t.tv_nsec / 1_000_000)
    let header: [(Int, String)] = [(35, type), (49, sender), (56, "RTES"), (34, "\(sequence)"), (52, sendingTime)]
    let body = (header + fields).map { "\($0.0)=\($0.1)\u{01}" }.joined()
    let head = "8=FIX.4.4\u{01}9=\(body.utf8.count)\u{01}" + body
    let sum = head.utf8.reduce(0) { ($0 + Int($1)) % 256 }
    return Array((head + "10=" + String(format: "%03d", sum) + "\u{01}").utf8)
}

/// Counts FIX messages of one MsgType in a byte stream (`␁35=X␁`), across reads, without buffering.
struct FIXTypeTally {
    let pattern: (UInt8, UInt8)
    var matched = 0
    var count = 0
    init(_ type: Character) { pattern = (0x01, type.asciiValue!) }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            // ␁ 3 5 = X ␁
            let expected: UInt8 = switch matched {
            case 0: 0x01
            case 1: 0x33
            case 2: 0x35
            case 3: 0x3D
            case 4: pattern.1
            default: 0x01
            }
            if byte == expected {
                matched += 1
                if matched == 6 {
                    count += 1
                    matched = 1  // this ␁ may start the next field
                }
            } else {
                matched = byte == 0x01 ? 1 : 0
            }
        }
    }
}

/// The FIX port's steady state allocates nothing: NewOrderSingles from a FIX client trading
/// against an OUCH client's orders, ExecutionReports (New, Trade) out, on the gateway and
/// engine agents driven by the test thread (as in the shared threading mode); measured with
/// the malloc counter after a warm-up of the same kind. The Logon itself (checked by the
/// authenticator on its own thread) is before the measurement. With `dropCopy`, DEMO1 (its
/// firm's drop copy in the development keys) also watches on the drop-copy port, which gets an
/// ExecutionReport of each of its orders' events too.
@Suite struct FIXPortAllocation {
    @Test(arguments: [false, true])
    func tradesOverFIXAgainstOUCHWithoutTouchingTheHeap(dropCopy: Bool) throws {
        let knobs = ExchangeKnobs(heartbeatIntervalMilliseconds: 1_000, idleTimeoutMilliseconds: 60_000)
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current())
            .configuration
        let clock = ManualClock()
        var fix = FIXSettings()
        fix.maxConnections = 4
        fix.maxSessions = 2
        fix.resendStoreMessages = 1_024
        fix.maxClOrdIDs = 8_192
        if dropCopy { fix.dropCopyPort = 1 }  // the rig listens on a port the kernel chooses
        var rig = try GatewayEngineRig(configuration: configuration, clock: clock, authenticatorThread: true, fix: fix)
        let memory = rig.memory

        let pairs = 1_500
        let logon = fixClientMessage("A", sequence: 1, [(98, "0"), (108, "30"), (553, "DEMO1"), (554, "demo1pass")])
        let sells = (0..<pairs).map { i in
            fixClientMessage("D", sequence: 2 + i, [(11, "S\(i)"), (55, "AAPL"), (54, "2"), (60, "20260101-00:00:00"),
                                                    (38, "100"), (40, "2"), (44, "230")])
        }
        let buys = (0..<pairs).flatMap { Client.order("B\($0)", "B", 100, "AAPL", price(230)) }
        let orderBytes = Client.order("B0", "B", 100, "AAPL", price(230)).count

        var clients = RawClients(capacity: 1)
        clients.fds[0] = connectLoopback(Int32(rig.port))
        Client.login(.demo2).withUnsafeBytes { clients.send(0, $0, rig: &rig) }
        #expect(clients.pump(&rig, seconds: 30) { $0.tallies[0].loginAccepted == 1 })

        let fixFD = connectLoopback(Int32(rig.fixPort))
        #expect(fixFD >= 0)
        var logons = FIXTypeTally("A")
        var reports = FIXTypeTally("8")
        let dropFD = dropCopy ? connectLoopback(Int32(rig.dropCopyPort)) : -1
        if dropCopy { #expect(dropFD >= 0) }
        var dropLogons = FIXTypeTally("A")
        var dropReports = FIXTypeTally("8")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 64)
        func pump(_ rig: inout GatewayEngineRig<ManualClock>, seconds: Double, until done: () -> Bool) -> Bool {
            let deadline = Deadline(seconds: seconds)
            repeat {
                clients.turn(&rig)
                while true {
                    let n = recv(fixFD, buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT))
                    guard n > 0 else { break }
                    logons.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    reports.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                while dropFD >= 0 {
                    let n = recv(dropFD, buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT))
                    guard n > 0 else { break }
                    dropLogons.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    dropReports.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                if done() { return true }
            } while !deadline.hasPassed
            return done()
        }
        func sendFIX(_ bytes: [UInt8], _ rig: inout GatewayEngineRig<ManualClock>) {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                let deadline = Deadline(seconds: 10)
                while offset < raw.count && !deadline.hasPassed {
                    let n = Glibc.send(fixFD, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                    if n > 0 { offset += n } else { _ = pump(&rig, seconds: 0) { true } }
                }
            }
        }
        sendFIX(logon, &rig)
        #expect(pump(&rig, seconds: 30) { logons.count == 1 }, "no Logon answer")
        if dropCopy {
            logon.withUnsafeBytes { _ = Glibc.send(dropFD, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            #expect(pump(&rig, seconds: 30) { dropLogons.count == 1 }, "no drop-copy Logon answer")
        }

        /// Pairs `range`: a FIX sell and an OUCH buy each, in batches of 16; every New and
        /// Trade report back (two per pair) and every OUCH Accepted and Executed.
        func trade(_ range: Range<Int>, _ rig: inout GatewayEngineRig<ManualClock>) -> Bool {
            let reportsBefore = reports.count
            let dropBefore = dropReports.count
            let ouchBefore = clients.tallies[0].sequenced
            var next = range.lowerBound
            while next < range.upperBound {
                let end = min(next + 16, range.upperBound)
                for i in next..<end { sendFIX(sells[i], &rig) }
                _ = pump(&rig, seconds: 0) { true }
                buys.withUnsafeBytes { clients.send(0, UnsafeRawBufferPointer(rebasing: $0[next * orderBytes..<end * orderBytes]), rig: &rig) }
                next = end
                _ = pump(&rig, seconds: 0) { true }
            }
            return pump(&rig, seconds: 30) {
                reports.count - reportsBefore == 2 * range.count && clients.tallies[0].sequenced - ouchBefore == 2 * range.count
                    && (!dropCopy || dropReports.count - dropBefore == 2 * range.count)
            }
        }
        #expect(trade(0..<300, &rig))
        rtes_malloc_counter_start()
        let traded = trade(300..<pairs, &rig)
        let flow = rtes_malloc_counter_stop()
        #expect(traded, "\(reports.count) ExecutionReports")
        #expect(flow.allocations == 0, "FIX order flow: \(flow.allocations) allocations, \(flow.bytes) bytes")

        rig.advance(clock, milliseconds: 1)
        let snapshot = memory.counters.snapshot()
        #expect(snapshot.gatewayCount("fix_logons") == 1)
        #expect(snapshot.gatewayCount("drop_copy_messages_out") == (dropCopy ? UInt64(2 * pairs) : 0))
        if dropFD >= 0 { Glibc.close(dropFD) }
        #expect(snapshot.engine["trades"] == UInt64(pairs))
        Glibc.close(fixFD)
        buffer.deallocate()
        clients.closeAll()
        rig.shutDown()
        memory.release()
    }
}
