import ExchangeConfig
import Foundation
import Logging
import Synchronization

/// How the exchange writes its log lines to standard error (`RTES_LOG_FORMAT`).
///
/// - `text` (default): swift-log's stream format, a timestamp, level, label and message.
/// - `json`: one JSON object per line — `time` (RFC 3339, UTC, microseconds), `level`,
///   `label`, `message`, `source`, `file`, `line` and `metadata` (an object, when there is any)
///   — for a log shipper (Vector, Fluent Bit, Loki's promtail) or `jq`.
/// - `journald`: the message with the syslog priority prefix `<N>` that systemd-journald reads
///   from a service's stream (sd-daemon(3); `SyslogLevelPrefix=` is on by default), so that
///   `journalctl -p warning -u rtes` filters by level; no timestamp (journald adds its own).
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json, journald

    /// `RTES_LOG_FORMAT`, or `text` when unset or empty.
    public static func parse(_ text: String?) -> Result<LogFormat, FormatError> {
        guard let text, !text.isEmpty else { return .success(.text) }
        if let format = LogFormat(rawValue: text.lowercased()) { return .success(format) }
        return .failure(FormatError(text: text))
    }

    public struct FormatError: Error, CustomStringConvertible {
        public var text: String
        public var description: String {
            "RTES_LOG_FORMAT=\(text) is not a log format; use one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}

/// A swift-log handler writing `json` or `journald` lines (`LogFormat`); `text` stays
/// swift-log's `StreamLogHandler`. Each record is one `write(2)` of one whole line, so lines
/// from different threads never interleave. Off every hot path: the agents do not log.
public struct OperatorLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    public let format: LogFormat
    /// Receives each finished line, newline included (standard error unless a test gives one).
    let sink: @Sendable (String) -> Void
    /// The time of a record (a test fixes it).
    let now: @Sendable () -> Date

    public init(label: String, format: LogFormat, metadataProvider: Logger.MetadataProvider? = nil,
                now: @escaping @Sendable () -> Date = { Date() },
                sink: @escaping @Sendable (String) -> Void = OperatorLogHandler.standardError) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
        self.now = now
        self.sink = sink
    }

    /// The handler `LoggingSystem.bootstrap` should make for `format` at `level`.
    public static func factory(format: LogFormat, level: Logger.Level) -> @Sendable (String) -> any LogHandler {
        { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json, .journald:
                var handler = OperatorLogHandler(label: label, format: format)
                handler.logLevel = level
                return handler
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let given = event.metadata { merged.merge(given) { _, new in new } }
        let line: String
        switch format {
        case .text:
            line = "\(Self.rfc3339(now())) \(event.level) \(label): " + plainText(event, merged)
        case .json:
            line = jsonLine(event, merged)
        case .journald:
            line = journaldLine(event, merged)
        }
        sink(line)
    }

    func jsonLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var out = "{\"time\":"
        out += jsonString(Self.rfc3339(now()))
        out += ",\"level\":"
        out += jsonString(event.level.rawValue)
        out += ",\"label\":"
        out += jsonString(label)
        out += ",\"message\":"
        out += jsonString(event.message.description)
        out += ",\"source\":"
        out += jsonString(event.source)
        out += ",\"file\":"
        out += jsonString(event.file)
        out += ",\"line\":\(event.line)"
        if !metadata.isEmpty {
            out += ",\"metadata\":"
            Self.appendJSON(.dictionary(metadata), to: &out)
        }
        out += "}\n"
        return out
    }

    func journaldLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        "<\(Self.syslogPriority(event.level))>\(label): " + plainText(event, metadata)
    }

    /// The message and `key=value` metadata on one line, newline-terminated. One record, one
    /// line: a newline inside the message would start another journal entry without the
    /// priority prefix, so it is shown as ⏎.
    func plainText(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var out = event.message.description.replacingOccurrences(of: "\n", with: " ⏎ ")
        for key in metadata.keys.sorted() {
            out += " \(key)=\(metadata[key]!.description.replacingOccurrences(of: "\n", with: " ⏎ "))"
        }
        out += "\n"
        return out
    }

    /// syslog(3) priorities as journald reads them: trace and debug 7, info 6, notice 5,
    /// warning 4, error 3, critical 2.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func appendJSON(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s): out += jsonString(s)
        case .stringConvertible(let c): out += jsonString(c.description)
        case .array(let values):
            out += "["
            for (i, v) in values.enumerated() {
                if i > 0 { out += "," }
                appendJSON(v, to: &out)
            }
            out += "]"
        case .dictionary(let dictionary):
            out += "{"
            for (i, key) in dictionary.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                out += jsonString(key)
                out += ":"
                appendJSON(dictionary[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// `2026-12-08T01:02:03.456789Z`.
    static func rfc3339(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let micros = Int(((seconds - Double(whole)) * 1_000_000).rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(micros, 999_999))
    }

    /// Writes a whole line to file descriptor 2 (retrying a partial or interrupted write).
    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
