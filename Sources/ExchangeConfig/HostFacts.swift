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
    /// The IPv4 addresses of the host's interfaces, which a listener or the multicast
    /// interface may name (besides 0.0.0.0 and 127.0.0.0/8); nil when unknown, and then
    /// addresses are not checked.
    public var localAddresses: Set<IPv4Address>?

    public init(cpuCount: Int, localAddresses: Set<IPv4Address>? = nil) {
        self.cpuCount = cpuCount
        self.localAddresses = localAddresses
    }

    /// This machine, from `sysconf(_SC_NPROCESSORS_ONLN)` and `getifaddrs`.
    public static func current() -> HostFacts {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return HostFacts(cpuCount: max(1, Int(online)), localAddresses: interfaceAddresses())
    }

    /// Every IPv4 address an interface of this host holds (up or not), or nil when
    /// `getifaddrs` fails.
    public static func interfaceAddresses() -> Set<IPv4Address>? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var addresses = Set<IPv4Address>()
        var entry = list
        while let current = entry {
            if let socketAddress = current.pointee.ifa_addr, socketAddress.pointee.sa_family == sa_family_t(AF_INET) {
                let inet = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in.self)
                addresses.insert(IPv4Address(rawValue: UInt32(bigEndian: inet.sin_addr.s_addr)))
            }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    /// Whether a socket may be bound to `address` here: 0.0.0.0 (every interface), a loopback
    /// address (127.0.0.0/8), or an address of one of the interfaces (always, when unknown).
    public func canBind(_ address: IPv4Address) -> Bool {
        guard address.rawValue != 0, address.rawValue >> 24 != 127, let localAddresses else { return true }
        return localAddresses.contains(address)
    }
}
