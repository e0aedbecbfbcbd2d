/// A sensitive string (a key, or where to find one) that never shows its value when
/// printed, interpolated, debug-printed, dumped or reflected. Call `reveal()` at the one
/// place that needs the value.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself. Do not log it.
    public func reveal() -> String { value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    /// No children, so `dump` and `Mirror(reflecting:)` see nothing inside.
    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }
}
