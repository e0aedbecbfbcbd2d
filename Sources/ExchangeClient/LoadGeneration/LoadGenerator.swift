import ExchangeClock
import ExchangeWire
import Glibc

/// Drives OUCH order flow at the exchange over N connections and measures round trips.
///
/// Threading: one thread — the caller's — polls every connection: each turn it reads what
/// each non-blocking socket has (every whole packet in it), then writes the requests that
/// are due into each connection's send buffer and hands them to the kernel in one `send`
/// per connection. With `Idle.spin` it never blocks (one core busy, the lowest and least
/// noisy latency); with `Idle.block` it waits in `select` when a turn found nothing to do.
/// Nothing allocates per message: packets are framed in place, requests are encoded into
/// the send buffers, orders live in a preallocated table per connection.
///
/// Phases: log every account in (SoupBinTCP, newest messages only); send until the request
/// count or the duration is reached; wait for every outstanding answer; cancel what still
/// rests (`cleanup`) and wait for those answers; log out.
public enum LoadGenerator {
    /// Runs `plan` on the calling thread and returns what it measured. Throws before the
    /// run (bad plan, a host that is not loopback without `allowRemote`, a login that
    /// fails); failures during the run are in `LoadReport.failures`.
    public static func run(_ plan: LoadPlan, clock: TSCClock = .calibrated(), allowRemote: Bool = false) throws(ClientError) -> LoadReport {
        var report = try run(plan, on: clock, allowRemote: allowRemote)
        report.clockSource = clock.source
        return report
    }

    /// Runs `plan` timing it with `clock` (any `Clock`: the load generator's loop is
    /// specialised for it).
    public static func run<C: Clock>(_ plan: LoadPlan, on clock: C, allowRemote: Bool = false) throws(ClientError) -> LoadReport {
        if let problem = plan.problem() { throw ClientError.invalidArgument(problem) }
        if !allowRemote {
            for target in plan.addresses {
                for address in try SocketAddress.resolve(host: target.host, port: target.port) where !address.isLoopback {
                    throw ClientError.invalidArgument("\(target.host) (\(address)) is not a loopback address; allow remote targets explicitly to load one")
                }
            }
        }
        let sessions = try logIn(plan)
        defer { for s in sessions { s.connection.close() } }
        let restoreSlack = plan.idle == .block ? TimerSlack.reduce() : nil
        defer { if let restoreSlack { TimerSlack.set(restoreSlack) } }
        var run = LoadRun(plan: plan, clock: clock, sessions: sessions)
        run.send()
        run.drain()
        if plan.cleanup {
            run.cleanUp()
            run.drain()
        }
        run.logOut()
        return run.report()
    }

    static func logIn(_ plan: LoadPlan) throws(ClientError) -> [LoadSession] {
        let count = plan.accounts.count
        var sessions: [LoadSession] = []
        do throws(ClientError) {
            for (index, account) in plan.accounts.enumerated() {
                let client = try OrderEntryClient.connect(
                    addresses: plan.addresses, username: account.username, password: account.password,
                    options: OrderEntryClient.Options(heartbeatInterval: nil, tls: plan.tls[account.username]), failover: plan.failover)
                let budget = plan.requests.map { $0 / count + (index < $0 % count ? 1 : 0) } ?? Int.max
                let warmup = plan.warmupRequests / count + (index < plan.warmupRequests % count ? 1 : 0)
                sessions.append(LoadSession(username: account.username, client: client, plan: plan, index: index,
                                            budget: budget, warmup: warmup))
            }
        } catch {
            for s in sessions { s.connection.close() }
            throw error
        }
        return sessions
    }
}
