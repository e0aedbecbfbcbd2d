import ExchangeAccess
import ExchangeConfig
import Foundation
import Testing

/// The API keys file as the exchange reads it: permissions, plain entries, and secrets kept
/// out of every message, even for files mangled at random.
@Suite(.serialized) struct KeysFileTests {
    static let hashed = #"{"accounts": [{"username": "ALICE", "secret": "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "firm": "ALCE"}]}"#
    static let plain = #"{"accounts": [{"username": "ALICE", "password": "Zq8vKx2pW9", "firm": "ALCE"}, {"username": "BOB", "password": "hunter22", "firm": "BOBS", "max_order_size": 500}]}"#

    /// A file in a fresh temporary directory, removed by the caller's `defer`.
    static func file(_ text: String, mode: mode_t) throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("keys.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, mode) == 0)
        return (path, directory)
    }

    @Test func aFileOthersMayWriteIsRefusedAndOneTheyMayReadIsWarnedAbout() throws {
        for mode: mode_t in [0o620, 0o602, 0o666] {
            let (path, directory) = try Self.file(Self.hashed, mode: mode)
            defer { try? FileManager.default.removeItem(at: directory) }
            do {
                _ = try APIKeys.load(path: path, allowPlainPasswords: false)
                Issue.record("read a keys file of mode \(String(mode, radix: 8))")
            } catch {
                #expect(error.description.contains("chmod go-w"), "\(error)")
            }
        }
        let (path, directory) = try Self.file(Self.hashed, mode: 0o644)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (keys, warnings) = try APIKeys.load(path: path, allowPlainPasswords: false)
        #expect(keys.accounts.count == 1)
        #expect(warnings.count == 1 && warnings[0].message.contains("chmod o-r"))
        let (_, quiet) = try { () throws -> (APIKeys, [ConfigurationIssue]) in
            #expect(chmod(path, 0o600) == 0)
            return try APIKeys.load(path: path, allowPlainPasswords: false)
        }()
        #expect(quiet.isEmpty)
    }

    @Test func plainPasswordsAreWarnedAboutInDevelopmentAndRefusedOtherwise() throws {
        let (path, directory) = try Self.file(Self.plain, mode: 0o600)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (keys, warnings) = try APIKeys.load(path: path, allowPlainPasswords: true)
        #expect(keys.accounts.count == 2)
        #expect(warnings.count == 2 && warnings.allSatisfy { $0.message.contains("plain text") })
        do {
            _ = try APIKeys.load(path: path, allowPlainPasswords: false)
            Issue.record("read plain passwords outside development")
        } catch {
            #expect(error.issues.count == 2)
            #expect(error.issues.allSatisfy { $0.message.contains("rtes-keys hash") && $0.message.contains("auth.allow_unhashed_accounts") })
            #expect(!error.description.contains("Zq8vKx2pW9") && !error.description.contains("hunter22"))
        }
    }

    @Test func anAccountWithBothASecretAndAPasswordIsOneClearIssue() {
        let json = #"{"accounts": [{"username": "ALICE", "password": "Zq8vKx2pW9", "secret": "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "firm": "ALCE"}]}"#
        do {
            _ = try APIKeys.parse(json: json, source: "keys.json")
            Issue.record("read an account with two credentials")
        } catch {
            #expect(error.issues.count == 1 && error.description.contains("not both"))
            #expect(!error.description.contains("Zq8vKx2pW9"))
        }
    }

    /// Every single-byte deletion, duplication and replacement of a keys file (and seeded
    /// random multi-byte damage): whatever the problems, no secret of the file is in them.
    @Test func mangledKeysFilesNeverShowASecret() {
        let secrets = ["Zq8vKx2pW9", "hunter22", "DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "c2FsdHNhbHRzYWx0"]
        let original = Array(#"{"accounts": [{"username": "ALICE", "password": "Zq8vKx2pW9", "firm": "ALCE"}, {"username": "BOB", "firm": "BOBS", "password": "hunter22"}, {"username": "CAROL", "secret": "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "firm": "CRL"}]}"#.utf8)
        var variants: [[UInt8]] = []
        let replacements: [UInt8] = Array(#"":,{}[] x1$"#.utf8)
        for i in 0..<original.count {
            var deleted = original
            deleted.remove(at: i)
            variants.append(deleted)
            var doubled = original
            doubled.insert(original[i], at: i)
            variants.append(doubled)
            for byte in replacements {
                var replaced = original
                replaced[i] = byte
                variants.append(replaced)
            }
        }
        var seed: UInt64 = 0x5EED
        func random(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for _ in 0..<2_000 {
            var bytes = original
            for _ in 0..<(1 + random(4)) {
                let at = random(bytes.count)
                switch random(3) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(replacements[random(replacements.count)], at: at)
                default: bytes[at] = replacements[random(replacements.count)]
                }
            }
            variants.append(bytes)
        }
        var failures = 0
        var leaks: [String] = []
        for bytes in variants {
            do {
                _ = try APIKeys.parse(json: String(decoding: bytes, as: UTF8.self), source: "keys.json")
            } catch {
                failures += 1
                let text = error.description
                if secrets.contains(where: { text.contains($0) }) { leaks.append(text) }
            }
        }
        #expect(failures > variants.count / 2)
        #expect(leaks.isEmpty, "\(leaks.prefix(3))")
    }
}
