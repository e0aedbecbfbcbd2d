import CExchangeShim
import CMallocCounter
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeGateway
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Glibc
import Testing

/// The gateway's steady state allocates nothing. "Steady state" with sockets is three things,
/// each measured on its own after a warm-up of the same kind:
///
/// 1. order flow on established sessions: orders in, Accepted and Executed out, in batches,
///    with sends that the kernel may take in part;
/// 2. quiet time: the millisecond timers, server heartbeats (10 ms interval) and client
///    heartbeats, the engine's clock advanced by the gateway, counters published — on a
///    `ManualClock` the test moves, so the number of heartbeats does not depend on the host;
/// 3. connection churn: accept, login, an order, Logout, close, slot reuse — ten times.
///
/// The gateway and the engine agent run on the test thread (their rings between them, as in
/// shared mode), and so do the clients: raw non-blocking sockets whose replies are counted
/// packet by packet without allocating. The malloc counter counts this thread only; the
/// kernel's side of io_uring is not the process's heap.
@Suite struct GatewayAllocation {
    @Test func handlesOrdersTimersAndConnectionChurnWithoutTouchingTheHeap() throws {
        // The counter is linked and sees this thread's allocations.
        rtes_malloc_counter_start()
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        probe.deallocate()
        #expect(rtes_malloc_counter_stop().allocations == 1)

        let knobs = ExchangeKnobs(heartbeatIntervalMilliseconds: 10, idleTimeoutMilliseconds: 60_000)
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current())
            .configuration
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: configuration, clock: clock, authenticatorThread: true)
        let memory = rig.memory

        // Everything the clients send, encoded before any measurement.
        let pairs = 3_000
        let sells = (0..<pairs).flatMap { Client.order("S\($0)", "S", 100, "AAPL", price(230)) }
        let buys = (0..<pairs).flatMap { Client.order("B\($0)", "B", 100, "AAPL", price(230)) }
        let orderBytes = Client.order("S0", "S", 100, "AAPL", price(230)).count
        let churnLogin = Client.login(.load(1))
        let churnOrders = (0..<20).flatMap { Client.order("C\($0)", "S", 100, "MSFT", price(500)) }
        let heartbeat = Client.heartbeat
        let logout = Client.logout

        let sellerLogin = Client.login(.demo1)
        let buyerLogin = Client.login(.demo2)
        var clients = RawClients(capacity: 3)
        clients.fds[0] = connectLoopback(Int32(rig.port))
        clients.fds[1] = connectLoopback(Int32(rig.port))
        #expect(clients.fds[0] >= 0 && clients.fds[1] >= 0)
        sellerLogin.withUnsafeBytes { clients.send(0, $0, rig: &rig) }
        buyerLogin.withUnsafeBytes { clients.send(1, $0, rig: &rig) }
        #expect(clients.pump(&rig, seconds: 2) { $0.tallies[0].loginAccepted == 1 && $0.tallies[1].loginAccepted == 1 })

        /// Sends pairs `range` in batches of 16 per side and waits for every Accepted and Executed.
        func trade(_ range: Range<Int>, _ rig: inout GatewayEngineRig<ManualClock>, _ clients: inout RawClients) -> Bool {
            let before0 = clients.tallies[0].sequenced
            let before1 = clients.tallies[1].sequenced
            var next = range.lowerBound
            while next < range.upperBound {
                let end = min(next + 16, range.upperBound)
                sells.withUnsafeBytes { clients.send(0, UnsafeRawBufferPointer(rebasing: $0[next * orderBytes..<end * orderBytes]), rig: &rig) }
                buys.withUnsafeBytes { clients.send(1, UnsafeRawBufferPointer(rebasing: $0[next * orderBytes..<end * orderBytes]), rig: &rig) }
                next = end
                clients.turn(&rig)
            }
            let wanted = 2 * range.count
            return clients.pump(&rig, seconds: 5) {
                $0.tallies[0].sequenced - before0 == wanted && $0.tallies[1].sequenced - before1 == wanted
            }
        }

        // 1. Order flow.
        #expect(trade(0..<500, &rig, &clients))
        rtes_malloc_counter_start()
        let traded = trade(500..<pairs, &rig, &clients)
        let flow = rtes_malloc_counter_stop()
        #expect(traded)
        #expect(flow.allocations == 0, "order flow: \(flow.allocations) allocations, \(flow.bytes) bytes")

        // 2. Quiet time: 60 ms of the gateway's time, 10 ms at a step (and the same before, as
        // warm-up): a server heartbeat to the silent client 0 at every step, and a client
        // heartbeat from client 1 every 20 ms.
        func quiet(_ rig: inout GatewayEngineRig<ManualClock>, _ clients: inout RawClients) -> Int {
            let before = clients.tallies[0].heartbeats
            for step in 1...6 {
                clock.advance(milliseconds: 10)
                if step % 2 == 0 { heartbeat.withUnsafeBytes { clients.send(1, $0, rig: &rig) } }
                _ = clients.pump(&rig, seconds: 2) { $0.tallies[0].heartbeats >= before + step }
            }
            return clients.tallies[0].heartbeats - before
        }
        #expect(quiet(&rig, &clients) > 0)
        rtes_malloc_counter_start()
        let heartbeats = quiet(&rig, &clients)
        let idle = rtes_malloc_counter_stop()
        #expect(heartbeats == 6, "\(heartbeats) server heartbeats in 60 ms at a 10 ms interval")
        #expect(idle.allocations == 0, "timers and heartbeats: \(idle.allocations) allocations, \(idle.bytes) bytes")

        // 3. Churn: connect, log in, one order, Logout, wait for the close; ten times.
        func churn(_ rounds: Range<Int>, _ rig: inout GatewayEngineRig<ManualClock>, _ clients: inout RawClients) -> Int {
            var completed = 0
            for round in rounds {
                clock.advance(milliseconds: 1)  // the timers and the counters run during churn too
                let fd = connectLoopback(Int32(rig.port))
                guard fd >= 0 else { break }
                clients.fds[2] = fd
                clients.tallies[2] = PacketTally()
                churnLogin.withUnsafeBytes { clients.send(2, $0, rig: &rig) }
                let loggedIn = clients.pump(&rig, seconds: 2) { $0.tallies[2].loginAccepted == 1 }
                churnOrders.withUnsafeBytes {
                    clients.send(2, UnsafeRawBufferPointer(rebasing: $0[round * orderBytes..<(round + 1) * orderBytes]), rig: &rig)
                }
                let accepted = clients.pump(&rig, seconds: 2) { $0.tallies[2].sequenced == 1 }
                logout.withUnsafeBytes { clients.send(2, $0, rig: &rig) }
                let closed = clients.pump(&rig, seconds: 2) { $0.tallies[2].closed }
                Glibc.close(fd)
                clients.fds[2] = -1
                if loggedIn && accepted && closed { completed += 1 }
            }
            // Let the gateway see its side of the last close.
            _ = clients.pump(&rig, seconds: 0.02) { _ in false }
            return completed
        }
        #expect(churn(0..<10, &rig, &clients) == 10)
        rtes_malloc_counter_start()
        let churned = churn(10..<20, &rig, &clients)
        let reconnects = rtes_malloc_counter_stop()
        #expect(churned == 10)
        #expect(reconnects.allocations == 0, "connection churn: \(reconnects.allocations) allocations, \(reconnects.bytes) bytes")

        // 4. Rejects: Enter Orders for a symbol the exchange does not list, each answered
        // Rejected by the engine and told to the authenticator (its own thread) on the ring of
        // reject notices — a push, or a counted drop when that ring is full.
        let rejectCount = 2_000
        let rejectOrders = (0..<rejectCount).flatMap { Client.order("R\($0)", "S", 100, "ZZZZ", price(230)) }
        func reject(_ range: Range<Int>, _ rig: inout GatewayEngineRig<ManualClock>, _ clients: inout RawClients) -> Bool {
            let before = clients.tallies[0].sequenced
            var next = range.lowerBound
            while next < range.upperBound {
                let end = min(next + 16, range.upperBound)
                rejectOrders.withUnsafeBytes {
                    clients.send(0, UnsafeRawBufferPointer(rebasing: $0[next * orderBytes..<end * orderBytes]), rig: &rig)
                }
                next = end
                clients.turn(&rig)
            }
            return clients.pump(&rig, seconds: 5) { $0.tallies[0].sequenced - before == range.count }
        }
        #expect(reject(0..<400, &rig, &clients))
        rtes_malloc_counter_start()
        let rejectedAll = reject(400..<rejectCount, &rig, &clients)
        let refusals = rtes_malloc_counter_stop()
        #expect(rejectedAll)
        #expect(refusals.allocations == 0, "rejects: \(refusals.allocations) allocations, \(refusals.bytes) bytes")
        // Every reject reached the authenticator as a notice, or was counted as dropped.
        let told = clients.pump(&rig, seconds: 5) { _ in
            let auth = memory.counters.snapshot().values("auth")
            return (auth["reject_notices"] ?? 0) + (auth["reject_notices_dropped"] ?? 0) == UInt64(rejectCount)
        }
        #expect(told, "\(memory.counters.snapshot().values("auth"))")

        rig.advance(clock, milliseconds: 1)  // the counters are published once a millisecond of the gateway's time
        let snapshot = rig.memory.counters.snapshot()
        #expect(snapshot.gatewayCount("accepted_connections") == 22)
        #expect(snapshot.gatewayCount("logins_accepted") == 22)
        #expect(snapshot.engine["trades"] == UInt64(pairs))
        #expect(clients.tallies[0].other == 0 && clients.tallies[1].other == 0)
        clients.closeAll()
        rig.shutDown()
        memory.release()
    }

    /// The trading day's schedule and operators' actions allocate nothing either: a whole
    /// accelerated day (09:00–16:30 at 100,000×: 270 ms of the gateway's time, a millisecond at
    /// a step) with a halt and a resume taken from the operators' queue, after a day of warm-up.
    /// (The admin plane's side, `offer`, is not the gateway's: it runs between the steps.)
    @Test func runsATradingDayAndOperatorActionsWithoutTouchingTheHeap() throws {
        var knobs = ExchangeKnobs(heartbeatIntervalMilliseconds: 10, idleTimeoutMilliseconds: 60_000)
        knobs.tradingDay = #""enabled": true, "pre_open": "09:00", "open": "09:30", "close": "16:00", "end": "16:30", "clock_rate": 100000, "imbalance_interval_seconds": 300"#
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current())
            .configuration
        let clock = ManualClock()
        let actions = OperatorActionQueue()
        var rig = try GatewayEngineRig(configuration: configuration, clock: clock, operatorActions: actions)
        let memory = rig.memory
        let aapl = Symbol("AAPL")!
        let note = OperatorNote.records(action: .killAccount, subject: 0, who: "ops1", reason: String(repeating: "r", count: 100))!
            .map { OperatorActionQueue.Action(.operatorNote($0)) }
        let kill = note + [OperatorActionQueue.Action(.killClient(ClientAction(timestamp: 0, client: 0)))]
        let reinstate = note + [OperatorActionQueue.Action(.reinstateClient(ClientAction(timestamp: 0, client: 0)))]
        func day(_ rig: inout GatewayEngineRig<ManualClock>) -> (allocations: Int, bytes: Int) {
            var total = (allocations: 0, bytes: 0)
            for step in 0..<270 {
                if step == 100 { _ = actions.offer(.init(symbol: aapl, action: .halt)) }
                if step == 120 { _ = actions.offer(.init(symbol: aapl, action: .resume)) }
                // An operator's kill switch and reinstatement, each after its note of who and why.
                if step == 140 { _ = actions.offer(kill) }
                if step == 160 { _ = actions.offer(reinstate) }
                rtes_malloc_counter_start()
                rig.advance(clock, milliseconds: 1)
                let used = rtes_malloc_counter_stop()
                total.allocations += Int(used.allocations)
                total.bytes += Int(used.bytes)
            }
            return total
        }
        _ = day(&rig)
        let before = memory.counters.snapshot().gatewayCount("phase_commands")
        let operatorBefore = memory.counters.snapshot().gatewayCount("operator_commands")
        let used = day(&rig)
        let sent = memory.counters.snapshot().gatewayCount("phase_commands") - before
        // After the day of warm-up: the rest of the second day — an opening indicator (09:25),
        // the opening cross, two closing indicators (15:50, 15:55), the closing cross, end of
        // system hours — and the third day's pre-open at the same instant; and the two actions.
        #expect(sent == 9, "phase commands in a day: \(sent)")
        #expect(memory.counters.snapshot().gatewayCount("operator_commands") - operatorBefore == UInt64(kill.count + reinstate.count))
        #expect(used.allocations == 0, "a trading day: \(used.allocations) allocations, \(used.bytes) bytes")
        #expect(rig.engine.engine.engine.phase(of: 0) == .preOpen)
        rig.shutDown()
        memory.release()
    }
}
