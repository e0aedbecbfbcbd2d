/// Where a configuration value came from: a line and column of a file, or an environment
/// variable (whose value may itself be JSON, as `RTES_SYMBOLS` is).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        /// A file path, or the name a caller gave to in-memory JSON.
        case file(String)
        /// The name of the environment variable that carried the value.
        case environment(String)
    }

    public var source: Source
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int

    public init(source: Source, line: Int, column: Int) {
        self.source = source
        self.line = line
        self.column = column
    }

    /// The start of an environment variable's value.
    public static func environment(_ name: String) -> SourceLocation {
        SourceLocation(source: .environment(name), line: 1, column: 1)
    }

    /// `config.json:12:5`, `environment variable RTES_EXCHANGE_TCP_PORT`, or
    /// `environment variable RTES_SYMBOLS at 1:15` for a position inside a JSON value.
    public var description: String {
        switch source {
        case .file(let path):
            return "\(path):\(line):\(column)"
        case .environment(let name):
            if line == 1 && column == 1 { return "environment variable \(name)" }
            return "environment variable \(name) at \(line):\(column)"
        }
    }

    /// The environment variable this location belongs to, if any.
    public var environmentVariable: String? {
        if case .environment(let name) = source { return name }
        return nil
    }
}
