// What a day snapshot reads of a session to keep it (docs/DURABILITY.md, the `fix` section):
// the messages its resend store holds. Restoring uses `rebind`, `restore(nextInbound:nextOutbound:)`
// and `replayStore`. Cold path.

extension FIXSession where Store == FIXMessageRing {
    /// The application message kept as `sequence`, if the resend store still holds it.
    public func storedMessage(sequence: UInt64) -> FIXStoredMessage? { store.message(sequence: sequence) }

    /// Messages the resend store holds at most (the newest ones).
    public var storeSlotCount: Int { store.slotCount }

    /// The longest body the resend store keeps.
    public var storeSlotSize: Int { store.slotSize }
}
