import Glibc

/// systemd's service notification protocol (sd_notify(3)) without libsystemd: each state
/// (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`) is one datagram to the AF_UNIX socket
/// systemd names in `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Outside
/// systemd (`NOTIFY_SOCKET` unset) there is no notifier and nothing is sent.
public struct ServiceNotifier: Sendable {
    /// The socket's address as systemd gave it.
    public let socketPath: String

    public init?(socketPath: String) {
        // sun_path holds 108 bytes; an abstract name starts with a NUL instead of '@'.
        guard !socketPath.isEmpty, socketPath.utf8.count < 108, socketPath.hasPrefix("/") || socketPath.hasPrefix("@") else { return nil }
        self.socketPath = socketPath
    }

    /// The notifier systemd asked for, or nil when `NOTIFY_SOCKET` is unset or unusable.
    public static func fromEnvironment(_ environment: [String: String]) -> ServiceNotifier? {
        environment["NOTIFY_SOCKET"].flatMap(ServiceNotifier.init(socketPath:))
    }

    /// How often systemd wants `WATCHDOG=1` at the latest (`WATCHDOG_USEC`, for this process
    /// when `WATCHDOG_PID` names one), in seconds; nil when the unit has no watchdog.
    public static func watchdogSeconds(_ environment: [String: String], pid: Int32 = getpid()) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return Double(usec) / 1e6
    }

    /// Sends one notification (newline-separated assignments); false when the datagram did
    /// not go out (systemd gone): notifications are advisory and never stop the exchange.
    @discardableResult
    public func send(_ state: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        // A path name ends with its NUL; an abstract name is exactly its bytes.
        let length = MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1)
        var message = state
        let sent = message.withUTF8 { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text.baseAddress, text.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        return sent == state.utf8.count
    }
}
