/// The `RTES_*` environment variables that override configuration values:
/// `RTES_` + the setting's path upper-cased with dots replaced by underscores
/// (`risk.max_order_size` → `RTES_RISK_MAX_ORDER_SIZE`), plus `RTES_SYMBOLS`, a JSON
/// array that replaces `symbols`. Values of string settings are taken verbatim; other
/// values are read as a JSON number or `true`/`false` when they look like one, else as a
/// string (which validation then reports). Any other `RTES_*` variable that is not one of
/// `ConfigurationSchema.otherVariables` is reported, to catch typos.
struct EnvironmentOverrides {
    struct Override {
        var variable: String
        var path: [String]
        var value: JSONValue
    }

    private(set) var overrides: [Override] = []
    /// Problems with the variables themselves (unknown names, unparsable `RTES_SYMBOLS`).
    private(set) var issues: [ConfigurationIssue] = []

    static let prefix = "RTES_"
    static let symbolsVariable = "RTES_SYMBOLS"

    init(environment: [String: String]) {
        let expected = Set(ConfigurationSchema.otherVariables.map(\.name))
        for (name, raw) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(Self.prefix) {
            if expected.contains(name) { continue }
            let location = SourceLocation.environment(name)
            if name == Self.symbolsVariable || ConfigurationSchema.fieldsByEnvironmentName[name] != nil,
               raw.allSatisfy(\.isWhitespace) {
                issues.append(ConfigurationIssue(path: "", location: location,
                                                 message: "is set but empty; unset it to use the configuration file's value"))
                continue
            }
            if name == Self.symbolsVariable {
                do {
                    let value = try JSONParser.parse(raw, source: .environment(name))
                    overrides.append(Override(variable: name, path: ["symbols"], value: value))
                } catch {
                    issues.append(ConfigurationIssue(path: "symbols", location: error.location,
                                                     message: "is not valid JSON: \(error.message)"))
                }
            } else if let field = ConfigurationSchema.fieldsByEnvironmentName[name] {
                let value = Self.scalar(raw, for: field.type, at: location)
                overrides.append(Override(variable: name, path: field.path.split(separator: ".").map(String.init), value: value))
            } else {
                let known = ConfigurationSchema.fieldsByEnvironmentName.keys.sorted() + [Self.symbolsVariable] + expected.sorted()
                let guess = closestMatch(to: name, among: known).map { " (did you mean \($0)?)" } ?? ""
                issues.append(ConfigurationIssue(
                    path: "", location: location,
                    message: "is not a known RTES variable\(guess); configuration overrides are RTES_<SECTION>_<KEY>, e.g. RTES_RISK_MAX_ORDER_SIZE (run with --help to list them)"))
            }
        }
    }

    /// Applies every override to the top-level object of the document.
    func apply(to root: inout JSONObject) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        for override in overrides {
            if let blocked = root.set(path: override.path[...], to: override.value) {
                let blockedPath = blocked.joined(separator: ".")
                issues.append(ConfigurationIssue(
                    path: override.path.joined(separator: "."), location: override.value.location,
                    message: "cannot be applied because \(blockedPath) in the configuration file is not an object"))
            }
        }
        return issues
    }

    /// A variable's value as JSON: verbatim for string settings; otherwise the text without
    /// surrounding whitespace, as a number or boolean when it is one, else as a string.
    static func scalar(_ raw: String, for type: ConfigurationSchema.Field.ValueType, at location: SourceLocation) -> JSONValue {
        if type == .string { return JSONValue(.string(raw), at: location) }
        let trimmed = String(raw.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        if let parsed = try? JSONParser.parse(trimmed, source: location.source) {
            switch parsed.kind {
            case .number, .bool: return JSONValue(parsed.kind, at: location)
            case .object, .array, .string, .null: break
            }
        }
        return JSONValue(.string(trimmed), at: location)
    }
}
