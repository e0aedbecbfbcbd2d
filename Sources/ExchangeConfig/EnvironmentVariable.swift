/// An environment variable the exchange reads, for `--help` and documentation.
public struct EnvironmentVariable: Sendable, Hashable {
    public var name: String
    /// The configuration path it overrides (`risk.max_order_size`), nil for secrets and
    /// other variables.
    public var path: String?
    public var meaning: String
    /// The documented default, as JSON text, when the setting has one.
    public var defaultValue: String?

    public init(name: String, path: String?, meaning: String, defaultValue: String?) {
        self.name = name
        self.path = path
        self.meaning = meaning
        self.defaultValue = defaultValue
    }
}
