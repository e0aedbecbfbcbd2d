import ExchangeClock
import Synchronization

/// One host campaigning for the leader key (docs/FAILOVER.md).
///
/// The rules, each enforced here:
/// - It wins only through a transaction that creates the key if it is absent
///   (create_revision == 0) under a lease of its own, so two candidates never both win.
///   The key's create revision is the leadership's fencing token: etcd's revision only
///   grows, so each leadership's token is higher than every earlier one's.
/// - Leading, it renews the lease every third of its TTL and checks that the key is still
///   the one it created. Each renewal's deadline counts from when the request was *sent*
///   (`LeaseDeadline`); the moment a deadline passes unconfirmed — etcd unreachable or
///   slow, the lease gone, the key deleted or taken — it closes the gate and reports `lost`.
///   Requests are bounded by the time left, so it notices at the deadline, and the gate
///   (`LeadershipGate`) stops acknowledgements at the deadline even before it notices.
/// - Following, it watches the key, learns who leads, and campaigns again when the key is
///   deleted (the leader resigned, or its lease expired).
/// - Cancelled (clean shutdown), it closes the gate first, then revokes its lease, which
///   deletes the key at once so that a follower need not wait for the TTL.
public final class LeaderCandidate<C: Clock>: Sendable {
    public let client: EtcdClient
    public let key: String
    public let name: String
    public let ttlSeconds: Int64
    public let clock: C
    /// What the hot path reads.
    public let gate: LeadershipGate
    private let box = Mutex(LeadershipState())
    private let onTransition: @Sendable (LeadershipState) -> Void

    /// - Parameters:
    ///   - key: the leader key (`LeadershipSettings.leaderKey`).
    ///   - name: the value written to the key: what followers learn.
    ///   - ttlSeconds: the lease TTL (2–60; etcd raises shorter ones to its minimum).
    ///   - clock: the monotonic clock deadlines are measured on; the gate's readers must use
    ///     the same one.
    ///   - onTransition: called on every change of role, leader or token (from the
    ///     candidate's task; keep it short).
    public init(
        client: EtcdClient, key: String, name: String, ttlSeconds: Int64, clock: C, gate: LeadershipGate = LeadershipGate(),
        onTransition: @escaping @Sendable (LeadershipState) -> Void = { _ in }
    ) {
        precondition(ttlSeconds > 0, "a lease TTL must be positive")
        self.client = client
        self.key = key
        self.name = name
        self.ttlSeconds = ttlSeconds
        self.clock = clock
        self.gate = gate
        self.onTransition = onTransition
    }

    /// The state as of now. A leader whose deadline has passed reads as `lost` even before
    /// its task has noticed.
    public var state: LeadershipState {
        var state = box.withLock { $0 }
        if state.role == .leader, !gate.mayAcknowledge(atTicks: clock.ticks()) {
            state.role = .lost
            state.reason = "the lease deadline passed unconfirmed"
        }
        return state
    }

    /// Whether this candidate may acknowledge now (`LeadershipGate.mayAcknowledge` at the
    /// clock's current reading).
    public func mayAcknowledge() -> Bool { gate.mayAcknowledge(atTicks: clock.ticks()) }

    /// Campaigns until the task is cancelled; then resigns (if leading) and returns.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await campaignOnce()
            } catch is CancellationError {
                break
            } catch {
                publish { $0.reason = "\(error)" }
                try? await Task.sleep(for: retryPause)
            }
        }
        gate.close()
        publish { state in
            state.role = .resigned
            state.leaseDeadlineTicks = 0
            state.reason = "stopped"
        }
    }

    // MARK: Campaign

    /// How long one request to etcd may take outside leadership. Safety does not depend on it
    /// (a leadership's deadline counts from when its lease was asked for), so it is generous: a
    /// loaded etcd answering in a second must not keep every candidate from ever winning.
    var requestTimeout: Duration { max(.seconds(2), .seconds(ttlSeconds)) }
    /// Pause after a failed attempt.
    var retryPause: Duration { min(.milliseconds(250), .seconds(ttlSeconds) / 6) }
    /// How long a follower watches before checking again from scratch.
    var watchWindow: Duration { .seconds(max(10, 2 * ttlSeconds)) }

    private func campaignOnce() async throws {
        publish { state in
            if state.role != .lost { state.role = .candidate }
        }
        let sent = clock.ticks()
        let lease = try await client.grantLease(ttlSeconds: ttlSeconds, timeout: requestTimeout)
        var deadline = LeaseDeadline()
        deadline.confirm(sentAtTicks: sent, ttlSeconds: lease.ttlSeconds, ticksPerSecond: clock.ticksPerSecond)
        let outcome: CreateOutcome
        do {
            outcome = try await client.createIfAbsent(key: key, value: name, lease: lease.id, timeout: requestTimeout)
        } catch {
            // The transaction may have been applied: revoking the lease deletes the key if so.
            await revokeDetached(lease.id)
            throw error
        }
        switch outcome {
        case .created(let token):
            try await lead(lease: lease.id, token: token, deadline: deadline)
        case .held(let holder, let revision):
            await revokeDetached(lease.id)
            publish { state in
                state.role = .follower
                state.fencingToken = holder?.createRevision ?? 0
                state.leaderName = holder?.name
                state.leaseDeadlineTicks = 0
                state.reason = nil
            }
            if holder != nil { try await awaitVacancy(fromRevision: revision + 1) }
        }
    }

    /// Leads until the lease cannot be confirmed in time (returns, role `lost`) or the task is
    /// cancelled (resigns, throws `CancellationError`).
    private func lead(lease: Int64, token: Int64, deadline initial: LeaseDeadline) async throws {
        var deadline = initial
        guard deadline.isLive(atTicks: clock.ticks()) else {
            return await lose(lease: lease, token: token, reason: "the campaign transaction took longer than the lease")
        }
        gate.open(token: token, untilTicks: deadline.expiresAtTicks)
        publish { state in
            state.role = .leader
            state.fencingToken = token
            state.leaderName = name
            state.leaseDeadlineTicks = deadline.expiresAtTicks
            state.reason = nil
        }
        var failure: String?
        while true {
            var now = clock.ticks()
            if !deadline.isLive(atTicks: now) {
                return await lose(lease: lease, token: token, reason: "lease not confirmed within its TTL: \(failure ?? "no answer")")
            }
            let due = failure == nil ? deadline.nextKeepAliveAtTicks : now &+ clock.ticks(forNanoseconds: 100_000_000)
            if due > now {
                do {
                    try await sleep(ticks: min(due, deadline.expiresAtTicks) &- now)
                } catch {
                    try await resign(lease: lease)
                }
            }
            if Task.isCancelled { try await resign(lease: lease) }
            now = clock.ticks()
            let remaining = deadline.remainingTicks(atTicks: now)
            guard remaining > 0 else { continue }
            do {
                let ttl = try await client.keepAlive(lease: lease, timeout: duration(ticks: remaining))
                guard ttl > 0 else { return await lose(lease: lease, token: token, reason: "the lease is gone (expired or revoked)") }
                deadline.confirm(sentAtTicks: now, ttlSeconds: ttl, ticksPerSecond: clock.ticksPerSecond)
                gate.extend(untilTicks: deadline.expiresAtTicks)
                let left = deadline.remainingTicks(atTicks: clock.ticks())
                guard left > 0 else { continue }
                let (record, revision) = try await client.get(key: key, timeout: duration(ticks: left))
                guard let record else {
                    return await lose(lease: lease, token: token, reason: "the leader key was deleted (seen at revision \(revision))")
                }
                guard record.createRevision == token, record.lease == lease else {
                    return await lose(lease: lease, token: token,
                                      reason: "the leader key was taken by \(record.name) at revision \(record.createRevision)")
                }
                failure = nil
                publish { $0.leaseDeadlineTicks = deadline.expiresAtTicks; $0.reason = nil }
            } catch is CancellationError {
                try await resign(lease: lease)
            } catch {
                if Task.isCancelled { try await resign(lease: lease) }
                failure = "\(error)"
                publish { $0.reason = failure }
            }
        }
    }

    /// Closes the gate, reports `lost`, and revokes the lease (best effort) so that the key,
    /// if still ours, goes at once.
    private func lose(lease: Int64, token: Int64, reason: String) async {
        gate.close()
        publish { state in
            state.role = .lost
            state.fencingToken = token
            // Kept: the deadline that passed (or was cut short), for those who check when.
            state.reason = reason
        }
        await revokeDetached(lease)
    }

    /// Clean shutdown while leading: stop acknowledging, then revoke.
    private func resign(lease: Int64) async throws -> Never {
        gate.close()
        await revokeDetached(lease)
        throw CancellationError()
    }

    /// Revokes `lease` in a task of its own, so that it runs even when this task is cancelled;
    /// errors are ignored (the lease expires by itself).
    private func revokeDetached(_ lease: Int64) async {
        let client = client
        let timeout = requestTimeout
        await Task { try? await client.revoke(lease: lease, timeout: timeout) }.value
    }

    /// Watches the key until it is deleted (returns), the watch window passes (returns: the
    /// caller campaigns again, which re-reads the key) or etcd fails (throws).
    private func awaitVacancy(fromRevision revision: Int64) async throws {
        _ = try await client.watch(key: key, fromRevision: revision, timeout: watchWindow) { [self] event in
            if event.kind == .delete { return true }
            publish { state in
                state.role = .follower
                state.fencingToken = event.createRevision
                state.leaderName = event.value
            }
            return false
        }
    }

    // MARK: Time and state

    private func duration(ticks: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: clock.nanoseconds(inTicks: ticks)))
    }

    private func sleep(ticks: UInt64) async throws {
        try await Task.sleep(for: duration(ticks: ticks))
    }

    private func publish(_ change: (inout LeadershipState) -> Void) {
        let (changed, state) = box.withLock { state -> (Bool, LeadershipState) in
            let before = state
            change(&state)
            let changed = before.role != state.role || before.fencingToken != state.fencingToken || before.leaderName != state.leaderName
            return (changed, state)
        }
        if changed { onTransition(state) }
    }
}
