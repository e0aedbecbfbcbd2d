// Failover: a client given several addresses (primary, backup) and a `FailoverPolicy` that
// loses its connection while logged in connects to the next address and logs in again to
// the same session, naming the sequence number of the next message it has not handed to its
// caller (SoupBinTCP's resume). The exchange there replays from that message, so the caller
// sees one continuous sequence: nothing twice, nothing skipped. docs/FAILOVER.md, "What a
// client sees and must do".
extension OrderEntryClient {
    /// Connects to the first of `addresses` that accepts and logs in (a refused connection,
    /// or a Login Rejected for a session not available there, moves on to the next address);
    /// with `failover`, a later loss of the connection fails over (see `FailoverPolicy`).
    public static func connect(
        addresses: [ExchangeAddress], username: String, password: String, session: String = "", sequence: UInt64 = 0,
        options: Options = Options(), failover: FailoverPolicy? = nil, timeout: Duration = .seconds(5)
    ) throws(ClientError) -> OrderEntryClient {
        guard !addresses.isEmpty else { throw ClientError.invalidArgument("no exchange address") }
        let attempts = failover?.maximumAttempts ?? addresses.count
        var lastError: ClientError?
        for attempt in 1...max(1, attempts) {
            if let failover { FailoverWait.sleep(failover.backoff(beforeAttempt: attempt)) }
            let index = (attempt - 1) % addresses.count
            do throws(ClientError) {
                let client = OrderEntryClient(connection: try open(addresses[index], options), addresses: addresses, index: index,
                                              options: options, failover: failover)
                switch try client.login(username: username, password: password, session: session, sequence: sequence, timeout: timeout) {
                case .accepted:
                    return client
                case .rejected(let reason, let debug):
                    client.close()
                    throw ClientError.loginRejected(reason, debug: debug)
                }
            } catch {
                lastError = error
                guard mayTryAnother(error), addresses.count > 1 || failover != nil else { throw error }
            }
        }
        throw ClientError.failoverExhausted(attempts: attempts, last: lastError.map { "\($0)" } ?? "none")
    }

    /// Whether an attempt that failed this way may be followed by one to another address (or
    /// the same, later): nothing listening, unreachable, too slow, the connection dropped, the
    /// session not available there (a deposed primary, or one that still holds the session).
    static func mayTryAnother(_ error: ClientError) -> Bool {
        switch error {
        case .connectionRefused, .connectFailed, .timedOut, .closedByPeer, .connectionLost: true
        case .loginRejected(.sessionNotAvailable, _): true
        default: false
        }
    }

    /// The address the connection is to.
    public var currentAddress: ExchangeAddress { addresses[addressIndex] }

    /// After `error` on the logged-in connection: fails over when the client has a policy and
    /// the error is a lost connection, else throws `error`. Tries the next addresses in turn
    /// (round the list) within the policy's attempts; each gets a Login Request for the same
    /// session from `nextSequence`. A Login Accepted at an earlier sequence means that
    /// exchange lacks messages this client received: `sessionDiverged`, nothing resumed.
    func failOver(after error: ClientError) throws(ClientError) {
        guard let policy = failover, let credentials, isLoggedIn, let session else { throw error }
        switch error {
        case .closedByPeer, .connectionLost: break
        default: throw error
        }
        isLoggedIn = false
        connection.close()
        let from = currentAddress
        let expected = nextSequence
        var lastError = error
        for attempt in 1...policy.maximumAttempts {
            FailoverWait.sleep(policy.backoff(beforeAttempt: attempt))
            let index = (addressIndex + attempt) % addresses.count
            do throws(ClientError) {
                connection = try Self.open(addresses[index], options)
                addressIndex = index
                switch try login(username: credentials.username, password: credentials.password, session: session, sequence: expected,
                                 timeout: policy.loginTimeout) {
                case .accepted(let resumed, let offered):
                    guard resumed == session, offered == expected else {
                        close()
                        if resumed != session {
                            throw ClientError.sessionDiverged(address: "\(addresses[index]) (session \(resumed), not \(session))",
                                                              expected: expected, offered: offered)
                        }
                        throw ClientError.sessionDiverged(address: "\(addresses[index])", expected: expected, offered: offered)
                    }
                    let event = FailoverEvent(from: from, to: addresses[index], reason: error, attempts: attempt, resumedAt: offered)
                    failoverCount += 1
                    lastFailover = event
                    onFailover?(event)
                    return
                case .rejected(let reason, let debug):
                    connection.close()
                    throw ClientError.loginRejected(reason, debug: debug)
                }
            } catch {
                lastError = error
                guard Self.mayTryAnother(error) else {
                    close()
                    throw error
                }
                connection.close()
            }
        }
        close()
        throw ClientError.failoverExhausted(attempts: policy.maximumAttempts, last: "\(lastError)")
    }
}
