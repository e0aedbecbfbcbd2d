import ExchangeRuntime
import ExchangeWire

// Back-pressure in the journaling modes. When the ring to the engine is full at a logged-in
// client's message (or the account still owes the engine a session event), an answer written
// straight into the session — as mode none does — would be output no journal record explains.
// Instead the message and everything after it wait, and the connection's receives are paused
// (`ConnectionTable.pauseReceiving`): the client's TCP window closes and its sends block, as at
// any exchange that cannot keep up, and nothing is lost or answered out of order. The wait is
// bounded in memory: one receive buffer and one packet in the slot's held-input buffer, plus
// the provided buffers that landed before the pause took effect (parked in the table).
// Once the ring has room, `resumeHeldInput` hands the held bytes, then the parked ones, back to
// the framing and re-arms the receive. Flood rules apply when the messages are handled; the
// idle timeout does not run while the gateway is the one not reading.
extension GatewayAgent {
    /// Held input: one receive buffer, and the packet (header included) that found the ring
    /// full, which may have been assembled across two receives.
    static func heldInputCapacity(receiveBufferSize: Int) -> Int {
        let bytes = receiveBufferSize + GatewayLayout.maximumInboundPacket + SoupBinTCP.headerLength
        return (bytes + 63) & ~63
    }

    /// The ring to the engine is full at `frame`: it and `rest` wait in the held-input
    /// buffer, and the connection stops receiving until they have gone to the engine.
    mutating func holdInput(_ slot: Int, frame: SoupFrame, rest: UnsafeRawBufferPointer) {
        count(GatewayCounters.inputHolds)
        connections[slot].inputHeld = true
        queueHeld(slot)
        table.pauseReceiving(slot, ring: ring)
        // The frame again, header and all (its payload may lie in the held-input buffer,
        // after where it goes: memmove).
        let length = frame.payload.count &+ 1
        var header: (UInt8, UInt8, UInt8) = (UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length), frame.type)
        connections[slot].heldLength = 0
        withUnsafeBytes(of: &header) { hold(slot, UnsafeRawBufferPointer(rebasing: $0[0..<3]), overflow: .inputBacklog) }
        hold(slot, frame.payload, overflow: .inputBacklog)
        hold(slot, rest, overflow: .inputBacklog)
    }

    /// Hands held input back to the framing, connection by connection in the order they were
    /// held, while the command ring has room: the held bytes, then what the table parked,
    /// then the receive is re-armed. A connection held again goes to the back of the line.
    /// Looks only at held connections, never at every slot.
    mutating func resumeHeldInput() -> Int {
        var resumed = 0
        var visits = heldConnections
        while visits > 0 && heldConnections > 0 {
            visits &-= 1
            let slot = Int(heldSlots[heldFirst])
            guard connections[slot].phase == .active else {
                // Not reading any more (beginClose takes a closing connection off the line;
                // this is for any other way out): what it held goes.
                dropHeldInput(slot)
                continue
            }
            guard commandRoom(account: Int(connections[slot].account)) else { break }
            heldFirst = heldFirst &+ 1 == maxConnections ? 0 : heldFirst &+ 1
            heldConnections &-= 1
            connections[slot].inputHeld = false
            connections[slot].lastReceiveAt = now
            let held = Int(connections[slot].heldLength)
            connections[slot].heldLength = 0
            receive(slot, UnsafeRawBufferPointer(start: heldInput + slot &* heldInputBytes, count: held))
            while !connections[slot].inputHeld && connections[slot].phase == .active, let bytes = table.nextParked(slot) {
                receive(slot, bytes)
            }
            if !connections[slot].inputHeld && connections[slot].phase == .active && !table.resumeReceiving(slot, ring: ring) {
                // No submission queue entry for the receive: again next turn, nothing held.
                connections[slot].inputHeld = true
                queueHeld(slot)
            }
            resumed &+= 1
        }
        return resumed
    }

    @inline(__always)
    mutating func queueHeld(_ slot: Int) {
        var at = heldFirst &+ heldConnections
        if at >= maxConnections { at &-= maxConnections }
        heldSlots[at] = Int32(slot)
        heldConnections &+= 1
    }

    /// A held connection is closing: it leaves the line and drops what it held (the table
    /// drops what it parked when the slot is freed).
    mutating func dropHeldInput(_ slot: Int) {
        connections[slot].inputHeld = false
        connections[slot].heldLength = 0
        var kept = 0
        for i in 0..<heldConnections {
            var at = heldFirst &+ i
            if at >= maxConnections { at &-= maxConnections }
            let held = heldSlots[at]
            guard Int(held) != slot else { continue }
            var to = heldFirst &+ kept
            if to >= maxConnections { to &-= maxConnections }
            heldSlots[to] = held
            kept &+= 1
        }
        heldConnections = kept
    }
}
