/// Whether a kernel feature works here, and if not, the error that said so.
public enum FeatureSupport: Sendable, Hashable, CustomStringConvertible {
    case available
    case unavailable(SystemError)

    public var isAvailable: Bool { self == .available }

    init(call: String, shimResult: Int32) {
        self = shimResult >= 0 ? .available : .unavailable(SystemError(call: call, result: shimResult))
    }

    public var description: String {
        switch self {
        case .available: "yes"
        case .unavailable(let error): "no (\(error.message))"
        }
    }
}
