import ExchangeClock
import ExchangeWire
import Glibc

/// The state of one run while it goes. Time is the injected clock's ticks (`TSCClock` in
/// `LoadGenerator.run`); socket waits stay on CLOCK_MONOTONIC deadlines (`Monotonic`).
struct LoadRun<C: Clock>: ~Copyable {
    let plan: LoadPlan
    let clock: C
    let sessions: [LoadSession]
    var results = LoadReport()
    let heartbeatTicks: UInt64
    let pollEntries: UnsafeMutablePointer<pollfd>
    var startTicks: UInt64 = 0
    var maximumLagTicks: UInt64 = 0

    init(plan: LoadPlan, clock: C, sessions: [LoadSession]) {
        self.plan = plan
        self.clock = clock
        self.sessions = sessions
        heartbeatTicks = clock.ticksPerSecond
        pollEntries = .allocate(capacity: sessions.count)
        for (i, s) in sessions.enumerated() {
            pollEntries[i] = pollfd(fd: s.connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
        }
    }

    deinit { pollEntries.deallocate() }

    // MARK: Phases

    mutating func send() {
        startTicks = clock.ticks()
        let endTicks = plan.duration.map { startTicks &+ clock.ticks(forNanoseconds: Monotonic.nanoseconds($0)) } ?? UInt64.max
        var interval = 0.0
        if case .openLoop(let rate) = plan.pacing {
            // Each connection sends rate/N; their schedules are staggered evenly.
            interval = Double(clock.ticksPerSecond) * Double(sessions.count) / rate
            for (i, s) in sessions.enumerated() {
                s.nextPlannedTicks = startTicks &+ UInt64(interval * Double(i) / Double(sessions.count))
            }
        }
        for s in sessions { s.lastSendTicks = startTicks }
        while true {
            let now = clock.ticks()
            var sending = false
            var work = receiveAll()
            // (Index loops: iterating the array itself allocates in debug builds.)
            for i in 0..<sessions.count where sessions[i].isActive && sessions[i].budget > 0 {
                let s = sessions[i]
                let due: UInt64
                switch plan.pacing {
                case .closedLoop: due = now
                case .openLoop: due = s.nextPlannedTicks
                }
                guard due < endTicks else { continue }
                sending = true
                let issued = issue(s, now: now, endTicks: endTicks, interval: interval)
                if issued > 0 {
                    // Out at once, not after the other connections' requests are written.
                    do throws(ClientError) { try s.connection.flushWithoutWaiting() } catch { fail(s, error) }
                    work += issued
                }
            }
            if !sending { break }
            work += flushAll(now: now)
            if work == 0 { idle(until: nextDue(now: now)) }
        }
    }

    /// Waits for every outstanding answer, at most `drainTimeout`. Requests in flight at a
    /// failover that no later request settled are settled at its end (as of unknown outcome).
    mutating func drain() {
        let deadline = Monotonic.deadline(after: plan.drainTimeout)
        defer { for s in sessions where s.settling { s.settleFailover() } }
        while awaitingAnswers() {
            if Monotonic.now() >= deadline { return }
            let now = clock.ticks()
            let work = receiveAll() + flushAll(now: now)
            if work == 0 { idle(until: now &+ clock.ticksPerSecond / 100) }
        }
    }

    /// Cancels every order still resting.
    mutating func cleanUp() {
        let deadline = Monotonic.deadline(after: plan.drainTimeout)
        var pending = sessions.filter(\.isActive)
        while !pending.isEmpty && Monotonic.now() < deadline {
            let now = clock.ticks()
            pending = pending.filter { s in
                do throws(ClientError) {
                    return try !s.issueCleanupCancels(at: now) && s.isActive
                } catch {
                    fail(s, error)
                    return false
                }
            }
            let work = receiveAll() + flushAll(now: now)
            if work == 0 && !pending.isEmpty { idle(until: now &+ clock.ticksPerSecond / 100) }
        }
    }

    /// Logout Request on every connection, then up to a second for the exchange to close them.
    mutating func logOut() {
        for s in sessions where s.isActive {
            _ = try? s.client.logout(timeout: .seconds(1))
        }
    }

    // MARK: One turn's pieces

    /// Whether any connection still waits for answers or has bytes to send.
    func awaitingAnswers() -> Bool {
        for i in 0..<sessions.count where sessions[i].isActive {
            if sessions[i].outstanding > 0 || sessions[i].connection.unsentBytes > 0 { return true }
        }
        return false
    }

    /// Reads every connection's available packets. Returns how many were handled.
    mutating func receiveAll() -> Int {
        var handled = 0
        for i in 0..<sessions.count where sessions[i].isActive {
            let s = sessions[i]
            do throws(ClientError) {
                var received = clock.ticks()
                while true {
                    while let frame = try s.connection.nextBufferedFrame() {
                        try s.handle(frame, at: received, clock: clock, into: &results)
                        handled += 1
                    }
                    guard try s.connection.receiveAvailable() > 0 else { break }
                    received = clock.ticks()
                }
            } catch {
                fail(s, error)
            }
        }
        return handled
    }

    /// Writes `s`'s due requests into its send buffer. Returns how many.
    mutating func issue(_ s: LoadSession, now: UInt64, endTicks: UInt64, interval: Double) -> Int {
        var issued = 0
        do throws(ClientError) {
            switch plan.pacing {
            case .closedLoop(let window):
                while s.outstanding < window && s.budget > 0 {
                    guard try s.issueRequest(at: clock.ticks()) else { break }
                    issued += 1
                }
            case .openLoop:
                while s.budget > 0 && s.nextPlannedTicks <= now && s.nextPlannedTicks < endTicks {
                    guard try s.issueRequest(at: s.nextPlannedTicks) else { break }
                    maximumLagTicks = max(maximumLagTicks, now &- s.nextPlannedTicks)
                    // The schedule is the start plus a whole number of intervals: no drift.
                    s.nextPlannedTicks = startTicks &+ UInt64(interval * (Double(s.issued) + Double(s.index) / Double(sessions.count)))
                    issued += 1
                }
            }
            if issued > 0 { s.lastSendTicks = now }
        } catch {
            fail(s, error)
        }
        return issued
    }

    /// Hands every connection's queued bytes to the kernel (and a heartbeat to any that has
    /// been quiet for a second). Returns how many connections sent something.
    mutating func flushAll(now: UInt64) -> Int {
        var sent = 0
        for i in 0..<sessions.count where sessions[i].isActive {
            let s = sessions[i]
            do throws(ClientError) {
                try s.heartbeatIfQuiet(now: now, interval: heartbeatTicks)
                let before = s.connection.unsentBytes
                if before > 0 {
                    try s.connection.flushWithoutWaiting()
                    if s.connection.unsentBytes < before { sent += 1 }
                }
            } catch {
                fail(s, error)
            }
        }
        return sent
    }

    /// When the next request is due (open loop), or 10 ms from now (to look at the clock
    /// for the duration's end; replies wake the wait earlier).
    func nextDue(now: UInt64) -> UInt64 {
        var next = now &+ clock.ticksPerSecond / 100
        if case .openLoop = plan.pacing {
            for i in 0..<sessions.count where sessions[i].isActive && sessions[i].budget > 0 {
                next = min(next, sessions[i].nextPlannedTicks)
            }
        }
        return next
    }

    /// Waits end this much before the next request is due and the loop spins the rest, so
    /// that requests go on time: a sleeper wakes late by the timer slack (reduced to 1 µs
    /// for the run's thread where the kernel allows it, `reduceTimerSlack`) and the wake-up.
    static var wakeEarlyNanoseconds: UInt64 { 60_000 }

    /// Spins (`Idle.spin`) or waits in select until a socket is readable or shortly before
    /// `ticks`.
    func idle(until ticks: UInt64) {
        guard plan.idle == .block else { return }
        let now = clock.ticks()
        let early = clock.ticks(forNanoseconds: Self.wakeEarlyNanoseconds)
        guard ticks > now &+ early else { return }
        for i in 0..<sessions.count {
            pollEntries[i].events = Int16(POLLIN) | (sessions[i].connection.unsentBytes > 0 ? Int16(POLLOUT) : 0)
            pollEntries[i].revents = 0
        }
        _ = try? TCPSocket.poll(pollEntries, count: sessions.count, until: Monotonic.now() &+ clock.nanoseconds(inTicks: ticks &- now &- early))
    }

    mutating func fail(_ s: LoadSession, _ error: ClientError) {
        guard s.failure == nil else { return }
        if s.failOver(after: error) {
            pollEntries[s.index].fd = s.connection.fileDescriptor
            s.lastSendTicks = clock.ticks()
            let event = s.client.lastFailover.map { "\($0)" } ?? "failed over"
            results.failovers.append("\(s.username): \(event)")
            return
        }
        if let failed = s.failure {
            s.connection.close()
            pollEntries[s.index].fd = -1
            results.failures.append("\(s.username): \(error); failover: \(failed)")
            return
        }
        s.failure = error
        s.connection.close()
        pollEntries[s.index].fd = -1
        results.failures.append("\(s.username): \(error)")
    }

    // MARK: Result

    func report() -> LoadReport {
        var report = results
        var total = LoadTally()
        var last = startTicks
        for s in sessions {
            let tally = s.finalTally()
            report.connections.append((s.username, tally))
            total = total + tally
            last = max(last, s.lastRequestTicks)
        }
        report.tally = total
        report.sendingSeconds = Double(clock.nanoseconds(inTicks: last &- startTicks)) / 1e9
        report.maximumSendLagNanoseconds = clock.nanoseconds(inTicks: maximumLagTicks)
        return report
    }
}
