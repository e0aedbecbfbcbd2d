import CExchangeShim
import Glibc

// Back-pressure on one connection: a service that cannot take a connection's bytes yet (its
// gateway's ring to the engine is full, say) stops receiving on it instead of buffering
// without bound or closing it. With the receive not re-armed, the socket's receive buffer
// fills, the peer's TCP window closes and its sends block: the peer slows to what the
// service takes, and loses nothing.
//
//   pauseReceiving(slot)     the multishot receive is cancelled (one submission queue entry,
//                            sent with the turn's submission; no system call of its own)
//   … .received …            what the kernel had taken before the cancel landed is parked,
//                            in order, in its provided buffers (never handed to the service)
//   nextParked(slot)         hands the parked bytes out, oldest first, like `.received`
//   resumeReceiving(slot)    re-arms the receive once nothing is parked
//
// Parked buffers are bounded by the provided-buffer ring (and in practice by what arrives
// between the pause and its cancel: one turn). Nothing here allocates, locks or logs; a
// connection never paused costs one branch per receive completion.
extension ConnectionTable {
    /// Whether `slot`'s receives are paused.
    @inlinable public func isPaused(_ slot: Int) -> Bool { slots[slot].paused }

    /// Whether `slot` has parked bytes `nextParked` has not handed out.
    @inlinable public func hasParked(_ slot: Int) -> Bool { slots[slot].parkedHead >= 0 }

    /// Stops taking `slot`'s bytes: cancels its receive (prepared, sent with the turn's
    /// submission). Receives already completed or landing before the cancel are parked.
    /// False when the slot is not open or already paused.
    @inlinable @discardableResult
    public mutating func pauseReceiving(_ slot: Int, ring: borrowing IOUring) -> Bool {
        guard slots[slot].state == .open, !slots[slot].paused else { return false }
        slots[slot].paused = true
        counted.receivePauses &+= 1
        // Without the cancel (a full submission queue) the receive stops anyway once the
        // buffers it took are parked: the cancel only keeps it from taking others' buffers.
        if slots[slot].receiving { ring.prepareCancel(receiveTag(slot)) }
        return true
    }

    /// The oldest parked bytes of `slot`, or nil. Valid, like those of `.received`, until
    /// the next `handle`, `nextParked` or `finishBatch()` (the buffer then goes back).
    @inlinable
    public mutating func nextParked(_ slot: Int) -> UnsafeRawBufferPointer? {
        let id = slots[slot].parkedHead
        guard id >= 0 else { return nil }
        if pendingBuffer >= 0 { buffers.recycle(UInt16(truncatingIfNeeded: pendingBuffer)) }
        slots[slot].parkedHead = parkedNext[Int(id)]
        if slots[slot].parkedHead < 0 { slots[slot].parkedTail = -1 }
        parkedNext[Int(id)] = -1
        pendingBuffer = id
        return UnsafeRawBufferPointer(start: buffers.buffer(UInt16(truncatingIfNeeded: id)), count: Int(parkedBytes[Int(id)]))
    }

    /// Takes `slot`'s bytes again: re-arms its receive (unless it is still armed, its cancel
    /// not yet landed). Refused (false) while bytes are parked — hand them out first — and
    /// when the slot is not paused or not open. False with the slot still paused when the
    /// submission queue has no entry: try again next turn.
    @inlinable @discardableResult
    public mutating func resumeReceiving(_ slot: Int, ring: borrowing IOUring) -> Bool {
        guard slots[slot].paused, slots[slot].state == .open, slots[slot].parkedHead < 0 else { return false }
        if !slots[slot].receiving && !armReceive(slot, ring: ring) { return false }
        slots[slot].paused = false
        counted.receiveResumes &+= 1
        return true
    }

    @inlinable
    mutating func park(_ id: UInt16, bytes: Int32, slot: Int) {
        let i = Int32(id)
        parkedBytes[Int(id)] = bytes
        parkedNext[Int(id)] = -1
        if slots[slot].parkedTail >= 0 { parkedNext[Int(slots[slot].parkedTail)] = i } else { slots[slot].parkedHead = i }
        slots[slot].parkedTail = i
        counted.parkedBuffers &+= 1
    }

    /// A slot being freed: its parked buffers go back to the kernel, unread.
    @inlinable
    mutating func dropParked(_ slot: Int) {
        var id = slots[slot].parkedHead
        while id >= 0 {
            let next = parkedNext[Int(id)]
            parkedNext[Int(id)] = -1
            buffers.recycle(UInt16(truncatingIfNeeded: id))
            id = next
        }
        slots[slot].parkedHead = -1
        slots[slot].parkedTail = -1
        slots[slot].paused = false
    }
}
