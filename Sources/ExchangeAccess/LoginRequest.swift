import ExchangeWire

/// A Login Request a service hands to the authenticator: fixed size, so that it travels on
/// an SPSC ring and the service's loop neither allocates nor waits. `slot` and `generation`
/// name the connection, so that an answer for a connection that has gone (its slot reused)
/// is recognised and ignored; `descriptor` is the connection's socket, which the
/// authenticator asks for the source address (off the service's thread).
public struct LoginRequest: BitwiseCopyable, Sendable {
    public var username: SoupUsername
    public var password: SoupPassword
    public var descriptor: Int32
    public var slot: Int32
    public var generation: UInt32

    @inlinable
    public init(username: SoupUsername, password: SoupPassword, descriptor: Int32, slot: Int32, generation: UInt32) {
        self.username = username
        self.password = password
        self.descriptor = descriptor
        self.slot = slot
        self.generation = generation
    }
}
