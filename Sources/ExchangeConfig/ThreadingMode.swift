/// `performance.threading_mode`.
public enum ThreadingMode: String, Sendable, CaseIterable {
    /// One thread per agent (gateway, engine, market data).
    case dedicated
    /// One thread runs every agent; for small machines and development.
    case shared
}
