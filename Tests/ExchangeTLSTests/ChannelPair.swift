import ExchangeTLS

/// A client channel and a server channel wired to each other in memory: `pump` moves
/// ciphertext both ways and advances both handshakes until neither can make progress.
final class ChannelPair {
    let client: TLSChannel
    let server: TLSChannel
    let scratch: UnsafeMutableRawBufferPointer

    init(client clientContext: TLSContext, server serverContext: TLSContext, expectedHost: String? = "127.0.0.1") {
        client = TLSChannel(context: clientContext, expectedHost: expectedHost)!
        server = TLSChannel(context: serverContext)!
        scratch = .allocate(byteCount: 64 * 1024, alignment: 64)
    }

    deinit { scratch.deallocate() }

    /// Moves every pending ciphertext byte from one side to the other; true if any moved.
    @discardableResult
    func move() -> Bool {
        let toServer = transfer(from: client, to: server)
        let toClient = transfer(from: server, to: client)
        return toServer || toClient
    }

    private func transfer(from source: borrowing TLSChannel, to sink: borrowing TLSChannel) -> Bool {
        var moved = false
        while source.pendingCiphertext > 0 {
            let n = source.takeCiphertext(into: scratch)
            var offset = 0
            while offset < n {
                let taken = sink.receiveCiphertext(UnsafeRawBufferPointer(rebasing: scratch[offset..<n]))
                precondition(taken > 0, "the inbound buffer is full")
                offset += taken
            }
            moved = moved || n > 0
        }
        return moved
    }

    /// Drives both handshakes until both are complete or one fails. Returns the two outcomes.
    func handshake() -> (client: TLSChannel.Progress, server: TLSChannel.Progress) {
        var clientProgress = TLSChannel.Progress.needsInput
        var serverProgress = TLSChannel.Progress.needsInput
        for _ in 0..<50 {
            if clientProgress != .complete && clientProgress != .failed { clientProgress = client.advanceHandshake() }
            if serverProgress != .complete && serverProgress != .failed { serverProgress = server.advanceHandshake() }
            let moved = move()
            if (clientProgress == .complete || clientProgress == .failed) && (serverProgress == .complete || serverProgress == .failed) {
                // A TLS 1.3 server verifies the client's certificate after the client has
                // finished: let the client read what the server said.
                if moved, clientProgress == .complete { _ = readAll(client) }
                break
            }
            if !moved && clientProgress == .needsInput && serverProgress == .needsInput { break }
        }
        return (clientProgress, serverProgress)
    }

    /// Reads whatever plaintext the channel has; returns it and the last transfer's result.
    func readAll(_ channel: borrowing TLSChannel) -> (bytes: [UInt8], last: TLSChannel.Transfer) {
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let result = channel.readPlaintext(into: buffer)
            guard case .bytes(let n) = result else { return (bytes, result) }
            bytes += buffer[0..<n]
        }
    }

    /// What a side negotiated or why it failed, as a value (#expect takes values).
    struct View {
        var protocolVersion: String?
        var peerCommonName: String?
        var cipherSuite: String
        var failure: TLSFailure?
    }

    static func view(_ channel: borrowing TLSChannel) -> View {
        View(protocolVersion: channel.protocolVersion, peerCommonName: channel.peerCommonName,
             cipherSuite: channel.cipherSuite, failure: channel.failure)
    }

    var clientView: View { Self.view(client) }
    var serverView: View { Self.view(server) }

    /// Writes `text` on one side, moves it, and reads it on the other.
    func send(_ text: String, fromClient: Bool) -> (bytes: [UInt8], last: TLSChannel.Transfer) {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { raw in
            fromClient ? client.writePlaintext(raw) : server.writePlaintext(raw)
        }
        precondition(written == .bytes(bytes.count))
        move()
        return fromClient ? readAll(server) : readAll(client)
    }
}
