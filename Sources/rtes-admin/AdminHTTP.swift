import Foundation
import Glibc

/// Where the admin plane is: `http://HOST[:PORT]` (plain HTTP; the default port 8080).
struct AdminURL: Equatable {
    var host: String
    var port: Int

    /// Nil with the reason when `text` is not such a URL.
    static func parse(_ text: String) -> Result<AdminURL, AdminFailure> {
        if text.lowercased().hasPrefix("https://") {
            return .failure(.usage("--url \(text): rtes-admin speaks plain HTTP only; with admin.tls on, use curl --cacert "
                                   + "(docs/OPERATIONS.md shows the requests)"))
        }
        guard text.lowercased().hasPrefix("http://") else { return .failure(.usage("--url \(text): expected http://HOST[:PORT]")) }
        var rest = Substring(text.dropFirst("http://".count))
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else { return .failure(.usage("--url \(text): give the admin plane's root, http://HOST[:PORT]")) }
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 8080
        if rest.hasPrefix("[") {
            // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return .failure(.usage("--url \(text): unclosed [")) }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65_535).contains(p) else { return .failure(.usage("--url \(text): bad port")) }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(p) else {
                return .failure(.usage("--url \(text): bad port"))
            }
            port = p
        }
        guard !host.isEmpty else { return .failure(.usage("--url \(text): no host")) }
        return .success(AdminURL(host: host, port: port))
    }
}

/// Why a request did not get an answer of 2xx — each with a message for the operator.
enum AdminFailure: Error, Equatable, CustomStringConvertible {
    /// The command line is not usable.
    case usage(String)
    /// No answer: the address does not resolve, the connection was refused or timed out.
    case unreachable(String)
    /// An answer that is not HTTP, or cut short.
    case badAnswer(String)
    /// The admin plane refused: its status and its reason.
    case refused(status: Int, reason: String)

    var description: String {
        switch self {
        case .usage(let m): m
        case .unreachable(let m): m
        case .badAnswer(let m): m
        case .refused(let status, let reason): "refused: HTTP \(status) \(Self.statusText(status)): \(reason)"
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .unreachable, .badAnswer: 2
        case .refused: 1
        }
    }

    static func statusText(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 429: "Too Many Requests"
        case 503: "Service Unavailable"
        default: ""
        }
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`), read until the server
/// closes it or `timeout` passes.
enum AdminHTTP {
    /// `value` percent-encoded for a query (everything but RFC 3986's unreserved characters).
    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// POSTs `target` with HTTP Basic credentials; the status and body.
    static func post(_ url: AdminURL, _ target: String, user: String, password: String, timeout: Double)
        -> Result<(status: Int, body: String), AdminFailure> {
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        let hostHeader = url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)"
        let request = "POST \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nAuthorization: Basic \(credentials)\r\n"
            + "User-Agent: rtes-admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let deadline = Date().addingTimeInterval(timeout)
        let fd: Int32
        switch connect(url, deadline: deadline) {
        case .success(let d): fd = d
        case .failure(let f): return .failure(f)
        }
        defer { close(fd) }
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, for: Int16(POLLOUT), deadline: deadline) else {
                    return .failure(.unreachable("\(url.host):\(url.port): timed out sending the request"))
                }
                continue
            }
            guard n > 0 else { return .failure(.unreachable("\(url.host):\(url.port): the connection failed while sending: \(errorText(errno))")) }
            sent += n
        }
        bytes.removeAll()
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, for: Int16(POLLIN), deadline: deadline) else {
                    return .failure(.unreachable("\(url.host):\(url.port): no whole answer within \(timeout) s"))
                }
                continue
            }
            if n < 0 {
                // A reset after the answer is the server closing a refused request: use what came.
                if errno == ECONNRESET && !bytes.isEmpty { break }
                return .failure(.unreachable("\(url.host):\(url.port): the connection failed while reading: \(errorText(errno))"))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= 1 << 20 else { return .failure(.badAnswer("the answer is larger than 1 MiB: not the admin plane?")) }
        }
        return parse(bytes, from: url)
    }

    static func parse(_ bytes: [UInt8], from url: AdminURL) -> Result<(status: Int, body: String), AdminFailure> {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("HTTP/1."), let status = Int(text.dropFirst(9).prefix(3)) else {
            return .failure(.badAnswer("\(url.host):\(url.port) did not answer HTTP (is it the admin plane, exchange.metrics_port?)"))
        }
        guard let split = text.range(of: "\r\n\r\n") else { return .failure(.badAnswer("the answer ended inside its head")) }
        return .success((status, String(text[split.upperBound...])))
    }

    private static func connect(_ url: AdminURL, deadline: Date) -> Result<Int32, AdminFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(.unreachable("cannot resolve \(url.host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(first) }
        var last = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                            info.pointee.ai_protocol)
            guard fd >= 0 else { last = errorText(errno); continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return .success(fd) }
            if errno == EINPROGRESS {
                if wait(fd, for: Int16(POLLOUT), deadline: deadline) {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error == 0 { return .success(fd) }
                    last = errorText(error)
                } else {
                    last = "timed out"
                }
            } else {
                last = errorText(errno)
            }
            close(fd)
        }
        return .failure(.unreachable("cannot connect to the admin plane at \(url.host):\(url.port): \(last) "
                                     + "(is the exchange running, and is --url its exchange.metrics_port?)"))
    }

    /// Waits until `fd` is ready for `events` or the deadline passes (false).
    private static func wait(_ fd: Int32, for events: Int16, deadline: Date) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The `"error"` string of the admin plane's JSON refusal, or the body as it is.
    static func errorMessage(_ body: String) -> String {
        guard let key = body.range(of: #""error":""#) else {
            let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? "(no reason given)" : String(trimmed.prefix(500))
        }
        var out = ""
        var escaped = false
        for c in body[key.upperBound...] {
            if escaped {
                out.append(c == "n" ? "\n" : c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                break
            } else {
                out.append(c)
            }
        }
        return out
    }
}
