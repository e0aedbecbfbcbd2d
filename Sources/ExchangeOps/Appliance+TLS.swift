import ExchangeConfig
import ExchangeTLS

// TLS on the client ports (gateway.tls, fix.tls, market_data.snapshot_tls, admin.tls): the
// contexts from the environment's files, the start-up log lines, and the reload a SIGHUP
// handler calls.
extension Appliance {
    /// gateway.tls on: the server context from RTES_TLS_CERT / RTES_TLS_KEY (RTES_CA_CERT:
    /// mutual TLS), built now so that a missing or unusable file stops the start with its
    /// name; off: nil. Logs whether the kernel offers TLS (it is not used either way).
    /// `clientCertificates` false (the admin plane): RTES_CA_CERT is not used, no client
    /// certificate is asked for.
    static func gatewayTLS(_ mode: TLSMode, environment: [String: String], note: (String) -> Void,
                           service: String = "gateway.tls", clientCertificates: Bool = true) throws -> TLSContextSource? {
        guard mode == .on else { return nil }
        do {
            var settings = try TLSServerSettings.fromEnvironment(environment, service: "\(service) is on")
            if !clientCertificates { settings.clientCAFile = nil }
            let source = try TLSContextSource(settings: settings)
            let label = switch service {
            case "gateway.tls": "gateway"
            case "fix.tls": "FIX"
            case "market_data.snapshot_tls": "snapshot"
            default: "admin"
            }
            note("\(label) TLS: \(TLSContext.libraryVersion), TLS 1.2 and 1.3 only, certificate \(settings.certificateFile), "
                + (settings.clientCAFile.map { "mutual TLS: client certificates from the CA in \($0), CN = username" } ?? "no client certificates"))
            note(KernelTLS.logLine())
            return source
        } catch {
            throw ApplianceError("\(service) is on but TLS cannot start: \(error.description)")
        }
    }

    /// Reads the TLS files again (SIGHUP): new connections use the new context, open ones
    /// keep theirs. Every port's context is reloaded (one context shared by several ports is
    /// reloaded once). Returns what happened, for the log; a failure keeps the old context.
    public func reloadTLS() -> String {
        var seen: [ObjectIdentifier] = []
        var lines: [String] = []
        for (ports, source) in [("gateway", gatewayTLS), ("FIX", fixTLS), ("snapshot", snapshotTLS), ("admin", adminTLS)] {
            guard let source, !seen.contains(ObjectIdentifier(source)) else { continue }
            seen.append(ObjectIdentifier(source))
            do {
                try source.reload()
                lines.append("TLS reload: new \(ports) connections use \(source.settings.certificateFile) as read now (reload \(source.reloadCount))")
            } catch {
                lines.append("TLS reload failed, the previous certificate stays in use: \(error.description)")
            }
        }
        if lines.isEmpty { return "TLS reload: gateway.tls, fix.tls, market_data.snapshot_tls and admin.tls are off, nothing to reload" }
        return lines.joined(separator: "; ")
    }
}
