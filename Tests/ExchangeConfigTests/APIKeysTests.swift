import ExchangeCore
@testable import ExchangeConfig
import ExchangeRisk
import Foundation
import Testing

@Suite struct APIKeysTests {
    func problems(_ json: String) -> [ConfigurationIssue] {
        do {
            _ = try APIKeys.parse(json: json, source: "keys.json")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func accountsAreReadInFileOrderWithTheirLimits() throws {
        let keys = try APIKeys.parse(json: #"""
            {"accounts": [
              {"username": "ALICE", "password": "s3cret", "firm": "ALCE"},
              {"username": "BOB", "password": "hunter22", "firm": "BOBS", "max_order_size": 500,
               "max_notional": 25000.5, "max_orders_per_second": 7, "cancel_on_disconnect": true}]}
            """#, source: "keys.json")
        #expect(keys.accounts.map(\.username) == ["ALICE", "BOB"])
        #expect(keys.accounts[0].credential == .plain(Secret("s3cret")))
        #expect(keys.accounts[0].firm == Firm("ALCE"))
        #expect(!keys.accounts[0].cancelOnDisconnect && keys.accounts[1].cancelOnDisconnect)
        let defaults = RiskLimits(maxOrderShares: 100, maxOpenNotional: 1, maxOrdersPerSecond: 2, priceCollarsEnabled: true)
        #expect(keys.accounts[0].limits(defaults: defaults) == defaults)
        #expect(keys.accounts[1].limits(defaults: defaults)
            == RiskLimits(maxOrderShares: 500, maxOpenNotional: 250_005_000, maxOrdersPerSecond: 7, priceCollarsEnabled: true))
    }

    @Test func everyProblemIsReportedWithItsPathAndNoPasswordIsShown() {
        let found = problems(#"""
            {"accounts": [
              {"username": "TOOLONGNAME", "password": "has space", "firm": "abc"},
              {"username": "BOB", "password": "rightbutfartoolong", "firm": "BOBS", "max_order_size": 0, "colour": 1},
              {"username": "BOB", "password": "ok", "firm": "BOBS"},
              {"password": 12345, "firm": "X"}], "extra": true}
            """#)
        #expect(found.paths == ["accounts[0].username", "accounts[0].password", "accounts[0].firm", "accounts[1].password",
                                "accounts[1].max_order_size", "accounts[1].colour", "accounts[2].username",
                                "accounts[3].username", "accounts[3].password", "extra"])
        let text = found.map(\.description).joined(separator: "\n")
        for secret in ["has space", "rightbutfartoolong", "12345"] { #expect(!text.contains(secret), "\(secret) leaked") }
        #expect(found.at("accounts[1].password")[0].message.contains("value not shown"))
        #expect(found.at("accounts[2].username")[0].message.contains("already the username of accounts[1]"))
    }

    @Test func theFileMustListAtLeastOneAccount() {
        #expect(problems(#"{"accounts": []}"#).paths == ["accounts"])
        #expect(problems(#"{}"#).paths == ["accounts"])
        #expect(problems(#"[1]"#).paths == [""])
        #expect(problems(#"{"accounts": [}"#).first?.message.hasPrefix("not valid JSON") == true)
    }

    @Test func aKeyWrittenTwiceAnywhereIsReportedNotSilentlyOverridden() {
        let found = problems(#"""
            {"accounts": [{"username": "ALICE", "password": "s3cret", "firm": "ALCE", "firm": "ALC2"}],
             "accounts": [{"username": "BOB", "password": "hunter22", "firm": "BOBS"}]}
            """#)
        #expect(found.paths.contains("accounts[0].firm"))
        #expect(found.paths.contains("accounts"))
        #expect(found.at("accounts").contains { $0.message.hasPrefix("duplicate key") })
    }

    @Test func aMissingFileIsOneClearIssue() {
        do {
            _ = try APIKeys.load(path: "/nonexistent/keys.json", allowPlainPasswords: false)
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues[0].message.hasPrefix("cannot open the API keys file \"/nonexistent/keys.json\""))
        }
    }

    @Test func printingAnAccountNeverShowsItsPassword() throws {
        let keys = try APIKeys.parse(json: #"{"accounts": [{"username": "ALICE", "password": "s3cret", "firm": "ALCE"}]}"#, source: "k")
        let account = keys.accounts[0]
        for text in ["\(account)", String(describing: account), String(reflecting: account), "\(keys)"] {
            #expect(!text.contains("s3cret"))
        }
        var dumped = ""
        dump(keys, to: &dumped)
        #expect(!dumped.contains("s3cret"))
    }

    @Test func theBundledDevelopmentKeysFileLoads() throws {
        let keys = try APIKeys.load(path: configsDirectory + "/api_keys.dev.json", allowPlainPasswords: false).keys
        #expect(keys.accounts.count >= 2)
    }
}

extension APIKeysTests {
    @Test func anAccountMayListOtherFirmsItCanUse() throws {
        let keys = try APIKeys.parse(json: #"""
            {"accounts": [
              {"username": "ALICE", "password": "s3cret", "firm": "ALCE"},
              {"username": "BOB", "password": "hunter22", "firm": "BOBS", "firms": ["BOB2", "X1"]}]}
            """#, source: "keys.json")
        #expect(keys.accounts[0].firms.isEmpty)
        #expect(keys.accounts[1].firms == [Firm("BOB2")!, Firm("X1")!])
        #expect(keys.accounts[1].mayUse(Firm("BOBS")!) && keys.accounts[1].mayUse(Firm("BOB2")!) && keys.accounts[1].mayUse(Firm("X1")!))
        #expect(!keys.accounts[1].mayUse(Firm("ALCE")!) && !keys.accounts[0].mayUse(Firm("BOB2")!))
    }

    @Test func firmsAreValidatedAtLoadWithTheirPaths() {
        let nine = (1...9).map { "\"F\($0)\"" }.joined(separator: ", ")
        let found = problems(#"""
            {"accounts": [
              {"username": "A1", "password": "p", "firm": "AAAA", "firms": "BBBB"},
              {"username": "A2", "password": "p", "firm": "AAAA", "firms": ["bbbb", 7, "TOOLONG", "OK"]},
              {"username": "A3", "password": "p", "firm": "AAAA", "firms": ["AAAA", "CCCC", "CCCC"]},
              {"username": "A4", "password": "p", "firm": "AAAA", "firms": [\#(nine)]}]}
            """#)
        #expect(found.paths == ["accounts[0].firms", "accounts[1].firms[0]", "accounts[1].firms[1]", "accounts[1].firms[2]",
                                "accounts[2].firms[0]", "accounts[2].firms[2]", "accounts[3].firms"], "\(found)")
        #expect(found.at("accounts[2].firms[0]")[0].message.contains("always allowed"))
        #expect(found.at("accounts[2].firms[2]")[0].message.contains("already accounts[2].firms[1]"))
        #expect(found.at("accounts[3].firms")[0].message.contains("at most 8"))
    }
}
