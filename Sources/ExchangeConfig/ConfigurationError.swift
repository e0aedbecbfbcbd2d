/// Everything wrong with a configuration, found in one pass.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigurationIssue]

    public init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// Every issue, one per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
