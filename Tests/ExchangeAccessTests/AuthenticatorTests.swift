import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeRuntime
import ExchangeWire
import Logging
import Synchronization
import Testing

/// The authenticator agent driven turn by turn on a `ManualClock`.
@Suite struct AuthenticatorTests {
    static let ms: UInt64 = 1_000_000
    static let keys = try! APIKeys.parse(json: #"""
        {"accounts": [
          {"username": "ALICE", "secret": "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "firm": "ALCE"},
          {"username": "BOB", "password": "hunter22", "firm": "BOBS"}]}
        """#, source: "test")
    static let policy = LoginThrottle.Policy(maxFailures: 3, backoff: 100 * ms, maxBackoff: 400 * ms, lockout: 60_000 * ms,
                                             trackedAddresses: 16)

    final class Rig {
        let clock: ManualClock
        let region: CountersRegion
        let log: LogLines
        var client: LoginClient
        var agent: Authenticator<ManualClock>
        var nextSlot: Int32 = 0

        init(capacity: Int = 16) throws {
            let clock = ManualClock()
            self.clock = clock
            let region = CountersRegion.anonymous(name: "AUTH-TEST", ticksPerSecond: 1_000_000_000)
            let cells = region.cells
            self.region = region
            let channel = LoginChannel(service: "gateway", capacity: capacity)
            client = channel.makeClient()
            let log = LogLines()
            self.log = log
            agent = try Authenticator(keys: AuthenticatorTests.keys, policy: AuthenticatorTests.policy, channels: [channel], clock: clock,
                                      cells: cells, logger: Logger(label: "test") { _ in LogCapture(lines: log) })
        }

        func post(_ username: String, _ password: String) -> Bool {
            nextSlot += 1
            return client.post(LoginRequest(username: SoupUsername(username)!, password: SoupPassword(password)!, descriptor: -1,
                                            slot: nextSlot, generation: 7))
        }

        /// Turns the agent and collects what answers are in.
        func answers(turns: Int = 4) -> [LoginAnswer] {
            var out: [LoginAnswer] = []
            for _ in 0..<turns {
                _ = agent.doWork()
                while let answer = client.nextAnswer() { out.append(answer) }
            }
            return out
        }

        func counter(_ cell: CounterCell) -> UInt64 { try! region.cells.register(AuthCounters.block).load(cell) }
    }

    @Test func theRightPasswordIsAcceptedAndAReconnectIsAnsweredFromTheCache() throws {
        let rig = try Rig()
        #expect(rig.post("ALICE", "s3cret"))
        let first = rig.answers()
        #expect(first.count == 1)
        #expect(first.first?.verdict == .accepted && first.first?.account == 0 && first.first?.slot == 1 && first.first?.generation == 7)
        #expect(rig.post("ALICE", "s3cret"))
        #expect(rig.answers().map(\.verdict) == [.accepted])
        #expect(rig.counter(AuthCounters.verifications) == 1)
        #expect(rig.counter(AuthCounters.cacheHits) == 1)
        #expect(rig.post("BOB", "hunter22"))
        #expect(rig.answers().map(\.account) == [1])
    }

    @Test func aWrongPasswordIsAnsweredWhenItsBackoffEndsAndLoggedWithoutThePassword() throws {
        let rig = try Rig()
        #expect(rig.post("ALICE", "guess1"))
        #expect(rig.answers().isEmpty)  // held: the backoff runs 100 ms
        #expect(rig.counter(AuthCounters.delayedAnswers) == 1)
        rig.clock.advance(nanoseconds: 99 * Self.ms)
        #expect(rig.answers().isEmpty)
        rig.clock.advance(nanoseconds: Self.ms)
        let answers = rig.answers()
        #expect(answers.map(\.verdict) == [.notAuthorized] && answers.first?.account == -1)
        let lines = rig.log.lines
        #expect(lines.count == 1)
        #expect(lines.first?.contains("login failed: gateway, account ALICE, from 0.0.0.0, wrong password, 1 failures in a row") == true)
        #expect(!lines.joined().contains("guess1"))
    }

    @Test func attemptsDuringTheBackoffAreRefusedWithoutACheckThenTheLockoutHolds() throws {
        let rig = try Rig()
        #expect(rig.post("ALICE", "guess1"))
        _ = rig.answers()
        #expect(rig.post("ALICE", "s3cret"))  // right, but too soon: refused unchecked, held as well
        #expect(rig.answers().isEmpty)
        rig.clock.advance(nanoseconds: 100 * Self.ms)
        #expect(rig.answers().map(\.verdict.rawValue).sorted() == [LoginVerdict.notAuthorized.rawValue, LoginVerdict.throttled.rawValue])
        #expect(rig.counter(AuthCounters.verifications) == 1)
        // Two more failures, each after its backoff: the third locks ALICE out.
        for wait in [200, 400] as [UInt64] {
            #expect(rig.post("ALICE", "guess2"))
            _ = rig.answers()
            rig.clock.advance(nanoseconds: wait * Self.ms)
            _ = rig.answers()
        }
        #expect(rig.counter(AuthCounters.lockouts) >= 1)
        #expect(rig.post("ALICE", "s3cret"))
        #expect(rig.answers().map(\.verdict) == [.lockedOut])
        rig.clock.advance(nanoseconds: 60_000 * Self.ms)
        #expect(rig.post("ALICE", "s3cret"))
        #expect(rig.answers().map(\.verdict) == [.accepted])
        #expect(rig.log.lines.count == 5)  // one per failed login: 3 wrong, 1 throttled, 1 locked out
    }

    @Test func aSessionEndIsLoggedAtDebugInTheServicesWordsAndAnswersNothing() throws {
        let clock = ManualClock()
        let region = CountersRegion.anonymous(name: "AUTH-END", ticksPerSecond: 1_000_000_000)
        let channel = LoginChannel(service: "gateway", capacity: 16) { $0 == 2 ? "logout" : "code \($0)" }
        var client = channel.makeClient()
        let log = LogLines()
        var logger = Logger(label: "test") { _ in LogCapture(lines: log) }
        logger.logLevel = .debug
        var agent = try Authenticator(keys: Self.keys, policy: Self.policy, channels: [channel], clock: clock, cells: region.cells,
                                      logger: logger)
        let posted = [client.post(.sessionEnded(account: 1, reason: 2, slot: 5)), client.post(.sessionEnded(account: 0, reason: 9, slot: 6))]
        #expect(posted == [true, true])
        #expect(agent.doWork() == 1)  // one request of a service per turn
        #expect(agent.doWork() == 1)
        let answer = client.nextAnswer()
        #expect(answer == nil)
        #expect(log.lines == ["debug: session ended: gateway, account BOB, logout", "debug: session ended: gateway, account ALICE, code 9"])
        #expect(try region.cells.register(AuthCounters.block).load(AuthCounters.requests) == 0)
    }

    @Test func anUnknownUsernameCostsACheckAndIsNotAuthorized() throws {
        let rig = try Rig()
        #expect(rig.post("MALLET", "s3cret"))
        _ = rig.answers()
        rig.clock.advance(nanoseconds: 100 * Self.ms)
        #expect(rig.answers().map(\.verdict) == [.notAuthorized])
        #expect(rig.counter(AuthCounters.verifications) == 1)
        #expect(rig.log.lines.first?.contains("unknown account") == true)
        #expect(rig.log.lines.first?.contains("MALLET") == false)
    }

    @Test func aFullRingRefusesTheRequestAtOnce() throws {
        let rig = try Rig(capacity: 16)
        for _ in 0..<16 { #expect(rig.post("BOB", "hunter22")) }
        #expect(!rig.post("BOB", "hunter22"))  // the service rejects this login at once and counts it
        #expect(rig.answers(turns: 20).count == 16)
        #expect(rig.post("BOB", "hunter22"))
    }
}

/// Log lines collected by a test.
final class LogLines: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func append(_ line: String) { storage.withLock { $0.append(line) } }
}

struct LogCapture: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lines.append("\(event.level): \(event.message)") }
}
