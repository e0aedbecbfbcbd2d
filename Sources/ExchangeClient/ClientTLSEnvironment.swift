import ExchangeTLS
import Glibc

/// The TLS context a client tool (rtes-client, rtes-loadgen) uses with `--tls`, from the
/// environment: `RTES_CA_CERT` the CA that issued the exchange's certificate (unset: the
/// system's trust store), and for mutual TLS `RTES_TLS_CLIENT_CERT` and `RTES_TLS_CLIENT_KEY`,
/// in which `%u` stands for the username (so that many accounts, each with its own
/// certificate, can share one setting: `certs/client-%u.pem`).
public enum ClientTLSEnvironment {
    public static func context(forUser username: String, environment: [String: String]) throws(ClientError) -> TLSContext {
        var settings = TLSClientSettings.fromEnvironment(environment)
        settings.certificateFile = settings.certificateFile.map { expand($0, username) }
        settings.keyFile = settings.keyFile.map { expand($0, username) }
        do {
            return try settings.makeContext()
        } catch {
            throw ClientError.tls(error.description)
        }
    }

    /// The same, from this process's environment.
    public static func context(forUser username: String) throws(ClientError) -> TLSContext {
        var environment: [String: String] = [:]
        for name in [TLSServerSettings.caVariable, TLSClientSettings.certificateVariable, TLSClientSettings.keyVariable] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return try context(forUser: username, environment: environment)
    }

    static func expand(_ path: String, _ username: String) -> String {
        path.split(separator: "%u", omittingEmptySubsequences: false).joined(separator: username)
    }
}
