import ExchangeRuntime

/// The authenticator's counter block, `auth`, registered by the authenticator agent (its only
/// writer). Logins a service rejected because the ring to the authenticator was full are
/// counted by that service (`gateway.logins_rejected_busy`, the snapshot service's rejects).
public enum AuthCounters {
    /// Login Requests taken from the services' rings.
    public static let requests = CounterCell(0)
    public static let accepted = CounterCell(1)
    /// Unknown username or wrong password (a full check was made).
    public static let notAuthorized = CounterCell(2)
    /// Refused unchecked: inside a backoff.
    public static let throttled = CounterCell(3)
    /// Refused unchecked: locked out.
    public static let lockedOut = CounterCell(4)
    /// Accounts or addresses that became locked out.
    public static let lockouts = CounterCell(5)
    /// scrypt computations made (each wrong guess costs one; a cached reconnect none).
    public static let verifications = CounterCell(6)
    /// Logins accepted from the cache of verified credentials.
    public static let cacheHits = CounterCell(7)
    /// Answers held back until a backoff ends (gauge).
    public static let delayedAnswers = CounterCell(8)
    /// Source addresses with failures remembered (gauge).
    public static let trackedAddresses = CounterCell(9)
    /// Addresses forgotten to make room for new ones.
    public static let addressEvictions = CounterCell(10)
    /// The longest single check, in nanoseconds (gauge).
    public static let worstCheckNanoseconds = CounterCell(11)
    /// Answers dropped because both the service's answer ring and the held list were full
    /// (the service's login timeout then closes the connection).
    public static let answersDropped = CounterCell(12)
    /// Reject notices taken from the services (each a rejected order message, for the debug log).
    public static let rejectNotices = CounterCell(13)
    /// Reject notices the services dropped because the ring to the authenticator was full
    /// (the rejects themselves were answered; only their debug line is summed up).
    public static let rejectNoticesDropped = CounterCell(14)

    public static let block = CounterBlockDescriptor(name: "auth", counters: [
        .init("requests", .counter, requests, help: "Login Requests taken by the authenticator."),
        .init("accepted", .counter, accepted, help: "Logins accepted."),
        .init("not_authorized", .counter, notAuthorized, help: "Logins refused: unknown username or wrong password."),
        .init("throttled", .counter, throttled, help: "Logins refused unchecked during a backoff."),
        .init("locked_out", .counter, lockedOut, help: "Logins refused unchecked during a lockout."),
        .init("lockouts", .counter, lockouts, help: "Accounts or source addresses locked out."),
        .init("verifications", .counter, verifications, help: "scrypt checks made."),
        .init("cache_hits", .counter, cacheHits, help: "Logins accepted from the cache of verified credentials."),
        .init("delayed_answers", .gauge, delayedAnswers, help: "Answers held until a backoff ends."),
        .init("tracked_addresses", .gauge, trackedAddresses, help: "Source addresses with failed logins remembered."),
        .init("address_evictions", .counter, addressEvictions, help: "Remembered addresses dropped to make room."),
        .init("worst_check_ns", .gauge, worstCheckNanoseconds, help: "Longest single password check, nanoseconds."),
        .init("answers_dropped", .counter, answersDropped, help: "Answers dropped: the answer ring and the held list were full."),
        .init("reject_notices", .counter, rejectNotices, help: "Rejected order messages told to the authenticator for the debug log."),
        .init("reject_notices_dropped", .counter, rejectNoticesDropped, help: "Reject notices dropped: their ring was full."),
    ], cellCount: 16)
}
