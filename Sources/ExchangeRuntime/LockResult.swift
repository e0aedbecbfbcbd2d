/// Whether a `MemoryRegion` was locked into RAM (mlock). A failed lock is reported,
/// not thrown: the region is usable, only not guaranteed resident.
public enum LockResult: Sendable, Hashable, CustomStringConvertible {
    case notRequested
    case locked
    case failed(SystemError)

    public var description: String {
        switch self {
        case .notRequested: "not locked"
        case .locked: "locked"
        case .failed(let error): "lock failed (\(error.message))"
        }
    }
}
