import CTLSShim

/// One TLS connection's state, driven by bytes: the caller moves ciphertext between the
/// socket and the channel (`receiveCiphertext`, `takeCiphertext`) and plaintext between the
/// channel and its protocol (`readPlaintext`, `writePlaintext`). No socket, no thread, no
/// clock inside — the same channel runs on the io_uring connection layer, a blocking test
/// socket, or two channels wired to each other in memory.
///
/// Each channel owns an OpenSSL SSL object bound to a BIO pair whose two ciphertext buffers
/// (`bufferCapacity` bytes each) are allocated when the channel is made: ciphertext waiting in
/// either direction is bounded by them. Steady-state calls allocate nothing in this code;
/// what OpenSSL itself does per record is measured in the tests (TLSAllocationTests).
public struct TLSChannel: ~Copyable {
    /// What a step of the handshake left to do.
    public enum Progress: Equatable, Sendable {
        case complete
        /// More ciphertext from the peer is needed.
        case needsInput
        /// The outbound buffer is full: take ciphertext first.
        case needsOutputRoom
        case failed
    }

    /// What a plaintext read or write did.
    public enum Transfer: Equatable, Sendable {
        case bytes(Int)
        case needsInput
        case needsOutputRoom
        /// The peer sent close_notify.
        case closed
        case failed
    }

    /// Room for two full TLS records in each direction.
    public static let defaultBufferCapacity = 2 * (16 * 1024 + 512)

    @usableFromInline let session: OpaquePointer
    public let role: TLSRole

    /// A channel on `context`. `expectedHost` (clients): the name or IP address the server's
    /// certificate must carry. Nil when memory runs out.
    public init?(context: TLSContext, bufferCapacity: Int = TLSChannel.defaultBufferCapacity, expectedHost: String? = nil) {
        let made = withOptionalCString(expectedHost) { host in
            rtes_tls_session_new(context.pointer, context.role == .server ? 1 : 0, bufferCapacity, host)
        }
        guard let made else { return nil }
        session = made
        role = context.role
    }

    deinit { rtes_tls_session_free(session) }

    // ---- Ciphertext ------------------------------------------------------------

    /// Copies ciphertext from the peer in. Returns how many bytes it took: fewer than given
    /// when the inbound buffer is full (read plaintext, then offer the rest).
    @inlinable
    public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return rtes_tls_feed(session, base, bytes.count)
    }

    /// Ciphertext waiting to go to the peer.
    @inlinable
    public var pendingCiphertext: Int { rtes_tls_pending_output(session) }

    /// Moves ciphertext for the peer into `buffer`. Returns the count.
    @inlinable
    public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        return rtes_tls_take(session, base, buffer.count)
    }

    // ---- Handshake and plaintext ----------------------------------------------------

    /// Advances the handshake as far as the ciphertext received allows. After every call,
    /// send `pendingCiphertext` to the peer (alerts included, after a failure).
    public func advanceHandshake() -> Progress {
        switch rtes_tls_handshake(session) {
        case Int32(RTES_TLS_OK): .complete
        case Int32(RTES_TLS_WANT_INPUT): .needsInput
        case Int32(RTES_TLS_WANT_OUTPUT): .needsOutputRoom
        default: .failed
        }
    }

    public var isHandshakeComplete: Bool { rtes_tls_handshake_done(session) == 1 }

    /// Decrypts plaintext into `buffer`. Before the handshake completes this advances it.
    @inlinable
    public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .needsInput }
        return Self.transfer(rtes_tls_read(session, base, buffer.count))
    }

    /// Encrypts plaintext; the ciphertext waits in `pendingCiphertext`. Returns how many
    /// plaintext bytes were taken (a prefix when the outbound buffer fills).
    @inlinable
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Transfer {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .bytes(0) }
        return Self.transfer(rtes_tls_write(session, base, bytes.count))
    }

    /// Queues close_notify for the peer.
    public func close() -> Progress {
        switch rtes_tls_close(session) {
        case Int32(RTES_TLS_OK): .complete
        case Int32(RTES_TLS_WANT_OUTPUT): .needsOutputRoom
        default: .failed
        }
    }

    @inlinable
    static func transfer(_ result: Int) -> Transfer {
        if result >= 0 { return .bytes(result) }
        switch Int32(result) {
        case Int32(RTES_TLS_WANT_INPUT): return .needsInput
        case Int32(RTES_TLS_WANT_OUTPUT): return .needsOutputRoom
        case Int32(RTES_TLS_CLOSED): return .closed
        default: return .failed
        }
    }

    // ---- What was negotiated, and why it failed ---------------------------------------

    /// Why the channel failed, once a call returned `.failed`; nil before.
    public var failure: TLSFailure? {
        let kind = rtes_tls_failure_kind(session)
        guard kind != Int32(RTES_TLS_FAILURE_NONE) else { return nil }
        return TLSFailure(code: kind, detail: String(cString: rtes_tls_failure_text(session)))
    }

    /// "TLSv1.3" or "TLSv1.2" once the handshake is complete; nil before.
    public var protocolVersion: String? {
        switch rtes_tls_protocol_version(session) {
        case 13: "TLSv1.3"
        case 12: "TLSv1.2"
        case 11: "TLSv1.1"
        case 10: "TLSv1.0"
        default: nil
        }
    }

    public var cipherSuite: String { String(cString: rtes_tls_cipher_name(session)) }

    /// The peer certificate's subject commonName (verified, when the context verifies the
    /// peer); nil when there is no certificate or no usable CN.
    public var peerCommonName: String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            let length = rtes_tls_peer_common_name(session, buffer.baseAddress!, buffer.count)
            guard length > 0 else { return nil }
            return String(cString: buffer.baseAddress!)
        }
    }
}
