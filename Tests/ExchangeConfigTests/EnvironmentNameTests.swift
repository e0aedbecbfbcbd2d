@testable import ExchangeConfig
import Foundation
import Testing

/// `--help`, configs/README.md and the systemd environment template list exactly the `RTES_*`
/// variables the code reads: the overrides (derived from the schema, read by
/// `EnvironmentOverrides`) and `ConfigurationSchema.otherVariables`, each of which some
/// source file reads by name.
@Suite struct EnvironmentNameTests {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // file, ExchangeConfigTests, Tests
        return url
    }()

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(relative), encoding: .utf8)
    }

    /// Every file under `directory` whose name ends with one of `suffixes`, with its text.
    static func files(under directory: String, endingWith suffixes: [String]) throws -> [(path: String, text: String)] {
        let root = repository.appendingPathComponent(directory)
        let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var found: [(String, String)] = []
        for case let url as URL in enumerator where suffixes.contains(where: { url.path.hasSuffix($0) }) {
            found.append((url.path, try String(contentsOf: url, encoding: .utf8)))
        }
        return found
    }

    /// `RTES_` names (at least one character after the prefix) in `text`.
    static func names(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "RTES_[A-Z0-9][A-Z0-9_]*")
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).map { String(text[Range($0.range, in: text)!]) }
            .map { $0.hasSuffix("_") ? String($0.dropLast()) : $0 })
    }

    static var listed: Set<String> {
        Set((ConfigurationLoader.environmentVariables + ConfigurationLoader.otherEnvironmentVariables).map(\.name))
    }

    @Test func everyRTESNameInTheSourcesIsListed() throws {
        // The C shims' constants (RTES_SCHED_FIFO, RTES_CAP_IPC_LOCK, …) share the prefix but
        // are not variables.
        let shimConstants = try Self.files(under: "CShims", endingWith: [".h", ".c"]).reduce(into: Set<String>()) {
            $0.formUnion(Self.names(in: $1.text))
        }
        let sources = try Self.files(under: "Sources", endingWith: [".swift"])
        #expect(sources.count > 50)
        for (path, text) in sources {
            let unlisted = Self.names(in: text).subtracting(shimConstants).subtracting(Self.listed)
            #expect(unlisted.isEmpty, "\(path) names \(unlisted.sorted()), which --help does not list")
        }
    }

    @Test func everyOtherVariableIsReadBySomeSource() throws {
        let sources = try Self.files(under: "Sources", endingWith: [".swift"])
            .filter { !$0.path.hasSuffix("ConfigurationSchema.swift") }  // where the list itself is
        for variable in ConfigurationLoader.otherEnvironmentVariables {
            // Read as a literal ("RTES_LOG_LEVEL") or through the constant that holds it.
            let reads = sources.filter { $0.text.contains("\"\(variable.name)\"") }
            #expect(!reads.isEmpty, "\(variable.name) is listed in --help but no source reads it")
        }
        #expect(try load(minimalJSON, environment: [Secrets.apiKeysFileVariable: "/k"]).secrets.apiKeysFile?.reveal() == "/k")
    }

    @Test func theHelpTextListsExactlyTheVariables() {
        let help = ConfigurationLoader.environmentHelp()
        #expect(Self.names(in: help) == Self.listed)
        for gone in ["RTES_HMAC_KEY", "RTES_CONFIG"] {
            #expect(!help.contains(gone))
        }
    }

    @Test func theConfigurationGuideListsTheOtherVariablesAndNothingUnread() throws {
        let guide = try Self.text("configs/README.md")
        // RTES_RISK_MAX_ORDERSIZE is the guide's example of a typo the loader catches.
        let mentioned = Self.names(in: guide).subtracting(["RTES_RISK_MAX_ORDERSIZE"])
        #expect(mentioned.isSubset(of: Self.listed), "configs/README.md names \(mentioned.subtracting(Self.listed).sorted())")
        for variable in ConfigurationLoader.otherEnvironmentVariables {
            #expect(guide.contains("| `\(variable.name)` |"), "configs/README.md's table lacks \(variable.name)")
        }
    }

    @Test func theSystemdFilesNameOnlyVariablesTheExchangeReads() throws {
        for file in ["systemd/install.sh", "systemd/rtes.service", "systemd/README.md"] {
            let mentioned = Self.names(in: try Self.text(file))
            #expect(mentioned.isSubset(of: Self.listed), "\(file) names \(mentioned.subtracting(Self.listed).sorted())")
        }
    }
}
