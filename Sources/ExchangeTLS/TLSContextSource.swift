import Synchronization

/// The server context new connections use, replaceable while the exchange runs: a reload
/// (on SIGHUP, by whoever handles the signal) reads the certificate, key and CA files again
/// and, if they make a valid context, new connections use it; connections already open keep
/// the context they started with. A failed reload keeps the old context and says why.
public final class TLSContextSource: Sendable {
    public let settings: TLSServerSettings
    private let current: Mutex<TLSContext>
    private let reloads: Atomic<Int>

    public init(settings: TLSServerSettings) throws(TLSFailure) {
        self.settings = settings
        current = Mutex(try settings.makeContext())
        reloads = Atomic(0)
    }

    /// The context for a connection accepted now. Takes a lock: call it when a connection
    /// is accepted, not per message.
    public var context: TLSContext { current.withLock { $0 } }

    /// How many reloads have succeeded: an agent that keeps the context it got compares
    /// this (no lock) to know when to take the new one.
    public var reloadCount: Int { reloads.load(ordering: .acquiring) }

    /// Builds a new context from the files; on success new connections use it.
    public func reload() throws(TLSFailure) {
        let fresh = try settings.makeContext()
        current.withLock { $0 = fresh }
        reloads.add(1, ordering: .releasing)
    }
}
