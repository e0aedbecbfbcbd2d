#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads, overrides and validates the exchange configuration, reporting every problem at once.
///
/// Precedence: documented default < configuration file < `RTES_*` environment override.
/// Secrets are read only from the environment (`RTES_API_KEYS_FILE`, `Secrets`).
public enum ConfigurationLoader {
    /// Larger files are refused: a configuration is a few kilobytes.
    public static let maximumFileSize = 4 << 20
    /// At most this many issues are reported; the rest are summarised in one line.
    public static let maximumReportedIssues = 500

    /// Loads the file at `path`. A missing or unreadable file is a single issue.
    public static func load(path: String, environment: [String: String], host: HostFacts) throws(ConfigurationError) -> LoadedConfiguration {
        let bytes: [UInt8]
        switch readFile(path) {
        case .success(let contents): bytes = contents
        case .failure(let issue): throw ConfigurationError(issues: [issue])
        }
        return try load(bytes: bytes, source: .file(path), environment: environment, host: host)
    }

    /// Loads configuration text; `source` names it in issues (a path, or e.g. `"<inline>"`).
    public static func load(json: String, source: String, environment: [String: String], host: HostFacts) throws(ConfigurationError) -> LoadedConfiguration {
        try load(bytes: Array(json.utf8), source: .file(source), environment: environment, host: host)
    }

    static func load(bytes: [UInt8], source: SourceLocation.Source, environment: [String: String], host: HostFacts) throws(ConfigurationError) -> LoadedConfiguration {
        var issues: [ConfigurationIssue] = []
        let overrides = EnvironmentOverrides(environment: environment)
        let (secrets, warningsFromSecrets) = Secrets.from(environment: environment)
        var warnings = warningsFromSecrets
        var configuration: ExchangeConfiguration?
        do {
            var root = try JSONParser.parse(bytes, source: source)
            if var object = root.object {
                issues += overrides.apply(to: &object)
                root = JSONValue(.object(object), at: root.location)
            }
            issues += DocumentAudit.issues(in: root)
            var decoder = ConfigurationDecoder(host: host)
            configuration = decoder.decode(root)
            issues += decoder.issues
            warnings += decoder.warnings
        } catch {
            issues.append(ConfigurationIssue(path: "", location: error.location, message: "not valid JSON: \(error.message)"))
        }
        issues += overrides.issues
        if issues.isEmpty, var sharded = configuration, !sharded.exchange.shard.isEmpty {
            // A sharded exchange (docs/SHARDS.md): only its shard's symbols, its own leader key and journal.
            do throws(ConfigurationError) {
                let map = try ShardMap.load(path: sharded.exchange.shardMap)
                issues += sharded.restrict(toShard: sharded.exchange.shard, of: map, mapSource: quoted(sharded.exchange.shardMap))
                configuration = sharded
            } catch {
                issues += error.issues.map { ConfigurationIssue(path: "exchange.shard_map", location: nil, message: "\($0)") }
            }
        }
        guard issues.isEmpty, let configuration else { throw ConfigurationError(issues: capped(inReadingOrder(issues))) }
        return LoadedConfiguration(configuration: configuration, secrets: secrets, warnings: warnings)
    }

    // MARK: Documentation

    /// Every override variable, in schema order, with the path it sets.
    public static let environmentVariables: [EnvironmentVariable] = ConfigurationSchema.fields.compactMap { field in
        guard let name = field.environmentVariable else { return nil }
        let meaning = field.path == "symbols" ? "JSON array that replaces symbols, e.g. '[{\"symbol\":\"AAPL\",\"reference_price\":150}]'" : field.meaning
        return EnvironmentVariable(name: name, path: field.path, meaning: meaning, defaultValue: field.defaultValue)
    }

    /// The other `RTES_*` variables: the secret `RTES_API_KEYS_FILE`, `RTES_LOG_LEVEL` and the
    /// tools' passwords.
    public static let otherEnvironmentVariables: [EnvironmentVariable] = ConfigurationSchema.otherVariables.map {
        EnvironmentVariable(name: $0.name, path: nil, meaning: $0.meaning, defaultValue: nil)
    }

    /// A table of every environment variable, for `--help`.
    public static func environmentHelp() -> String {
        let all = environmentVariables + otherEnvironmentVariables
        let width = all.map(\.name.count).max() ?? 0
        var lines = ["Environment overrides (RTES_<SECTION>_<KEY>; they take precedence over the file):"]
        for variable in environmentVariables {
            let defaultText = variable.defaultValue.map { " [default \($0)]" } ?? " [required unless in the file]"
            lines.append("  " + variable.name.padding(to: width) + "  " + variable.meaning + defaultText)
        }
        lines.append("Other variables (secrets are accepted only here, never in the file):")
        for variable in otherEnvironmentVariables {
            lines.append("  " + variable.name.padding(to: width) + "  " + variable.meaning)
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Files

    static func readFile(_ path: String, describedAs kind: String = "configuration file") -> Result<[UInt8], ConfigurationIssue> {
        func failure(_ what: String, _ code: Int32) -> Result<[UInt8], ConfigurationIssue> {
            let reason = String(cString: strerror(code))
            return .failure(ConfigurationIssue(path: "", location: nil, message: "cannot \(what) the \(kind) \(quoted(path)): \(reason) (errno \(code))"))
        }
        // O_NONBLOCK: a FIFO (or a device) at the path must not hang the open or the read;
        // anything but a regular file is refused before a byte is read.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return failure("open", errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return failure("examine", errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let what = switch info.st_mode & S_IFMT {
            case S_IFIFO: "a FIFO (named pipe)"
            case S_IFDIR: "a directory"
            case S_IFCHR, S_IFBLK: "a device"
            case S_IFSOCK: "a socket"
            default: "not a regular file"
            }
            return .failure(ConfigurationIssue(
                path: "", location: nil,
                message: "the \(kind) \(quoted(path)) is \(what == "not a regular file" ? what : what + ", not a regular file"); give the path of the file itself"))
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                return failure("read", code)
            }
            if count == 0 { return .success(contents) }
            contents += chunk[..<count]
            if contents.count > maximumFileSize {
                return .failure(ConfigurationIssue(
                    path: "", location: nil,
                    message: "the \(kind) \(quoted(path)) is larger than \(maximumFileSize >> 20) MiB; is it the right file?"))
            }
        }
    }

    /// File issues by line and column, then environment issues by variable, then the rest;
    /// issues at the same place keep the order they were found in.
    private static func inReadingOrder(_ issues: [ConfigurationIssue]) -> [ConfigurationIssue] {
        func key(_ issue: ConfigurationIssue) -> (Int, String, Int, Int) {
            guard let location = issue.location else { return (2, "", 0, 0) }
            switch location.source {
            case .file(let name): return (0, name, location.line, location.column)
            case .environment(let name): return (1, name, location.line, location.column)
            }
        }
        return issues.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    private static func capped(_ issues: [ConfigurationIssue]) -> [ConfigurationIssue] {
        guard issues.count > maximumReportedIssues else { return issues }
        return Array(issues.prefix(maximumReportedIssues)) + [ConfigurationIssue(
            path: "", location: nil,
            message: "… and \(issues.count - maximumReportedIssues) more issues not shown")]
    }
}

private extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
