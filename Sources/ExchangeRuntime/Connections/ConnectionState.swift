/// A slot's state in the table.
public enum ConnectionState: UInt8, Sendable {
    case free
    /// Connected: receiving, sending.
    case open
    /// Shut down; the descriptor closes once no receive or send of the kernel's refers to it.
    case closing
}
