/// One problem (or warning) in a configuration: which setting, where it was written, and
/// what is wrong in words an operator understands.
public struct ConfigurationIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The setting, e.g. `risk.max_order_size`, `symbols[2].tick_size`; empty when the issue
    /// is about the file or an environment variable as a whole.
    public var path: String
    /// Where the offending value was written: file line and column, or the environment
    /// variable that carried it. Nil for defaults and for whole-file problems.
    public var location: SourceLocation?
    /// What was found and what is allowed.
    public var message: String

    public init(path: String, location: SourceLocation?, message: String) {
        self.path = path
        self.location = location
        self.message = message
    }

    /// `config.json:14:20: risk.max_order_size: must be …; found 0`.
    public var description: String {
        var parts: [String] = []
        if let location { parts.append(location.description) }
        if !path.isEmpty { parts.append(path) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}
