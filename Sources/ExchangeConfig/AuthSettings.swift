/// The `auth` section: how logins to every TCP service (order entry, snapshots) are checked
/// and throttled. The accounts themselves come from the API keys file (`RTES_API_KEYS_FILE`).
public struct AuthSettings: Sendable, Equatable {
    /// `allow_unhashed_accounts`: read plain-text `password` entries of the API keys file (each
    /// with a warning). Only the development profile sets it; elsewhere every entry must be
    /// a scrypt `secret` and a plain one stops the start, naming `rtes-keys hash`.
    public var allowUnhashedAccounts = false
    /// `max_failed_logins`: failed logins in a row, of one account or from one source
    /// address, after which it is locked out for `lockout_ms`.
    public var maxFailedLogins = 10
    /// `backoff_ms`: after a failed login, that account's and that address's next attempts
    /// are answered no sooner than this (doubling with each failure in a row, up to
    /// `max_backoff_ms`); attempts inside the window are rejected without a check.
    public var backoffMilliseconds = 200
    /// `max_backoff_ms`: the longest backoff.
    public var maxBackoffMilliseconds = 5_000
    /// `lockout_ms`: how long a lockout lasts; failures older than this are forgotten.
    public var lockoutMilliseconds = 300_000
    /// `tracked_addresses`: source addresses whose failures are remembered at once; the one
    /// whose last failure is oldest makes room for a new one (memory stays bounded).
    public var trackedAddresses = 4_096
    /// `max_pending_logins`: logins of one service waiting for the authenticator; more are
    /// rejected at once (Login Rejected `A`, counted) — never waited for.
    public var maxPendingLogins = 1_024

    /// The documented defaults.
    public init() {}
}
