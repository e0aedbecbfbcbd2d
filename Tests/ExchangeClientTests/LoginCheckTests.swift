import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Synchronization
import Testing

/// Logins checked by the authenticator, off the gateway's thread: hashed secrets end to end,
/// and a storm of wrong passwords that a trading client never notices.
@Suite(.serialized) struct LoginCheckTests {
    @Test func aHashedSecretLogsInAndAWrongPasswordDoesNot() throws {
        let exchange = try TestExchange()
        defer { _ = exchange.drain() }
        #expect(devKeys.accounts.allSatisfy { !$0.credential.isPlain })
        let client = try exchange.client("DEMO1")
        client.close()
        let wrong = try OrderEntryClient(port: exchange.port)
        #expect(try wrong.login(username: "DEMO2", password: "demo1pass") == .rejected(.notAuthorized, debug: nil))
        wrong.close()
        #expect(exchange.waitFor { ($0.block("auth")?["accepted"] ?? 0) >= 1 && ($0.block("auth")?["not_authorized"] ?? 0) >= 1 })
    }

    /// 200 wrong-password logins from four threads while DEMO1 enters 300 orders: every order
    /// is answered, in order, and every guess is refused.
    @Test func aStormOfWrongPasswordsLeavesATradingClientUntouched() throws {
        var knobs = ExchangeKnobs()
        knobs.loginBackoffMilliseconds = 20
        let exchange = try TestExchange(knobs)
        defer { _ = exchange.drain() }
        let trader = try exchange.client("DEMO1")
        let tally = StormTally()
        let storm = (0..<4).map { thread in
            Thread {
                for attempt in 0..<50 {
                    do {
                        let guesser = try OrderEntryClient(port: exchange.port)
                        defer { guesser.close() }
                        switch try guesser.login(username: thread % 2 == 0 ? "DEMO2" : "NOBODY", password: "guess\(attempt)",
                                                 timeout: .seconds(5)) {
                        case .rejected(.notAuthorized, _): tally.refused.add(1, ordering: .relaxed)
                        case let outcome: tally.otherwise.withLock { $0.append("\(outcome)") }
                        }
                    } catch {
                        tally.otherwise.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        for thread in storm { thread.start() }
        let count = 300
        for i in 0..<count {
            try trader.enter(token: OrderToken("S\(i)")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_000_000)
        }
        var answered: [OrderToken] = []
        let deadline = Deadline(seconds: 20)
        while answered.count < count && !deadline.hasPassed {
            if let packet = try trader.poll(timeout: .milliseconds(100)), case .accepted(let message)? = packet.message {
                answered.append(message.token)
            }
        }
        #expect(answered == (0..<count).map { OrderToken("S\($0)")! })
        #expect(waitUntil(timeout: .seconds(60)) { tally.refused.load(ordering: .relaxed) + tally.otherwise.withLock { $0.count } == 200 })
        #expect(tally.refused.load(ordering: .relaxed) == 200, "\(tally.otherwise.withLock { Array($0.prefix(3)) })")
        trader.close()
        // Every guess was refused by the authenticator (unchecked in a backoff, or checked)
        // or, when its ring was full, by the gateway at once.
        func refusals(_ s: CountersSnapshot) -> UInt64 {
            let auth = s.block("auth")
            let notAuthorized: UInt64 = auth?["not_authorized"] ?? 0
            let throttled: UInt64 = auth?["throttled"] ?? 0
            let busy: UInt64 = s.gateway["logins_rejected_busy"] ?? 0
            return notAuthorized + throttled + busy
        }
        #expect(exchange.waitFor { refusals($0) == 200 }, "\(refusals(exchange.snapshot()))")
    }
}

/// What the storm's guessers got.
final class StormTally: Sendable {
    let refused = Atomic<Int>(0)
    let otherwise = Mutex<[String]>([])
}

/// `rtes-keys`, run as a user runs it.
@Suite(.serialized) struct KeysToolTests {
    static func run(_ arguments: [String], input: String) throws -> CommandLineTools.Run {
        let process = Process()
        process.executableURL = CommandLineTools.executable("rtes-keys")
        process.arguments = arguments
        let stdin = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandLineTools.Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                                    errors: String(decoding: errors, as: UTF8.self))
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: CommandLineTools.executable("rtes-keys").path) }

    @Test(.enabled(if: built, "rtes-keys is not built: run `swift build --build-tests`"))
    func hashThenCheckRoundTripsAndTheSecretNeverShows() throws {
        let hash = try Self.run(["hash", "--ln", "4"], input: "Zq8vKx2pW9\n")
        #expect(hash.status == 0, "\(hash.errors)")
        let secret = hash.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("$scrypt$ln=4,r=8,p=1$"))
        #expect(!hash.output.contains("Zq8vKx2pW9") && !hash.errors.contains("Zq8vKx2pW9"))
        let parsed = try ScryptHash.parse(secret)
        #expect(parsed.salt.count == 16 && parsed.hash.count == 32)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-keys-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys.json").path
        try Data(#"{"accounts": [{"username": "ALICE", "secret": "\#(secret)", "firm": "ALCE"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o600) == 0)
        let check = try Self.run(["check", path], input: "")
        #expect(check.status == 0, "\(check.errors)")
        #expect(check.output.contains("valid (1 accounts, 1 hashed, 0 plain)"))

        // The exchange accepts the hash: the authenticator verifies the password against it.
        let keys = try APIKeys.load(path: path, allowPlainPasswords: false).keys
        let exchange = try TestExchange(keys: keys)
        defer { _ = exchange.drain() }
        let client = try OrderEntryClient.connect(port: exchange.port, username: "ALICE", password: "Zq8vKx2pW9")
        client.close()
    }

    @Test(.enabled(if: built, "rtes-keys is not built: run `swift build --build-tests`"))
    func aSecretOnTheCommandLineIsRefusedWithoutBeingRepeated() throws {
        let run = try Self.run(["hash", "Zq8vKx2pW9"], input: "")
        #expect(run.status == 2)
        #expect(run.errors.contains("never from the command line"))
        #expect(!run.errors.contains("Zq8vKx2pW9") && !run.output.contains("Zq8vKx2pW9"))
    }

    @Test(.enabled(if: built, "rtes-keys is not built: run `swift build --build-tests`"))
    func checkNamesTheProblemsOfAFileOthersMayWrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtes-keys-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("keys.json").path
        try Data(#"{"accounts": [{"username": "ALICE", "password": "Zq8vKx2pW9", "firm": "ALCE"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o666) == 0)
        let run = try Self.run(["check", path], input: "")
        #expect(run.status == 2 && run.errors.contains("chmod go-w"))
        #expect(chmod(path, 0o600) == 0)
        let plain = try Self.run(["check", path], input: "")
        #expect(plain.status == 2 && plain.errors.contains("rtes-keys hash"))
        #expect(!plain.errors.contains("Zq8vKx2pW9"))
    }
}
