/// Why a snapshot could not be taken or restored, in words an operator can act on. A
/// snapshot is external input: whatever its bytes, restoring it ends in the restored state
/// or in one of these, never in a crash.
public enum EngineSnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A snapshot is taken between commands: one is suspended, or events are not drained.
    case notAtCommandBoundary(String)
    /// Restoring needs an engine that has processed nothing.
    case engineNotFresh(String)
    /// The bytes end before `what` (at byte `offset` of the section).
    case truncated(what: String, offset: Int)
    /// Not a snapshot of this kind (its magic number is wrong).
    case notASnapshot(String)
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The engine restoring it is configured differently from the one that took it.
    case configurationMismatch(String)
    /// The bytes are damaged: a value out of range, an impossible structure, or a state
    /// hash that does not match the state they describe.
    case damaged(String)

    public var description: String {
        switch self {
        case .notAtCommandBoundary(let why): "snapshot refused: not at a command boundary: \(why)"
        case .engineNotFresh(let why): "restore refused: the engine is not fresh: \(why)"
        case .truncated(let what, let offset): "snapshot damaged: it ends at byte \(offset), before \(what)"
        case .notASnapshot(let why): "not a snapshot: \(why)"
        case .unsupportedVersion(let found, let supported): "snapshot format version \(found) is not supported (this build reads version \(supported))"
        case .configurationMismatch(let why): "snapshot refused: the configuration differs from the snapshot's: \(why)"
        case .damaged(let why): "snapshot damaged: \(why)"
        }
    }
}
