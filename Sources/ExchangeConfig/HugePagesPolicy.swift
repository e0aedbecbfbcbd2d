/// `performance.hugepages`: whether large pools are backed by huge pages.
public enum HugePagesPolicy: String, Sendable, CaseIterable {
    /// Use huge pages when available; otherwise fall back to normal pages and log it.
    case auto
    /// Fail to start without huge pages.
    case require
    /// Never use huge pages.
    case off
}
