import Crypto
import ExchangeClock
import ExchangeConfig
import ExchangeRuntime
import ExchangeWire
import Glibc
import Logging

/// The one login check of every TCP service: an agent on a thread of its own, away from the
/// busy-polling service loops, because a password check (scrypt) takes milliseconds.
///
/// Each service (the order gateway, the snapshot service) posts `LoginRequest`s on its
/// `LoginChannel` and completes the login when the `LoginAnswer` comes back; the
/// authenticator takes one request per service per turn and:
///
/// 1. asks the throttle (`LoginThrottle`) first: an account or source address in backoff or
///    locked out is refused without spending a check;
/// 2. accepts a password it verified before for that account (a cache of HMAC-SHA256 tags
///    under a key drawn at start — never the password), so reconnects are cheap;
/// 3. otherwise runs scrypt (`ScryptHash.verifies`) — also for an unknown username, against
///    a dummy hash of the same cost, so the answer's timing does not tell which usernames exist.
///
/// A refusal's answer is held until the backoff it started ends (at most `maxBackoff`), so
/// a client guessing on one connection after another waits, while no thread blocks: held
/// answers sit in a bounded list and go out when due. Every failed login is one log line
/// (service, account when known, source address, reason, failures in a row; never the
/// password); a success is a debug line. Counters: `AuthCounters`.
///
/// It also writes the debug lines of the services' rejected order messages: each service
/// pushes a `RejectNotice` per reject on a ring of its own (`LoginChannel`), and the
/// authenticator drains it every turn into a `RejectDigest` per service, which comes out as
/// one line per account and reason a second. Here rather than on the admin plane's threads:
/// this agent already runs off every hot thread (on the CPUs no agent uses), owns the
/// services' channels and the account names, and runs on an injected clock, so the
/// aggregation is tested on a `ManualClock` as the logins are.
public struct Authenticator<C: Clock>: Agent, ~Copyable {
    public var roleName: String { "auth" }

    let ports: UnsafeMutablePointer<LoginPort>
    let portCount: Int
    let accountsByName: [UInt64: Int]
    let names: [String]
    let credentials: [Credential]
    /// Checked for unknown usernames, so that they cost what known ones do.
    let dummy: ScryptHash?
    var throttle: LoginThrottle
    /// Per account: HMAC of the last password verified for it (empty: none).
    var verified: [[UInt8]]
    let cacheKey: SymmetricKey
    var held: [(port: Int, answer: LoginAnswer, due: UInt64)] = []
    let heldCapacity: Int
    var nextDue: UInt64 = .max
    let clock: C
    let logger: Logger
    let counters: CounterBlock
    var counts: [UInt64]
    /// One per port: that service's rejects of the current window.
    var rejectDigests: [RejectDigest]
    /// Reject notices taken from one port in one turn, at most.
    static var rejectBatch: Int { 1_024 }

    /// - Parameters:
    ///   - channels: one per service; the authenticator takes their ports.
    ///   - cells: where the `auth` counter block is registered.
    public init(keys: APIKeys, policy: LoginThrottle.Policy, channels: [LoginChannel], clock: C, cells: CounterCells,
                logger: Logger) throws(SystemError) {
        counters = try cells.register(AuthCounters.block)
        counts = Array(repeating: 0, count: AuthCounters.block.cellCount)
        portCount = channels.count
        rejectDigests = Array(repeating: RejectDigest(), count: channels.count)
        ports = .allocate(capacity: max(1, channels.count))
        for (i, channel) in channels.enumerated() { (ports + i).initialize(to: channel.makePort()) }
        heldCapacity = max(16, channels.reduce(0) { $0 + 2 * $1.capacity })
        held.reserveCapacity(heldCapacity)
        var byName: [UInt64: Int] = [:]
        for (i, account) in keys.accounts.enumerated() {
            if let name = SoupUsername(account.username) { byName[name.rawValue] = i }
        }
        accountsByName = byName
        names = keys.accounts.map(\.username)
        credentials = keys.accounts.map(\.credential)
        dummy = keys.accounts.lazy.compactMap { account -> ScryptHash? in
            guard case .scrypt(let hash) = account.credential else { return nil }
            return try? ScryptHash(logRounds: hash.logRounds, blockSize: hash.blockSize, parallelism: hash.parallelism,
                                   salt: Array(repeating: 0x5A, count: hash.salt.count), hash: Array(repeating: 0, count: hash.hash.count))
        }.first
        throttle = LoginThrottle(policy: policy, accounts: keys.accounts.count)
        verified = Array(repeating: [], count: keys.accounts.count)
        cacheKey = SymmetricKey(size: .bits256)
        self.clock = clock
        self.logger = logger
    }

    deinit {
        ports.deinitialize(count: portCount)
        ports.deallocate()
    }

    public mutating func doWork() -> Int {
        var work = 0
        let now = clock.now()
        if now >= nextDue { work &+= releaseHeld(now: now) }
        for port in 0..<portCount {
            guard let request = ports[port].requests.tryPop() else { continue }
            switch request.kind {
            case .login: handle(request, port: port, now: now)
            case .sessionEnded: logSessionEnd(request, port: port)
            case .notice:
                if let notice = ServiceNotice(rawValue: request.endReason) { logger.notice("\(ports[port].service): \(notice.text)") }
            }
            work &+= 1
        }
        work &+= takeRejects(now: now)
        if work > 0 { publish() }
        return work
    }

    /// Drains each service's reject notices into its digest and logs the windows that ended
    /// (at debug; below debug level the notices are only counted).
    mutating func takeRejects(now: UInt64) -> Int {
        var taken = 0
        let logging = logger.logLevel <= .debug
        var dropped: UInt64 = 0
        let names = self.names
        for port in 0..<portCount {
            let batch = ports[port].rejects.peek(upTo: Self.rejectBatch)
            if logging { for notice in batch { rejectDigests[port].add(notice, now: now) } }
            ports[port].rejects.release(batch.count)
            taken &+= batch.count
            let portDropped = ports[port].droppedRejects
            dropped &+= portDropped
            guard logging else { continue }
            rejectDigests[port].noteDropped(total: portDropped, now: now)
            if rejectDigests[port].isDue(now: now) {
                let service = ports[port].service
                for line in rejectDigests[port].closeWindow(now: now, service: service, accountName: { Self.name(of: $0, in: names) }) {
                    logger.debug("\(line)")
                }
            }
        }
        counts[AuthCounters.rejectNotices.index] &+= UInt64(taken)
        if dropped != counts[AuthCounters.rejectNoticesDropped.index] {
            counts[AuthCounters.rejectNoticesDropped.index] = dropped
            if taken == 0 { publish() }
        }
        return taken
    }

    /// An account's username, or `#n` for a client that is no account of the keys file.
    static func name(of account: Int32, in names: [String]) -> String {
        names.indices.contains(Int(account)) ? names[Int(account)] : "#\(account)"
    }

    public mutating func beginDrain() {}

    /// Drained once no answer is held back.
    public var isDrained: Bool { held.isEmpty }

    /// Held answers go out at once (the services are stopping).
    public mutating func onClose() {
        for entry in held { _ = ports[entry.port].answers.tryPush(entry.answer) }
        held.removeAll()
        publish()
    }

    /// A logged-in session ended (Logout, disconnect, timeout…): one debug line.
    func logSessionEnd(_ request: LoginRequest, port: Int) {
        let account = Self.name(of: request.account, in: names)
        logger.debug("session ended: \(ports[port].service), account \(account), \(ports[port].channel.describeEnd(request.endReason))")
    }

    // MARK: One login

    mutating func handle(_ request: LoginRequest, port: Int, now: UInt64) {
        counts[AuthCounters.requests.index] &+= 1
        let address = Self.peerAddress(request.descriptor)
        let account = accountsByName[request.username.rawValue]
        let reply = { (verdict: LoginVerdict) in
            LoginAnswer(slot: request.slot, generation: request.generation, account: verdict == .accepted ? Int32(account ?? -1) : -1,
                        verdict: verdict)
        }
        switch throttle.decide(account: account, address: address, now: now) {
        case .lockedOut:
            counts[AuthCounters.lockedOut.index] &+= 1
            logFailure(port: port, account: account, address: address, reason: "locked out", failures: failures(account, address))
            answer(reply(.lockedOut), port: port, due: now)
            return
        case .throttled(let until):
            counts[AuthCounters.throttled.index] &+= 1
            logFailure(port: port, account: account, address: address, reason: "too soon after a failed login (backoff)",
                       failures: failures(account, address))
            answer(reply(.throttled), port: port, due: min(until, now &+ throttle.policy.maxBackoff))
            return
        case .check:
            break
        }
        let password = Self.bytes(of: request.password)
        let started = clock.ticks()
        let ok: Bool
        if let account {
            let tag = cacheTag(account: account, password: password)
            if !verified[account].isEmpty && constantTimeEqual(verified[account], tag) {
                counts[AuthCounters.cacheHits.index] &+= 1
                ok = true
            } else {
                ok = check(password, against: credentials[account])
                if ok { verified[account] = tag }
            }
        } else {
            if let dummy { _ = dummy.verifies(password) }
            counts[AuthCounters.verifications.index] &+= dummy == nil ? 0 : 1
            ok = false
        }
        let took = clock.nanoseconds(inTicks: clock.ticks() &- started)
        if took > counts[AuthCounters.worstCheckNanoseconds.index] { counts[AuthCounters.worstCheckNanoseconds.index] = took }
        if ok, let account {
            throttle.recordSuccess(account: account, address: address)
            counts[AuthCounters.accepted.index] &+= 1
            logger.debug("login accepted: \(ports[port].service), account \(names[account]), from \(Self.dotted(address))")
            answer(reply(.accepted), port: port, due: now)
            return
        }
        let lockoutsBefore = throttle.lockouts
        let (count, until) = throttle.recordFailure(account: account, address: address, now: now)
        counts[AuthCounters.notAuthorized.index] &+= 1
        counts[AuthCounters.lockouts.index] &+= throttle.lockouts &- lockoutsBefore
        logFailure(port: port, account: account, address: address,
                   reason: account == nil ? "unknown username" : "wrong password", failures: count)
        answer(reply(.notAuthorized), port: port, due: min(until, now &+ throttle.policy.maxBackoff))
    }

    mutating func check(_ password: [UInt8], against credential: Credential) -> Bool {
        switch credential {
        case .scrypt(let hash):
            counts[AuthCounters.verifications.index] &+= 1
            return hash.verifies(password)
        case .plain(let secret):
            return constantTimeEqual(password, Array(secret.reveal().utf8))
        }
    }

    func cacheTag(account: Int, password: [UInt8]) -> [UInt8] {
        var message = withUnsafeBytes(of: UInt32(account).bigEndian) { Array($0) }
        message += password
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: cacheKey))
    }

    func failures(_ account: Int?, _ address: UInt32) -> Int {
        max(account.map { throttle.record(account: $0).failures } ?? 0, throttle.record(address: address)?.failures ?? 0)
    }

    func logFailure(port: Int, account: Int?, address: UInt32, reason: String, failures: Int) {
        let who = account.map { "account \(names[$0])" } ?? "unknown account"
        logger.warning("login failed: \(ports[port].service), \(who), from \(Self.dotted(address)), \(reason), \(failures) failures in a row")
    }

    // MARK: Answers

    /// Sends the answer now when due, else holds it; when the list of held answers is full
    /// it goes at once (early, never lost).
    mutating func answer(_ answer: LoginAnswer, port: Int, due: UInt64) {
        let now = clock.now()
        if due <= now || held.count >= heldCapacity {
            if ports[port].answers.tryPush(answer) { return }
            if held.count >= heldCapacity {
                // Both the ring and the list are full: the service's login timeout closes the connection.
                counts[AuthCounters.answersDropped.index] &+= 1
                return
            }
        }
        held.append((port, answer, due))
        nextDue = min(nextDue, due)
        counts[AuthCounters.delayedAnswers.index] = UInt64(held.count)
    }

    mutating func releaseHeld(now: UInt64) -> Int {
        var released = 0
        var next = UInt64.max
        var i = 0
        while i < held.count {
            let entry = held[i]
            if entry.due <= now && ports[entry.port].answers.tryPush(entry.answer) {
                held.swapAt(i, held.count - 1)
                held.removeLast()
                released &+= 1
                continue
            }
            next = min(next, entry.due)
            i &+= 1
        }
        nextDue = next
        counts[AuthCounters.delayedAnswers.index] = UInt64(held.count)
        return released
    }

    func publish() {
        counts.withUnsafeBufferPointer { values in
            for descriptor in AuthCounters.block.counters where descriptor.cell != AuthCounters.trackedAddresses
                && descriptor.cell != AuthCounters.addressEvictions {
                counters.store(descriptor.cell, values[descriptor.cell.index])
            }
        }
        counters.store(AuthCounters.trackedAddresses, UInt64(throttle.trackedAddresses))
        counters.store(AuthCounters.addressEvictions, throttle.evictions)
    }

    // MARK: Helpers

    /// The password as the client typed it: the wire's 10 bytes without the trailing spaces.
    static func bytes(of password: SoupPassword) -> [UInt8] {
        var raw = [UInt8](repeating: 0x20, count: SoupPassword.width)
        raw.withUnsafeMutableBytes { password.write(to: $0.baseAddress!, at: 0) }
        while raw.last == 0x20 { raw.removeLast() }
        return raw
    }

    /// The IPv4 source address of the connection on `descriptor` (host order), 0 when it is
    /// not IPv4 or already closed. Asked here, off the service's thread. (The descriptor may
    /// in rare cases already belong to a newer connection; its answer is then stale and
    /// ignored by the service, only the failure is counted against that address.)
    static func peerAddress(_ descriptor: Int32) -> UInt32 {
        guard descriptor >= 0 else { return 0 }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
        }
        guard result == 0, address.sin_family == sa_family_t(AF_INET) else { return 0 }
        return UInt32(bigEndian: address.sin_addr.s_addr)
    }

    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)"
    }
}
