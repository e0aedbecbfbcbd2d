@testable import ExchangeConfig
import Foundation
import Glibc
import Testing

/// Configurations that cannot work are refused, each with a message that names the fix.
@Suite struct ImpossibleConfigurations {
    @Test func refusesALotSizeAboveTheMaximumOrderSize() throws {
        let found = issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "lot_size": 500}]"#,
                                    #""risk": {"max_order_size": 100}"#))
        let issue = try #require(found.at("symbols[0].lot_size").first)
        #expect(issue.message.contains("above risk.max_order_size (100)"))
        #expect(issue.message.contains("lower lot_size or raise risk.max_order_size"))
        #expect(issues(document(symbols: #"[{"symbol": "AAPL", "reference_price": 150, "lot_size": 100}]"#,
                                #""risk": {"max_order_size": 100}"#)).isEmpty)
    }

    @Test func refusesAMulticastGroupReservedForTheLocalLinkOrNotMulticast() throws {
        for group in ["224.0.0.1", "224.0.0.251", "10.0.0.1", "240.0.0.1"] {
            let found = issues(document(#""exchange": {"udp_multicast_group": "\#(group)"}"#))
            let issue = try #require(found.at("exchange.udp_multicast_group").first, "\(group) was accepted")
            #expect(issue.message.contains("224.0.1.0 to 239.255.255.255"))
        }
        #expect(issues(document(#""exchange": {"udp_multicast_group": "224.0.1.1"}"#)).isEmpty)
    }

    @Test func refusesAFIFOAsTheConfigurationFileAtOnce() throws {
        let path = NSTemporaryDirectory() + "rtes-fifo-\(getpid())-\(UUID().uuidString).json"
        try #require(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        // No writer ever opens the FIFO: a blocking open would wait forever. Bounded by the
        // clock, not by a sleep: the refusal must come well inside a second.
        let started = ContinuousClock.now
        var refusal: ConfigurationError?
        do { _ = try ConfigurationLoader.load(path: path, environment: [:], host: twoCPUs) } catch { refusal = error }
        #expect(ContinuousClock.now - started < .seconds(1))
        let issue = try #require(refusal?.issues.first)
        #expect(issue.message.contains("is a FIFO (named pipe), not a regular file"))
    }

    @Test func refusesAFIFOAsTheAPIKeysFileAtOnce() throws {
        let path = NSTemporaryDirectory() + "rtes-keys-fifo-\(getpid())-\(UUID().uuidString)"
        try #require(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        var refusal: Error?
        do { _ = try APIKeys.load(path: path) } catch { refusal = error }
        #expect(String(describing: try #require(refusal)).contains("API keys file"))
        #expect(String(describing: try #require(refusal)).contains("FIFO"))
    }

    @Test func refusesADirectoryAsTheConfigurationFile() throws {
        var refusal: ConfigurationError?
        do { _ = try ConfigurationLoader.load(path: NSTemporaryDirectory(), environment: [:], host: twoCPUs) } catch { refusal = error }
        #expect(try #require(refusal?.issues.first).message.contains("a directory, not a regular file"))
    }
}
