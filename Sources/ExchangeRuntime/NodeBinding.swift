/// Where a `MemoryRegion` was bound on a NUMA host.
public enum NodeBinding: Sendable, Hashable, CustomStringConvertible {
    /// No node was asked for; the kernel's default policy (first touch) applies.
    case notRequested
    /// Bound (MPOL_BIND) to this node before first touch, and found there.
    case bound(node: Int)
    /// The node asked for was not bound. ENOSYS: no NUMA support; ENODEV: no such node;
    /// otherwise the failing set_mempolicy/mbind errno.
    case notBound(requested: Int, reason: SystemError)

    /// The node the memory is bound to, if any.
    public var node: Int? {
        if case .bound(let node) = self { return node }
        return nil
    }

    public var description: String {
        switch self {
        case .notRequested: "no node binding"
        case .bound(let node): "node \(node)"
        case .notBound(let requested, let reason): "node \(requested) not bound (\(reason.message))"
        }
    }
}
