import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

// market_data.snapshot_tls on: the snapshot service's connection table carries ciphertext;
// these turn it into the plaintext the SoupBinTCP framing reads (`snapshotReceivedTLS`) and
// turn what the service sends (control packets, the pass's chunks) into ciphertext, one
// record per send, staged in the slot's own outbound buffer (the pass's chunk buffer is shared
// by every connection; its ciphertext cannot be). With TLS off none of this runs: the
// handlers test `snapshots.tlsOn` once and take the plaintext path unchanged.
//
// The gateway's TLS (GatewayAgent+TLS.swift) is the model: a failed handshake or a record
// that does not decrypt is counted (`snapshot_tls_failures`), OpenSSL's alert goes out, then
// the connection closes; other connections do not notice.
extension MarketDataAgent {
    /// A connection was accepted: its TLS session, on the context current now (a reload's new
    /// context is taken here, after a lock-free check that one happened).
    mutating func openSnapshotTLS(_ slot: Int) {
        guard let source = snapshots.tlsSource else { return }
        let reloads = source.reloadCount
        if reloads != snapshots.tlsContextReloads || snapshots.tlsContext == nil {
            snapshots.tlsContext = source.context
            snapshots.tlsContextReloads = reloads
        }
        guard let context = snapshots.tlsContext, snapshots.tls.open(slot, context: context) else {
            snapshots.tlsFailures &+= 1
            return closeSnapshotConnection(slot)
        }
    }

    /// Ciphertext received: into the session; the handshake advanced; plaintext handed to the
    /// framing as it is decrypted.
    mutating func snapshotReceivedTLS(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        guard snapshots.isServing(slot), snapshots.tls.isOpen(slot), !snapshots.sessions[slot].closeWhenFlushed else { return }
        var input = bytes
        while true {
            let taken = snapshots.tls.feed(slot, input)
            input = UnsafeRawBufferPointer(rebasing: input[taken...])
            var progressed = taken > 0
            if !snapshots.tls.isHandshakeComplete(slot) {
                let progress = snapshots.tls.advanceHandshake(slot)
                if progress == .failed { return failSnapshotTLS(slot) }
                if progress != .complete {
                    flushSnapshotCiphertext(slot)
                    if input.isEmpty { return }
                    if !progressed { return stallSnapshotTLS(slot) }
                    continue
                }
            }
            reading: while true {
                switch snapshots.tls.read(slot) {
                case .bytes(let n):
                    progressed = true
                    snapshotReceived(slot, UnsafeRawBufferPointer(start: snapshots.tls.plaintext.baseAddress, count: n))
                    guard snapshots.isServing(slot), !snapshots.sessions[slot].closeWhenFlushed else { return }
                case .needsInput, .needsOutputRoom:
                    break reading
                case .closed:
                    return closeSnapshotConnection(slot)
                case .failed:
                    return failSnapshotTLS(slot)
                }
            }
            flushSnapshotCiphertext(slot)
            if input.isEmpty { return }
            if !progressed { return stallSnapshotTLS(slot) }
        }
    }

    /// The session took no more ciphertext while holding output the client has not read:
    /// input is never dropped silently, so the connection closes (a slow reader: `timed_out`).
    mutating func stallSnapshotTLS(_ slot: Int) {
        snapshots.timeouts &+= 1
        closeSnapshotConnection(slot)
    }

    /// The session failed: counted; its alert (if any) goes out, then the connection closes.
    mutating func failSnapshotTLS(_ slot: Int) {
        snapshots.tlsFailures &+= 1
        snapshots.sessions[slot].closeWhenFlushed = true
        if snapshots.table.isSending(slot) { return }  // the completion flushes and closes
        if snapshots.tls.hasOutbound(slot) { flushSnapshotCiphertext(slot) } else { closeSnapshotConnection(slot) }
    }

    /// Starts a send of the ciphertext waiting (handshake, alert, the rest of a record), when
    /// there is some and no send is in flight.
    mutating func flushSnapshotCiphertext(_ slot: Int) {
        guard snapshots.isServing(slot), !snapshots.table.isSending(slot), snapshots.tls.hasOutbound(slot) else { return }
        let staged = snapshots.tls.stageOutbound(slot)
        guard let base = staged.baseAddress, staged.count > 0 else { return }
        if !startSnapshotSend(slot, bytes: base, count: staged.count) { closeSnapshotConnection(slot) }
    }

    /// Encrypts up to one record of `bytes` and starts the send of the staged ciphertext
    /// (ciphertext already waiting goes first). Returns the plaintext bytes taken (0: none yet,
    /// or the session failed and is closing), -1 when no send could be started.
    mutating func sendEncryptedSnapshot(_ slot: Int, bytes: UnsafeRawPointer, count: Int) -> Int {
        guard !snapshots.sessions[slot].closeWhenFlushed else { return 0 }
        let taken = snapshots.tls.encrypt(slot, bytes, count: count, fromControl: false)
        if taken < 0 {
            failSnapshotTLS(slot)
            return 0
        }
        let staged = snapshots.tls.stageOutbound(slot)
        guard let base = staged.baseAddress, staged.count > 0 else { return taken }
        return startSnapshotSend(slot, bytes: base, count: staged.count) ? taken : -1
    }

    /// A ciphertext send completed: the plaintext encrypted since the last completion counts
    /// as sent (control packet or chunk bytes, as the plaintext path would count it); then
    /// ciphertext still waiting goes out, and a connection that was to close once it had
    /// flushed closes.
    mutating func snapshotSentTLS(_ slot: Int, bytes: Int) {
        guard snapshots.isServing(slot) else { return }
        let done = snapshots.tls.sent(slot, bytes: bytes)
        if !snapshots.sessions[slot].closeWhenFlushed {
            if done.plaintext > 0 {
                snapshotSent(slot, bytes: done.plaintext)
            } else if snapshots.sessions[slot].inPass && !snapshots.table.isSending(slot) {
                // Only ciphertext went (the rest of a record): the chunk goes on.
                sendPassChunk(slot)
            }
        }
        guard snapshots.isServing(slot), !snapshots.table.isSending(slot) else { return }
        if snapshots.tls.hasOutbound(slot) {
            flushSnapshotCiphertext(slot)
        } else if snapshots.sessions[slot].closeWhenFlushed {
            closeSnapshotConnection(slot)
        }
    }

    /// Mutual TLS: the Login Request's username must be the client certificate's subject
    /// (CN). True when TLS does not bind accounts or the names agree.
    func snapshotTLSPermitsLogin(_ slot: Int, username: SoupUsername) -> Bool {
        guard snapshots.tlsBindsAccounts else { return true }
        guard let word = snapshots.tls.commonNameUsernameWord(slot) else { return false }
        return word == username.rawValue
    }
}
