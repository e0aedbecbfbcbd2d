@testable import ExchangeOps
import Foundation
import Logging
import Synchronization
import Testing

/// The exchange's log formats (`RTES_LOG_FORMAT`): what a log shipper and journald read.
struct OperatorLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex([String]())
        var all: [String] { lines.withLock { $0 } }
    }

    /// 2026-12-08T01:02:03.250000Z.
    static let fixedTime = Date(timeIntervalSince1970: 1_796_691_723.25)

    static func logger(_ format: LogFormat, level: Logger.Level = .info) -> (Logger, Lines) {
        let lines = Lines()
        var handler = OperatorLogHandler(label: "rtes", format: format, now: { fixedTime }) { line in
            lines.lines.withLock { $0.append(line) }
        }
        handler.logLevel = level
        return (Logger(label: "rtes") { _ in handler }, lines)
    }

    @Test func parsesTheFormatAndNamesABadOne() throws {
        #expect(try LogFormat.parse(nil).get() == .text)
        #expect(try LogFormat.parse("").get() == .text)
        #expect(try LogFormat.parse("JSON").get() == .json)
        #expect(try LogFormat.parse("journald").get() == .journald)
        guard case .failure(let error) = LogFormat.parse("xml") else {
            Issue.record("xml accepted")
            return
        }
        #expect(error.description == "RTES_LOG_FORMAT=xml is not a log format; use one of text, json, journald")
    }

    @Test func jsonIsOneObjectPerLineWithEveryFieldEscaped() throws {
        var (logger, lines) = Self.logger(.json)
        logger[metadataKey: "shard"] = "A"
        logger.warning("a \"quoted\" message\nover two lines\u{1}", metadata: ["accounts": .array(["LOAD1", "LOAD2"]), "count": "3"])
        logger.debug("below the level: not written")
        let written = lines.all
        try #require(written.count == 1)
        let line = written[0]
        #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false, "one line: \(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2026-12-08T01:02:03.250000Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "rtes")
        #expect(object["message"] as? String == "a \"quoted\" message\nover two lines\u{1}")
        #expect(object["source"] as? String == "ExchangeOpsTests")
        #expect((object["file"] as? String)?.hasSuffix("OperatorLogHandlerTests.swift") == true)
        #expect(object["line"] as? Int != nil)
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["shard"] as? String == "A")
        #expect(metadata["count"] as? String == "3")
        #expect(metadata["accounts"] as? [String] == ["LOAD1", "LOAD2"])
    }

    @Test func journaldLinesCarryTheSyslogPriority() {
        let (logger, lines) = Self.logger(.journald, level: .trace)
        logger.trace("t")
        logger.debug("d")
        logger.info("i")
        logger.notice("n", metadata: ["b": "2", "a": "1"])
        logger.warning("w")
        logger.error("e\nsecond line")
        logger.critical("c")
        #expect(lines.all == ["<7>rtes: t\n", "<7>rtes: d\n", "<6>rtes: i\n", "<5>rtes: n a=1 b=2\n", "<4>rtes: w\n",
                              "<3>rtes: e ⏎ second line\n", "<2>rtes: c\n"])
    }

    @Test func textLinesHaveTheTimeAndLevel() {
        let (logger, lines) = Self.logger(.text)
        logger.info("started")
        #expect(lines.all == ["2026-12-08T01:02:03.250000Z info rtes: started\n"])
    }
}
