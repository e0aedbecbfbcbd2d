import ExchangeConfig
import Foundation
import Testing

extension ExchangeProcess {
    /// `trading_exchange --help` names exactly the `RTES_*` variables the code reads: every
    /// override and every other variable (`ConfigurationLoader`), and nothing else.
    @Test(.enabled(if: built, "trading_exchange is not built: run `swift build --build-tests`"))
    func helpListsExactlyTheVariablesTheCodeReads() throws {
        let (process, out, err) = try Self.start(["--help"])
        let run = Self.finish(process, out, err)
        #expect(run.status == 0, "stderr: \(run.errors)")
        let regex = try NSRegularExpression(pattern: "RTES_[A-Z0-9][A-Z0-9_]*")
        let text = run.output
        let named = Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text))
            .map { String(text[Range($0.range, in: text)!]) }.map { $0.hasSuffix("_") ? String($0.dropLast()) : $0 })
        let read = Set((ConfigurationLoader.environmentVariables + ConfigurationLoader.otherEnvironmentVariables).map(\.name))
        #expect(named == read, "listed but not read: \(named.subtracting(read).sorted()); read but not listed: \(read.subtracting(named).sorted())")
    }
}
