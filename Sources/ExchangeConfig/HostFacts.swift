#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the machine that validation depends on, passed in so that tests can
/// describe any machine.
public struct HostFacts: Sendable, Hashable {
    /// Online CPUs; valid CPU indices for pinning are `0..<cpuCount`.
    public var cpuCount: Int

    public init(cpuCount: Int) {
        self.cpuCount = cpuCount
    }

    /// This machine, from `sysconf(_SC_NPROCESSORS_ONLN)`.
    public static func current() -> HostFacts {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return HostFacts(cpuCount: max(1, Int(online)))
    }
}
