import CTLSShim

/// Why a TLS session or context failed, in words a person can act on. Built from OpenSSL's
/// reason and the certificate verification result at the moment of failure; it never holds
/// key material or plaintext.
public struct TLSFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The peer offered only protocol versions older than TLS 1.2.
        case protocolVersionTooOld
        case certificateExpired
        case certificateNotYetValid
        /// The certificate was issued by a CA this side does not trust.
        case unknownCA
        /// The certificate is unusable for another reason (signature, purpose).
        case badCertificate
        /// A client certificate was required and none came.
        case noCertificate
        /// The bytes were not TLS (plain SoupBinTCP, HTTP, garbage).
        case notTLS
        /// The server's certificate does not name the host the client connected to.
        case hostnameMismatch
        /// A certificate, key or CA file could not be read or used.
        case configuration
        case other
    }

    public let kind: Kind
    /// OpenSSL's own words (ERR_error_string_n, plus the verification result when there is one).
    public let detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    init(code: Int32, detail: String) {
        self.init(kind: Self.kind(code), detail: detail)
    }

    static func kind(_ code: Int32) -> Kind {
        switch code {
        case Int32(RTES_TLS_FAILURE_PROTOCOL_VERSION): .protocolVersionTooOld
        case Int32(RTES_TLS_FAILURE_CERTIFICATE_EXPIRED): .certificateExpired
        case Int32(RTES_TLS_FAILURE_CERTIFICATE_NOT_YET_VALID): .certificateNotYetValid
        case Int32(RTES_TLS_FAILURE_UNKNOWN_CA): .unknownCA
        case Int32(RTES_TLS_FAILURE_BAD_CERTIFICATE): .badCertificate
        case Int32(RTES_TLS_FAILURE_NO_CERTIFICATE): .noCertificate
        case Int32(RTES_TLS_FAILURE_NOT_TLS): .notTLS
        case Int32(RTES_TLS_FAILURE_HOSTNAME_MISMATCH): .hostnameMismatch
        case Int32(RTES_TLS_FAILURE_CONFIGURATION): .configuration
        default: .other
        }
    }

    /// A short phrase for the kind: what a disconnect reason or a client error leads with.
    public var reason: String {
        switch kind {
        case .protocolVersionTooOld: "protocol version too old (TLS 1.2 or 1.3 required)"
        case .certificateExpired: "certificate expired"
        case .certificateNotYetValid: "certificate not yet valid"
        case .unknownCA: "certificate from an unknown CA"
        case .badCertificate: "bad certificate"
        case .noCertificate: "no client certificate (mutual TLS required)"
        case .notTLS: "not a TLS handshake"
        case .hostnameMismatch: "certificate does not name the host"
        case .configuration: "TLS configuration"
        case .other: "TLS error"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason): \(detail)" }
}
