/// Checks that apply to every object in the document, whether or not the schema knows
/// it: duplicate keys, and (`secrets`) keys that look like secrets (which belong in the
/// environment). The API keys file, which holds passwords by design, asks for the first only.
enum DocumentAudit {
    static func issues(in root: JSONValue, secrets: Bool = true) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        visit(root, path: "", secrets: secrets, into: &issues)
        return issues
    }

    private static func visit(_ value: JSONValue, path: String, secrets: Bool, into issues: inout [ConfigurationIssue]) {
        switch value.kind {
        case .object(let object):
            for (first, duplicate) in object.duplicates {
                issues.append(ConfigurationIssue(
                    path: ConfigurationPath.member(path, duplicate.key), location: duplicate.keyLocation,
                    message: "duplicate key: it is already defined at \(place(first.keyLocation, relativeTo: duplicate.keyLocation)); each key may appear only once"))
            }
            for member in object.members {
                let memberPath = ConfigurationPath.member(path, member.key)
                let secret = ConfigurationSchema.secretKey(member.key)
                if secrets && secret.isSecret {
                    let message = secret.variable.map {
                        "looks like a secret, and secrets must not be in the configuration file; they come only from the environment variable \($0)"
                    } ?? "looks like a secret, and secrets must not be in the configuration file; the exchange reads none from it (the accounts come from the API keys file named by \(Secrets.apiKeysFileVariable)): remove it"
                    issues.append(ConfigurationIssue(path: memberPath, location: member.keyLocation, message: message))
                }
                visit(member.value, path: memberPath, secrets: secrets, into: &issues)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                visit(element, path: ConfigurationPath.element(path, index), secrets: secrets, into: &issues)
            }
        case .string, .number, .bool, .null:
            break
        }
    }

    /// `line 3, column 5` when both are in the same source, else the full location.
    private static func place(_ location: SourceLocation, relativeTo other: SourceLocation) -> String {
        location.source == other.source ? "line \(location.line), column \(location.column)" : location.description
    }
}
