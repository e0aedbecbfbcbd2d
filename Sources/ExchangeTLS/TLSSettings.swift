/// Where a TLS server's certificate, key and (for mutual TLS) client CA come from: the
/// environment only — `RTES_TLS_CERT`, `RTES_TLS_KEY`, `RTES_CA_CERT` — each naming a PEM
/// file. The key's contents are never read into a message or a log; only paths are named.
public struct TLSServerSettings: Equatable, Sendable {
    public var certificateFile: String
    public var keyFile: String
    /// Set: clients must present a certificate issued by this CA (mutual TLS).
    public var clientCAFile: String?

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }

    public static let certificateVariable = "RTES_TLS_CERT"
    public static let keyVariable = "RTES_TLS_KEY"
    public static let caVariable = "RTES_CA_CERT"

    /// The settings the environment names, for a service whose configuration turned TLS on
    /// (`service` names it in the error, e.g. "gateway.tls is on").
    public static func fromEnvironment(_ environment: [String: String], service: String) throws(TLSFailure) -> TLSServerSettings {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        guard let certificate = value(certificateVariable) else {
            throw TLSFailure(kind: .configuration, detail: "\(service) but \(certificateVariable) is not set (the server certificate's PEM file)")
        }
        guard let key = value(keyVariable) else {
            throw TLSFailure(kind: .configuration, detail: "\(service) but \(keyVariable) is not set (the server private key's PEM file)")
        }
        return TLSServerSettings(certificateFile: certificate, keyFile: key, clientCAFile: value(caVariable))
    }

    /// Builds a server context from the files (read now, so a reload sees new files).
    public func makeContext() throws(TLSFailure) -> TLSContext {
        try TLSContext.server(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile)
    }
}

/// What a TLS client needs: the CA that issued the server's certificate (`RTES_CA_CERT`;
/// unset: the system's trust store) and, for mutual TLS, its own certificate and key
/// (`RTES_TLS_CLIENT_CERT`, `RTES_TLS_CLIENT_KEY`).
public struct TLSClientSettings: Equatable, Sendable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    public static let certificateVariable = "RTES_TLS_CLIENT_CERT"
    public static let keyVariable = "RTES_TLS_CLIENT_KEY"

    public static func fromEnvironment(_ environment: [String: String]) -> TLSClientSettings {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        return TLSClientSettings(
            caFile: value(TLSServerSettings.caVariable), certificateFile: value(certificateVariable), keyFile: value(keyVariable)
        )
    }

    public func makeContext(versions: TLSVersions = .modern) throws(TLSFailure) -> TLSContext {
        try TLSContext.client(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile, versions: versions)
    }
}
