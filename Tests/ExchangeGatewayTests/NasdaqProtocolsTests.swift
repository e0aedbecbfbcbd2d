import ExchangeTestRig
import Foundation
import Testing

/// An independent client: Nasdaq's own `nasdaq-protocols` package (PyPI) logs in to the
/// gateway with its SoupBinTCP client, enters orders that trade, and checks the Accepted and
/// Executed messages it decodes (NasdaqProtocols/ouch42_trade.py says how).
///
/// The package lives in a virtual environment under .build/tools, made by
/// `.ci/nasdaq-protocols` on first use (RTES_NO_INSTALL=1: only look for it). Without python3
/// or the package index the test is skipped, saying why.
@Suite struct NasdaqProtocolsClient {
    static let script = repositoryRoot.appendingPathComponent("Tests/ExchangeGatewayTests/NasdaqProtocols/ouch42_trade.py").path

    @Test(.enabled(if: ExternalTools.nasdaqProtocols.python != nil, ExternalTools.nasdaqProtocolsMissingReason))
    func logsInTradesAndDecodesCorrectAcceptedAndExecutedMessages() throws {
        let python = try #require(ExternalTools.nasdaqProtocols.python)
        let outcome = try withExchange { exchange, _ in
            let result = try ExternalTools.run(python, [Self.script, "127.0.0.1", String(exchange.port)], timeout: 60)
            #expect(result.status == 0, "\(result.output)")
            let line = result.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(result.output)")
            #expect((summary["failures"] as? [String])?.isEmpty == true, "\(summary)")
            #expect(summary["accepted"] as? Int == 3 && summary["executed"] as? Int == 4)
            #expect((summary["trades"] as? [[String: Any]])?.count == 2)
            // Both sessions logged out (the package closes right after Logout).
            #expect(exchange.waitFor { $0.gatewayCount("closed_connections") == 2 })
        }
        #expect(outcome.final.engine["trades"] == 2)
        #expect(outcome.final.gatewayCount("logins_accepted") == 3)
        #expect(outcome.final.gatewayCount("protocol_errors") == 0)
        #expect(outcome.disconnects["logout", default: 0] + outcome.disconnects["peer_closed", default: 0] == 3)
    }
}
