import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

// gateway.tls on: the connection layer carries ciphertext; these turn it into the plaintext
// the SoupBinTCP framing reads (`receive`) and turn the plaintext the gateway sends (control
// packets, session logs) into ciphertext. With TLS off none of this runs: the agent's
// handlers test `tlsOn` once and take the plaintext path unchanged.
extension GatewayAgent {
    /// A connection was accepted: its TLS session, on the context current now (a reload's
    /// new context is taken here, after a lock-free check that one happened).
    mutating func openTLS(_ slot: Int) {
        guard let source = tlsSource else { return }
        let reloads = source.reloadCount
        if reloads != tlsContextReloads || tlsContext == nil {
            tlsContext = source.context
            tlsContextReloads = reloads
        }
        guard let context = tlsContext, tls.open(slot, context: context) else {
            beginClose(slot, .tlsFailed, flush: false)
            return
        }
    }

    /// Ciphertext received: into the session; the handshake advanced; plaintext handed to
    /// the framing as it is decrypted. A failed handshake or a bad record closes the
    /// connection (`tls_failed`) after the TLS alert that names the problem has been sent.
    mutating func receiveTLS(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        while true {
            let taken = tls.feed(slot, input)
            input = UnsafeRawBufferPointer(rebasing: input[taken...])
            var progressed = taken > 0
            if !tls.isHandshakeComplete(slot) {
                let progress = tls.advanceHandshake(slot)
                if progress == .failed { return failTLS(slot) }
                if tls.hasOutbound(slot) { markDirty(slot) }
                if progress != .complete {
                    if input.isEmpty { return }
                    if !progressed { return stallTLS(slot) }
                    continue
                }
            }
            reading: while true {
                switch tls.read(slot) {
                case .bytes(let n):
                    progressed = true
                    receive(slot, UnsafeRawBufferPointer(start: tls.plaintext.baseAddress, count: n))
                    let phase = connections[slot].phase
                    guard phase == .awaitingLogin || phase == .authenticating || phase == .active else { return }
                case .needsInput:
                    break reading
                case .needsOutputRoom:
                    markDirty(slot)
                    break reading
                case .closed:
                    beginClose(slot, .peerClosed, flush: false)
                    return
                case .failed:
                    return failTLS(slot)
                }
            }
            if tls.hasOutbound(slot) { markDirty(slot) }
            if input.isEmpty { return }
            if !progressed { return stallTLS(slot) }
        }
    }

    /// The session took no more ciphertext: it holds a full buffer of output the client has
    /// not read. Received bytes are never dropped silently: the client is a slow consumer.
    mutating func stallTLS(_ slot: Int) {
        beginClose(slot, .slowConsumer, flush: false)
    }

    /// The session failed: its alert (if any) goes out, then the connection closes.
    mutating func failTLS(_ slot: Int) {
        count(GatewayCounters.tlsFailures)
        beginClose(slot, .tlsFailed, flush: true)
    }

    /// Ciphertext the session holds for the peer (handshake, alerts, the rest of a record)
    /// goes before any new plaintext. True when there was some (a send was started or will
    /// be retried).
    mutating func sendPendingCiphertext(_ slot: Int) -> Bool {
        guard tls.hasOutbound(slot) else { return false }
        let staged = tls.stageOutbound(slot)
        guard let base = staged.baseAddress, staged.count > 0 else { return false }
        switch table.send(slot, bytes: base, count: staged.count, ring: ring) {
        case .started:
            connections[slot].lastSendAt = now
        case .submissionQueueFull:
            markDirty(slot)
        case .busy, .notOpen:
            break
        }
        return true
    }

    /// Encrypts plaintext (a control packet run or a stretch of the session log) and sends
    /// its ciphertext. The plaintext counts as sent when that send completes (`sentTLS`).
    mutating func sendEncrypted(_ slot: Int, _ bytes: UnsafeRawPointer, count: Int, fromControl: Bool) -> ConnectionTable<Connection>.SendStart {
        let taken = tls.encrypt(slot, bytes, count: count, fromControl: fromControl)
        if taken < 0 {
            // The session failed (its alert went first): close now if already flushing.
            if connections[slot].phase == .flushing {
                beginClose(slot, connections[slot].closeReason, flush: false)
            } else {
                failTLS(slot)
            }
            return .notOpen
        }
        let staged = tls.stageOutbound(slot)
        guard let base = staged.baseAddress, staged.count > 0 else { return .busy }
        return table.send(slot, bytes: base, count: staged.count, ring: ring)
    }

    /// A ciphertext send completed: the plaintext encrypted for it is sent, as far as the
    /// session log and control buffer are concerned.
    mutating func sentTLS(_ slot: Int, bytes: Int) {
        let done = tls.sent(slot, bytes: bytes)
        connections[slot].sendingControl = done.fromControl
        sent(slot, bytes: done.plaintext)
    }

    /// Mutual TLS: the Login Request's username must be the client certificate's subject
    /// (CN). True when TLS does not bind accounts or the names agree.
    func tlsPermitsLogin(_ slot: Int, username: SoupUsername) -> Bool {
        guard tlsBindsAccounts else { return true }
        guard let word = tls.commonNameUsernameWord(slot) else { return false }
        return word == username.rawValue
    }
}
