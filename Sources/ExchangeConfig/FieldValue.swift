/// The outcome of reading one setting: absent (use the default), invalid (an issue was
/// recorded), or a valid value.
enum FieldValue<Value> {
    case missing
    case invalid
    case valid(Value)

    func map<Other>(_ transform: (Value) -> Other) -> FieldValue<Other> {
        switch self {
        case .missing: .missing
        case .invalid: .invalid
        case .valid(let value): .valid(transform(value))
        }
    }

    /// The value, the default when missing, nil when invalid.
    func or(_ defaultValue: Value) -> Value? {
        switch self {
        case .missing: defaultValue
        case .invalid: nil
        case .valid(let value): value
        }
    }

    /// Stores a valid value into `target`; leaves the default otherwise.
    func assign(to target: inout Value) {
        if case .valid(let value) = self { target = value }
    }
}
