import ExchangeConfig
import ExchangeTLS

// TLS on the order-entry port (gateway.tls): the context from the environment's files, the
// start-up log lines, and the reload a SIGHUP handler calls.
extension Appliance {
    /// gateway.tls on: the server context from RTES_TLS_CERT / RTES_TLS_KEY (RTES_CA_CERT:
    /// mutual TLS), built now so that a missing or unusable file stops the start with its
    /// name; off: nil. Logs whether the kernel offers TLS (it is not used either way).
    static func gatewayTLS(_ mode: TLSMode, environment: [String: String], note: (String) -> Void,
                           service: String = "gateway.tls") throws -> TLSContextSource? {
        guard mode == .on else { return nil }
        do {
            let settings = try TLSServerSettings.fromEnvironment(environment, service: "\(service) is on")
            let source = try TLSContextSource(settings: settings)
            note("\(service == "gateway.tls" ? "gateway" : "FIX") TLS: \(TLSContext.libraryVersion), TLS 1.2 and 1.3 only, certificate \(settings.certificateFile), "
                + (settings.clientCAFile.map { "mutual TLS: client certificates from the CA in \($0), CN = username" } ?? "no client certificates"))
            note(KernelTLS.logLine())
            return source
        } catch {
            throw ApplianceError("\(service) is on but TLS cannot start: \(error.description)")
        }
    }

    /// Reads the TLS files again (SIGHUP): new connections use the new context, open ones
    /// keep theirs. Returns what happened, for the log; a failure keeps the old context.
    public func reloadTLS() -> String {
        if gatewayTLS == nil, let source = fixTLS {
            do {
                try source.reload()
                return "TLS reload: new FIX connections use \(source.settings.certificateFile) as read now (reload \(source.reloadCount))"
            } catch {
                return "TLS reload failed, the previous certificate stays in use: \(error.description)"
            }
        }
        guard let source = gatewayTLS else { return "TLS reload: gateway.tls and fix.tls are off, nothing to reload" }
        do {
            try source.reload()
            return "TLS reload: new gateway connections use \(source.settings.certificateFile) as read now (reload \(source.reloadCount))"
        } catch {
            return "TLS reload failed, the previous certificate stays in use: \(error.description)"
        }
    }
}
