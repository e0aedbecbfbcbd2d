import CTLSShim
import Glibc

/// Which end of the handshake a context and its channels play.
public enum TLSRole: Sendable {
    case server
    case client
}

/// Protocol versions a client context offers. Servers always accept exactly TLS 1.2 and 1.3;
/// the older ones exist so tests can prove the server refuses them.
public enum TLSVersions: Sendable {
    /// TLS 1.2 and 1.3 (the only choice outside tests).
    case modern
    case only12
    case only13
    /// TLS 1.1 only, at OpenSSL security level 0: a test client that must be refused.
    case only11
}

/// An OpenSSL SSL_CTX: certificate, key, trust and protocol settings shared by every channel
/// made from it. Immutable once built; OpenSSL allows SSL_new on one SSL_CTX from several
/// threads, so a context may be shared. A reload builds a new context (TLSContextSource);
/// channels made from the old one keep it alive until they end.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let role: TLSRole
    /// True when the server requires and verifies client certificates (mutual TLS).
    public let requiresClientCertificate: Bool

    private init(pointer: OpaquePointer, role: TLSRole, requiresClientCertificate: Bool) {
        self.pointer = pointer
        self.role = role
        self.requiresClientCertificate = requiresClientCertificate
    }

    deinit { rtes_tls_context_free(pointer) }

    /// A server context from PEM files: the certificate chain, its private key and, for
    /// mutual TLS, the CA whose certificates clients must present.
    public static func server(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(TLSFailure) -> TLSContext {
        try requireReadable(certificateFile, what: "certificate")
        try requireReadable(keyFile, what: "private key")
        if let clientCAFile { try requireReadable(clientCAFile, what: "CA certificate") }
        var error = rtes_tls_context_error()
        let made: OpaquePointer? = certificateFile.withCString { certificate in
            keyFile.withCString { key in
                withOptionalCString(clientCAFile) { ca in rtes_tls_server_context_new(certificate, key, ca, &error) }
            }
        }
        guard let made else { throw failure(from: &error) }
        return TLSContext(pointer: made, role: .server, requiresClientCertificate: clientCAFile != nil)
    }

    /// A client context: trusts `caFile` (nil: the system's trust store), presents
    /// `certificateFile`/`keyFile` when both are given (mutual TLS).
    public static func client(
        caFile: String?, certificateFile: String? = nil, keyFile: String? = nil, versions: TLSVersions = .modern
    ) throws(TLSFailure) -> TLSContext {
        if let caFile { try requireReadable(caFile, what: "CA certificate") }
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw TLSFailure(kind: .configuration, detail: "a client certificate needs its private key, and a key its certificate")
        }
        if let certificateFile { try requireReadable(certificateFile, what: "certificate") }
        if let keyFile { try requireReadable(keyFile, what: "private key") }
        let (minimum, maximum): (Int32, Int32) = switch versions {
        case .modern: (0, 0)
        case .only12: (12, 12)
        case .only13: (13, 13)
        case .only11: (11, 11)
        }
        var error = rtes_tls_context_error()
        let made: OpaquePointer? = withOptionalCString(caFile) { ca in
            withOptionalCString(certificateFile) { certificate in
                withOptionalCString(keyFile) { key in
                    rtes_tls_client_context_new(ca, certificate, key, minimum, maximum, &error)
                }
            }
        }
        guard let made else { throw failure(from: &error) }
        return TLSContext(pointer: made, role: .client, requiresClientCertificate: false)
    }

    /// OpenSSL's version text, for the start-up log.
    public static var libraryVersion: String { String(cString: rtes_tls_library_version()) }

    private static func requireReadable(_ path: String, what: String) throws(TLSFailure) {
        if access(path, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TLSFailure(kind: .configuration, detail: "cannot read the \(what) file \(path): \(reason)")
        }
    }

    private static func failure(from error: inout rtes_tls_context_error) -> TLSFailure {
        let text = withUnsafeBytes(of: &error.text) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return TLSFailure(code: error.kind, detail: text)
    }
}

func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
