import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

// fix.tls on: the FIX port's connections carry ciphertext, as the order-entry port's do with
// gateway.tls (GatewayAgent+TLS.swift, docs/TLS.md): the same certificate, key and client CA
// (RTES_TLS_CERT, RTES_TLS_KEY, RTES_CA_CERT), the same OpenSSL sessions driven through memory
// buffers, one per FIX connection (`fixTLS`). With mutual TLS a Logon's Username must be the
// client certificate's CN. With fix.tls off none of this runs.
extension GatewayAgent {
    /// A FIX connection was accepted: its TLS session, on the context current now.
    mutating func fixOpenTLS(_ slot: Int) {
        guard let source = fixTLSSource else { return }
        let reloads = source.reloadCount
        if reloads != fixTLSContextReloads || fixTLSContext == nil {
            fixTLSContext = source.context
            fixTLSContextReloads = reloads
        }
        guard let context = fixTLSContext, fixTLS.open(slot, context: context) else {
            count(GatewayCounters.tlsFailures)
            fixClose(slot, .tlsFailed, flush: false)
            return
        }
    }

    /// Ciphertext received: the handshake advanced, plaintext handed to the FIX framing as it
    /// is decrypted. A failed handshake or a bad record closes the connection (`tls_failed`)
    /// once the alert that names the problem has gone.
    mutating func fixReceiveTLS(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        while true {
            let taken = fixTLS.feed(slot, input)
            input = UnsafeRawBufferPointer(rebasing: input[taken...])
            var progressed = taken > 0
            if !fixTLS.isHandshakeComplete(slot) {
                let progress = fixTLS.advanceHandshake(slot)
                if progress == .failed { return fixFailTLS(slot) }
                if fixTLS.hasOutbound(slot) { fixMarkDirty(slot) }
                if progress != .complete {
                    if input.isEmpty { return }
                    if !progressed { return fixClose(slot, .slowConsumer, flush: false) }
                    continue
                }
            }
            reading: while true {
                switch fixTLS.read(slot) {
                case .bytes(let n):
                    progressed = true
                    fixReceive(slot, UnsafeRawBufferPointer(start: fixTLS.plaintext.baseAddress, count: n))
                    let phase = fixTable.sessions[slot].phase
                    guard phase == .awaitingLogon || phase == .authenticating || phase == .active else { return }
                case .needsInput:
                    break reading
                case .needsOutputRoom:
                    fixMarkDirty(slot)
                    break reading
                case .closed:
                    fixClose(slot, .peerClosed, flush: false)
                    return
                case .failed:
                    return fixFailTLS(slot)
                }
            }
            if fixTLS.hasOutbound(slot) { fixMarkDirty(slot) }
            if input.isEmpty { return }
            if !progressed { return fixClose(slot, .slowConsumer, flush: false) }
        }
    }

    mutating func fixFailTLS(_ slot: Int) {
        count(GatewayCounters.tlsFailures)
        fixClose(slot, .tlsFailed, flush: true)
    }

    /// Sends what waits: ciphertext the session holds (handshake, alerts, the rest of a record)
    /// first, else the queued plaintext `[outboundSent, outboundLength)` encrypted.
    mutating func fixSendTLS(_ slot: Int) {
        if fixTLS.hasOutbound(slot) {
            let staged = fixTLS.stageOutbound(slot)
            if let base = staged.baseAddress, staged.count > 0 {
                if case .submissionQueueFull = fixTable.send(slot, bytes: base, count: staged.count, ring: ring) { fixMarkDirty(slot) }
                return
            }
        }
        let sent = Int(fixTable.sessions[slot].outboundSent)
        let pending = Int(fixTable.sessions[slot].outboundLength) &- sent
        guard pending > 0, fixTLS.isHandshakeComplete(slot) else {
            if fixTable.sessions[slot].phase == .flushing && pending <= 0 { fixClose(slot, fixTable.sessions[slot].closeReason, flush: false) }
            return
        }
        let taken = fixTLS.encrypt(slot, fix.outboundBuffer(slot) + sent, count: pending, fromControl: false)
        if taken < 0 {
            if fixTable.sessions[slot].phase == .flushing {
                fixClose(slot, fixTable.sessions[slot].closeReason, flush: false)
            } else {
                fixFailTLS(slot)
            }
            return
        }
        let staged = fixTLS.stageOutbound(slot)
        guard let base = staged.baseAddress, staged.count > 0 else { return }
        if case .submissionQueueFull = fixTable.send(slot, bytes: base, count: staged.count, ring: ring) { fixMarkDirty(slot) }
    }

    /// A ciphertext send completed: the plaintext encrypted for it counts as sent.
    mutating func fixSentTLS(_ slot: Int, bytes: Int) {
        let done = fixTLS.sent(slot, bytes: bytes)
        fixTable.sessions[slot].outboundSent &+= Int32(truncatingIfNeeded: done.plaintext)
        fixMarkDirty(slot)
    }

    /// Mutual TLS: the Logon's Username must be the client certificate's CN.
    func fixTLSPermitsLogon(_ slot: Int, username: SoupUsername) -> Bool {
        guard fixTLSBindsAccounts else { return true }
        guard let word = fixTLS.commonNameUsernameWord(slot) else { return false }
        return word == username.rawValue
    }
}
