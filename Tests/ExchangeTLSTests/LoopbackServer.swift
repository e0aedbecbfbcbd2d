import ExchangeTLS
import Foundation
import Glibc

/// One TCP listener on 127.0.0.1 (an ephemeral port) and a loop that serves one connection
/// through a TLSChannel: handshake, read a line, answer "PONG <CN>\n", close_notify, close.
/// Every wait is a poll with a bound; the listener and the connection are closed on return.
final class LoopbackServer {
    let listener: Int32
    let port: Int

    enum Outcome: Equatable {
        /// The line the client sent, the version, and the client certificate's CN.
        case served(line: String, version: String, commonName: String?)
        case failed(TLSFailure)
        case peerClosedDuringHandshake
        case timedOut(String)
    }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            let error = errno
            close(fd)
            throw POSIXError(.init(rawValue: error)!)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(listener) }

    /// Accepts one connection and serves it on `context`, for at most `seconds`.
    func serveOne(context: TLSContext, seconds: Double = 30) -> Outcome {
        let deadline = Date().addingTimeInterval(seconds)
        guard wait(listener, until: deadline) else { return .timedOut("no connection came") }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return .timedOut("accept failed: errno \(errno)") }
        defer { close(fd) }
        guard let channel = TLSChannel(context: context) else { return .timedOut("no memory for a channel") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 64)
        defer { buffer.deallocate() }

        func flush() {
            while channel.pendingCiphertext > 0 {
                let n = channel.takeCiphertext(into: buffer)
                var offset = 0
                while offset < n {
                    let sent = send(fd, buffer.baseAddress! + offset, n - offset, Int32(MSG_NOSIGNAL))
                    if sent <= 0 { return }
                    offset += sent
                }
            }
        }
        /// Receives what the socket has into the channel; false at end of stream.
        func receive() -> Bool {
            guard wait(fd, until: deadline) else { return true }
            let n = recv(fd, buffer.baseAddress!, buffer.count, 0)
            guard n > 0 else { return false }
            var offset = 0
            while offset < n {
                let taken = channel.receiveCiphertext(UnsafeRawBufferPointer(rebasing: buffer[offset..<n]))
                if taken == 0 { break }
                offset += taken
            }
            return true
        }

        while !channel.isHandshakeComplete {
            let progress = channel.advanceHandshake()
            flush()
            if progress == .failed { return .failed(channel.failure!) }
            if progress == .complete { break }
            if Date() > deadline { return .timedOut("the handshake did not complete") }
            if !receive() { return channel.failure.map { .failed($0) } ?? .peerClosedDuringHandshake }
        }
        var line: [UInt8] = []
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { plain.deallocate() }
        while !line.contains(UInt8(ascii: "\n")) {
            switch channel.readPlaintext(into: plain) {
            case .bytes(let n): line += plain[0..<n]
            case .needsInput, .needsOutputRoom:
                flush()
                if Date() > deadline { return .timedOut("no line came") }
                if !receive() { return .timedOut("the client closed before sending a line") }
            case .closed: return .timedOut("close_notify before a line")
            case .failed:
                flush()
                return .failed(channel.failure!)
            }
        }
        let commonName = channel.peerCommonName
        let answer = Array("PONG \(commonName ?? "-")\n".utf8)
        _ = answer.withUnsafeBytes { channel.writePlaintext($0) }
        _ = channel.close()
        flush()
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .newlines)
        return .served(line: text, version: channel.protocolVersion ?? "?", commonName: commonName)
    }

    private func wait(_ fd: Int32, until deadline: Date) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(0, Int32(deadline.timeIntervalSinceNow * 1000))
        return poll(&entry, 1, milliseconds) > 0
    }
}
