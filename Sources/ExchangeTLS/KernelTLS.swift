import CTLSShim

/// Kernel TLS (the "tls" TCP upper-layer protocol), probed once at start so the log can say
/// whether it exists. RTES encrypts in user space with OpenSSL either way: no kTLS path is
/// built, because no development machine has one to test it on.
public enum KernelTLS {
    public enum Availability: Equatable, Sendable {
        case available
        case absent
        case probeFailed(errno: Int32)
    }

    public static func probe() -> Availability {
        let result = rtes_tls_probe_kernel_tls()
        if result == 1 { return .available }
        if result == 0 { return .absent }
        return .probeFailed(errno: -result)
    }

    /// One line for the start-up log.
    public static func logLine() -> String {
        switch probe() {
        case .available: "kernel TLS (TCP_ULP tls) is available but unused: TLS runs in OpenSSL through memory BIOs"
        case .absent: "kernel TLS (TCP_ULP tls) is absent: TLS runs in OpenSSL through memory BIOs"
        case .probeFailed(let errno): "kernel TLS probe failed (errno \(errno)): TLS runs in OpenSSL through memory BIOs"
        }
    }
}
