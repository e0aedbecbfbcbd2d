import CTLSShim

/// TLS for a table of connections on the io_uring connection layer, slot by slot: what a
/// service adds between its connection table and its protocol when its port speaks TLS.
///
/// Per slot: an OpenSSL session (made when the connection is accepted — OpenSSL allocates
/// then, and during the handshake) and an outbound buffer the ciphertext of one send is
/// staged in, so the bytes stay put while the kernel sends them. One plaintext buffer is
/// shared by all slots: a receive decrypts into it and the protocol handles it at once.
/// Everything here is allocated at start; records in the steady state allocate nothing
/// (TLSAllocationTests). Owned by one agent; nothing here locks.
public struct TLSSessionTable: ~Copyable {
    public let capacity: Int
    /// Bytes of ciphertext one send carries at most (and each session's BIO buffers).
    public let outboundBytes: Int
    @usableFromInline let sessions: UnsafeMutablePointer<OpaquePointer?>
    @usableFromInline let outbound: UnsafeMutableRawPointer
    @usableFromInline let outboundLength: UnsafeMutablePointer<Int32>
    @usableFromInline let outboundSent: UnsafeMutablePointer<Int32>
    /// Plaintext bytes encrypted since the last send completed, and whether they came from
    /// the service's control buffer (its own bookkeeping, returned on completion).
    @usableFromInline let plaintextPending: UnsafeMutablePointer<Int32>
    @usableFromInline let plaintextFromControl: UnsafeMutablePointer<Bool>
    /// Decrypted input, handed to the protocol before the next read.
    public let plaintext: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - capacity: the connection table's slots.
    ///   - plaintextBytes: the largest plaintext a read hands over (a receive buffer).
    ///   - outboundBytes: ciphertext per send, and each direction's BIO buffer per session.
    /// The heap `init` allocates (OpenSSL's sessions, made at each handshake, are not counted).
    public static func heapBytes(capacity: Int, plaintextBytes: Int, outboundBytes: Int = TLSChannel.defaultBufferCapacity) -> Int {
        capacity * (MemoryLayout<OpaquePointer?>.stride + outboundBytes + 3 * MemoryLayout<Int32>.stride
                        + MemoryLayout<Bool>.stride) + plaintextBytes
    }

    public init(capacity: Int, plaintextBytes: Int, outboundBytes: Int = TLSChannel.defaultBufferCapacity) {
        self.capacity = capacity
        self.outboundBytes = outboundBytes
        sessions = .allocate(capacity: capacity)
        sessions.initialize(repeating: nil, count: capacity)
        outbound = .allocate(byteCount: capacity * outboundBytes, alignment: 64)
        outboundLength = .allocate(capacity: capacity)
        outboundLength.initialize(repeating: 0, count: capacity)
        outboundSent = .allocate(capacity: capacity)
        outboundSent.initialize(repeating: 0, count: capacity)
        plaintextPending = .allocate(capacity: capacity)
        plaintextPending.initialize(repeating: 0, count: capacity)
        plaintextFromControl = .allocate(capacity: capacity)
        plaintextFromControl.initialize(repeating: false, count: capacity)
        plaintext = .allocate(byteCount: plaintextBytes, alignment: 64)
    }

    deinit {
        for slot in 0..<capacity { rtes_tls_session_free(sessions[slot]) }
        sessions.deallocate()
        outbound.deallocate()
        outboundLength.deallocate()
        outboundSent.deallocate()
        plaintextPending.deallocate()
        plaintextFromControl.deallocate()
        plaintext.deallocate()
    }

    /// A server session for a connection just accepted on `slot`. False when OpenSSL has no
    /// memory (the service closes the connection).
    public mutating func open(_ slot: Int, context: TLSContext) -> Bool {
        release(slot)
        guard let session = rtes_tls_session_new(context.pointer, 1, outboundBytes, nil) else { return false }
        sessions[slot] = session
        return true
    }

    /// Frees the slot's session (the connection is gone).
    public mutating func release(_ slot: Int) {
        rtes_tls_session_free(sessions[slot])
        sessions[slot] = nil
        outboundLength[slot] = 0
        outboundSent[slot] = 0
        plaintextPending[slot] = 0
        plaintextFromControl[slot] = false
    }

    @inlinable public func isOpen(_ slot: Int) -> Bool { sessions[slot] != nil }

    // ---- Inbound -----------------------------------------------------------------------

    /// Copies received ciphertext into the slot's session; returns how much it took.
    @inlinable
    public func feed(_ slot: Int, _ bytes: UnsafeRawBufferPointer) -> Int {
        guard let session = sessions[slot], let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return rtes_tls_feed(session, base, bytes.count)
    }

    @inlinable
    public func isHandshakeComplete(_ slot: Int) -> Bool {
        guard let session = sessions[slot] else { return false }
        return rtes_tls_handshake_done(session) == 1
    }

    public func advanceHandshake(_ slot: Int) -> TLSChannel.Progress {
        guard let session = sessions[slot] else { return .failed }
        switch rtes_tls_handshake(session) {
        case Int32(RTES_TLS_OK): return .complete
        case Int32(RTES_TLS_WANT_INPUT): return .needsInput
        case Int32(RTES_TLS_WANT_OUTPUT): return .needsOutputRoom
        default: return .failed
        }
    }

    /// Decrypts into `plaintext`.
    @inlinable
    public func read(_ slot: Int) -> TLSChannel.Transfer {
        guard let session = sessions[slot] else { return .failed }
        return TLSChannel.transfer(rtes_tls_read(session, plaintext.baseAddress!, plaintext.count))
    }

    // ---- Outbound ----------------------------------------------------------------------

    /// Encrypts up to `count` plaintext bytes into the session. Returns the bytes taken
    /// (0 when the session's outbound buffer is full), or -1 when the session has failed.
    @inlinable
    public func encrypt(_ slot: Int, _ bytes: UnsafeRawPointer, count: Int, fromControl: Bool) -> Int {
        guard let session = sessions[slot] else { return -1 }
        // One record at most, and only what the outbound BIO has room for with the record's
        // overhead (header, nonce, tag: under 64 bytes), so that OpenSSL never holds a
        // half-written record the caller would have to offer again.
        let room = outboundBytes &- rtes_tls_pending_output(session) &- 64
        guard room > 0 else { return 0 }
        let result = rtes_tls_write(session, bytes, min(count, room, 16_384))
        if result > 0 {
            plaintextPending[slot] &+= Int32(truncatingIfNeeded: result)
            plaintextFromControl[slot] = fromControl
            return result
        }
        return result == Int(RTES_TLS_WANT_OUTPUT) ? 0 : -1
    }

    /// The ciphertext to send next: what a partial send left in the outbound buffer, else
    /// what the session has waiting, moved into the buffer. Empty when there is none.
    @inlinable
    public func stageOutbound(_ slot: Int) -> UnsafeRawBufferPointer {
        guard let session = sessions[slot] else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let buffer = outbound + slot &* outboundBytes
        if outboundSent[slot] >= outboundLength[slot] {
            outboundSent[slot] = 0
            outboundLength[slot] = Int32(truncatingIfNeeded: rtes_tls_take(session, buffer, outboundBytes))
        }
        let sent = Int(outboundSent[slot])
        return UnsafeRawBufferPointer(start: buffer + sent, count: Int(outboundLength[slot]) &- sent)
    }

    /// A send of staged ciphertext completed with `bytes`. Returns the plaintext the
    /// service may now count as sent (all encrypted since the last completion: its
    /// ciphertext is staged or sent) and whether it came from the control buffer.
    @inlinable
    public func sent(_ slot: Int, bytes: Int) -> (plaintext: Int, fromControl: Bool) {
        outboundSent[slot] &+= Int32(truncatingIfNeeded: bytes)
        let plain = Int(plaintextPending[slot])
        plaintextPending[slot] = 0
        return (plain, plaintextFromControl[slot])
    }

    /// Whether ciphertext waits: staged and unsent, or in the session.
    @inlinable
    public func hasOutbound(_ slot: Int) -> Bool {
        guard let session = sessions[slot] else { return false }
        return outboundSent[slot] < outboundLength[slot] || rtes_tls_pending_output(session) > 0
    }

    /// Queues close_notify.
    public func close(_ slot: Int) {
        guard let session = sessions[slot], rtes_tls_handshake_done(session) == 1 else { return }
        _ = rtes_tls_close(session)
    }

    // ---- Identity and failures ---------------------------------------------------------

    /// The verified client certificate's CN as a SoupBinTCP username word (up to 6 bytes,
    /// space padded, big-endian in the low 48 bits); nil when there is no certificate, no
    /// CN, or a CN longer than 6 bytes (which then names no account).
    public func commonNameUsernameWord(_ slot: Int) -> UInt64? {
        guard let session = sessions[slot] else { return nil }
        var name: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &name) { raw -> UInt64? in
            let length = rtes_tls_peer_common_name(session, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            guard length > 0, length <= 6 else { return nil }
            var word: UInt64 = 0
            for i in 0..<6 { word = word << 8 | UInt64(i < length ? raw[i] : 0x20) }
            return word
        }
    }

    /// Why the slot's session failed (allocates a String: for logs and tests, not per record).
    public func failure(_ slot: Int) -> TLSFailure? {
        guard let session = sessions[slot] else { return nil }
        let kind = rtes_tls_failure_kind(session)
        guard kind != Int32(RTES_TLS_FAILURE_NONE) else { return nil }
        return TLSFailure(code: kind, detail: String(cString: rtes_tls_failure_text(session)))
    }
}
