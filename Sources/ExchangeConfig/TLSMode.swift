/// Whether a TCP service speaks TLS (`gateway.tls`). On, the certificate and key come from
/// the environment (`RTES_TLS_CERT`, `RTES_TLS_KEY`; `RTES_CA_CERT` adds mutual TLS), never
/// from the configuration file: start-up fails with a clear error when they are unset.
public enum TLSMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case off
    case on

    public var description: String { rawValue }
}
