import Glibc

/// An IPv4 or IPv6 address and port, as `connect` takes it.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    let length: socklen_t

    var family: Int32 { Int32(storage.ss_family) }

    /// Every address `host` resolves to for TCP (numeric addresses resolve to themselves).
    public static func resolve(host: String, port: Int) throws(ClientError) -> [SocketAddress] {
        guard (0...65_535).contains(port) else { throw ClientError.invalidArgument("port \(port) is not in 0...65535") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ClientError.unresolvableHost(host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                var storage = sockaddr_storage()
                let length = min(Int(current.pointee.ai_addrlen), MemoryLayout<sockaddr_storage>.size)
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length)) }
                addresses.append(SocketAddress(storage: storage, length: socklen_t(length)))
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ClientError.unresolvableHost(host, reason: "no TCP address") }
        return addresses
    }

    /// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
    public var isLoopback: Bool {
        withUnsafeBytes(of: storage) { raw -> Bool in
            switch family {
            case AF_INET:
                let address = raw.load(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \sockaddr_in.sin_addr)!, as: in_addr.self)
                return UInt32(bigEndian: address.s_addr) >> 24 == 127
            case AF_INET6:
                let offset = MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!
                let bytes = (0..<16).map { raw[offset + $0] }
                let loopback6 = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
                let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
                return loopback6 || mapped
            default:
                return false
            }
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    /// The numeric address, e.g. `127.0.0.1` or `::1`.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = withSockaddr { pointer, length in
            getnameinfo(pointer, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
        }
        guard status == 0 else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
