import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
@testable import ExchangeOps
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

/// The admin API's write actions (docs/OPERATIONS.md, "The admin API"): each by role, allowed
/// and refused (every refusal counted), the reason required, the command reaching the engine
/// (a killed account's orders cancelled and refused until reinstated), the note of who and why
/// in the journal and in `rtes-journal dump`, a replay of the journal ending in the live
/// engine's state, and `rtes-admin` against the exchange on loopback.
@Suite(.serialized) struct AdminAPITests {
    static let passwords = ["viewer": "viewpass1", "ops1": "opspass1", "boss": "bosspass1"]

    /// The dev keys with three operators, one of each role, and LOAD1–LOAD3 in one firm (LODS).
    static var keys: APIKeys {
        var keys = devKeys
        keys.operators = [APIKeys.Operator(username: "ops1", credential: .plain(Secret("opspass1")), role: .operator),
                          APIKeys.Operator(username: "viewer", credential: .plain(Secret("viewpass1")), role: .readOnly),
                          APIKeys.Operator(username: "boss", credential: .plain(Secret("bosspass1")), role: .admin)]
        for i in keys.accounts.indices where ["LOAD1", "LOAD2", "LOAD3"].contains(keys.accounts[i].username) {
            keys.accounts[i].firm = Firm("LODS")!
        }
        return keys
    }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/rtes-adminapi-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: try #require(made))
    }

    static func knobs(journal: String) -> ExchangeKnobs {
        var knobs = ExchangeKnobs()
        knobs.durability = #"{ "mode": "async", "directory": "\#(journal)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536 }"#
        return knobs
    }

    static func post(_ port: Int, _ target: String, as user: String?) -> (status: Int, body: String, head: String)? {
        adminRequest("POST", port: port, target, user: user, password: user.flatMap { passwords[$0] } ?? "")
    }

    /// The next order message, past System Events.
    static func next(_ client: OrderEntryClient) throws -> OUCHMessage {
        while true {
            let answer = try client.nextMessage(timeout: .seconds(10))
            if case .systemEvent = answer.message { continue }
            return answer.message
        }
    }

    static func records(_ journal: String) throws -> [SequencedCommand] {
        let days = try FileManager.default.contentsOfDirectory(atPath: journal).filter { !$0.contains(".") }
        let reader = try JournalReader.open(directory: journal + "/" + (try #require(days.first)))
        var cursor = reader.records(from: 0)
        var all: [SequencedCommand] = []
        while let record = try cursor.next() { all.append(record) }
        return all
    }

    @Test func eachActionIsTakenOnlyByARoleThatMayAndEveryRefusalIsCounted() throws {
        let journal = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let exchange = try TestExchange(Self.knobs(journal: journal), keys: Self.keys)
        defer { exchange.drain() }
        let port = exchange.appliance.admin!.port
        let why = "&reason=drill"
        // (target, whether the operator role may; admin may every one). Reinstated after each kill.
        let actions: [(String, Bool)] = [
            ("/trading/halt?symbol=MSFT", true), ("/trading/resume?symbol=MSFT", true),
            ("/admin/kill?account=LOAD1", true), ("/admin/reinstate?account=LOAD1", true),
            ("/admin/kill?firm=LODS", true), ("/admin/reinstate?firm=LODS", true),
            ("/admin/cancel-all?account=LOAD1", true), ("/admin/cancel-all?firm=LODS", true),
            ("/admin/kill?exchange=true", false), ("/admin/reinstate?exchange=true", false),
            ("/admin/snapshot?x=1", false), ("/admin/day/end?x=1", false), ("/admin/day/start?x=1", false),
        ]
        var forbidden = 0
        for (target, operatorMay) in actions {
            let viewer = try #require(Self.post(port, target + why, as: "viewer"))
            #expect(viewer.status == 403 && viewer.body.contains(#""refusal":"forbidden""#), "\(target) as viewer: \(viewer)")
            forbidden += 1
            let taker = operatorMay ? "ops1" : "boss"
            if !operatorMay {
                #expect(Self.post(port, target + why, as: "ops1")?.status == 403, "\(target) as ops1")
                forbidden += 1
            }
            let taken = try #require(Self.post(port, target + why, as: taker))
            #expect(taken.status == 202, "\(target) as \(taker): \(taken)")
            #expect(taken.body.contains(#""operator":"\#(taker)","reason":"drill""#), "\(taken.body)")
        }
        // An admin takes the operator's actions too.
        #expect(Self.post(port, "/trading/halt?symbol=AAPL" + why, as: "boss")?.status == 202)
        #expect(Self.post(port, "/trading/resume?symbol=AAPL" + why, as: "boss")?.status == 202)

        // What the answer says it changed: the firm's accounts and the engine commands.
        let firm = try #require(Self.post(port, "/admin/kill?firm=LODS" + why, as: "ops1"))
        #expect(firm.body.contains(#""firm":"LODS","accounts":["LOAD1","LOAD2","LOAD3"]"#), "\(firm.body)")
        #expect(firm.body.contains(#""commands":["kill_client 3","kill_client 4","kill_client 5"]"#), "\(firm.body)")
        #expect(Self.post(port, "/admin/reinstate?firm=LODS" + why, as: "ops1")?.status == 202)

        // Refused: no reason, a reason that is not printable ASCII or too long, an unknown
        // target, two targets, no credentials, an unknown action.
        let missing = try #require(Self.post(port, "/admin/kill?account=LOAD1", as: "ops1"))
        #expect(missing.status == 400 && missing.body.contains("missing_reason"), "\(missing)")
        #expect(Self.post(port, "/admin/kill?account=LOAD1&reason=", as: "ops1")?.status == 400)
        #expect(Self.post(port, "/admin/kill?account=LOAD1&reason=caf%C3%A9", as: "ops1")?.body.contains("invalid_reason") == true)
        #expect(Self.post(port, "/admin/kill?account=LOAD1&reason=" + String(repeating: "x", count: 161), as: "ops1")?.status == 400)
        let unknown = try #require(Self.post(port, "/admin/kill?account=NOBODY" + why, as: "ops1"))
        #expect(unknown.status == 404 && unknown.body.contains("unknown_target"), "\(unknown)")
        #expect(Self.post(port, "/admin/kill?firm=ZZZZ" + why, as: "ops1")?.status == 404)
        #expect(Self.post(port, "/admin/kill?account=LOAD1&firm=LODS" + why, as: "ops1")?.status == 400)
        #expect(Self.post(port, "/admin/cancel-all?exchange=true" + why, as: "boss")?.status == 400)
        #expect(Self.post(port, "/admin/kill?account=LOAD1" + why, as: nil)?.status == 401)
        #expect(Self.post(port, "/admin/explode" + why, as: "boss")?.status == 404)
        #expect(adminRequest("GET", port: port, "/admin/kill?account=LOAD1" + why)?.status == 405)

        let metrics = try #require(httpGet("http://127.0.0.1:\(port)/metrics")).body
        for line in [#"rtes_admin_action_refusals_total{reason="forbidden"} \#(forbidden)"#,
                     #"rtes_admin_action_refusals_total{reason="missing_reason"} 2"#,
                     #"rtes_admin_action_refusals_total{reason="invalid_reason"} 2"#,
                     #"rtes_admin_action_refusals_total{reason="unknown_target"} 2"#,
                     #"rtes_admin_action_refusals_total{reason="invalid_request"} 3"#,
                     #"rtes_admin_action_refusals_total{reason="unauthenticated"} 1"#,
                     #"rtes_admin_actions_total{action="kill_firm"} 2"#, #"rtes_admin_actions_total{action="halt"} 2"#,
                     #"rtes_admin_actions_total{action="snapshot"} 1"#, #"rtes_admin_actions_total{action="end_day"} 1"#] {
            #expect(metrics.contains(line), "missing \(line)")
        }
        // Every action's commands reached the engine (the gateway sent them all), and are counted.
        #expect(waitUntil(timeout: .seconds(10)) { exchange.appliance.operatorActions.depth == 0 })
        #expect(waitUntil(timeout: .seconds(10)) {
            httpGet("http://127.0.0.1:\(port)/metrics")?.body.contains("rtes_gateway_phase_commands_total 4") == true
        })
        let sent = try #require(httpGet("http://127.0.0.1:\(port)/metrics")).body
        #expect(sent.contains("rtes_gateway_operator_commands_total "), "\(sent)")
    }

    /// The kill switch and mass cancel as a trader sees them, the journal's record of who did
    /// it and why, and the journal replayed offline ending in the live engine's state.
    @Test func aKilledAccountIsRefusedUntilReinstatedAndTheJournalSaysWhoAndWhy() throws {
        let journal = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let knobs = Self.knobs(journal: journal)
        let exchange = try TestExchange(knobs, keys: Self.keys)
        defer { exchange.drain() }
        let port = exchange.appliance.admin!.port
        let aapl = Symbol("AAPL")!
        let trader = try exchange.client("DEMO1")
        defer { trader.close() }
        let other = try exchange.client("DEMO2")
        defer { other.close() }

        // A resting order; the kill switch cancels it and refuses the next.
        try trader.enter(token: OrderToken("REST1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("REST1 not accepted"); return }
        let kill = try #require(Self.post(port, "/admin/kill?account=DEMO1&reason=runaway%20algo%2C%20ticket%2042", as: "ops1"))
        #expect(kill.status == 202 && kill.body.contains(#""commands":["kill_client 0"]"#), "\(kill)")
        guard case .canceled(_, let token, _, _) = try Self.next(trader) else { Issue.record("REST1 not cancelled by the kill"); return }
        #expect(token == OrderToken("REST1")!)
        try trader.enter(token: OrderToken("KILLED1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .rejected = try Self.next(trader) else { Issue.record("a killed account's order was not rejected"); return }

        // Reinstated (once the gateway has sent the command, an order after it follows it).
        #expect(Self.post(port, "/admin/reinstate?account=DEMO1&reason=fixed", as: "ops1")?.status == 202)
        #expect(waitUntil(timeout: .seconds(10)) { exchange.appliance.operatorActions.depth == 0 })
        try trader.enter(token: OrderToken("AGAIN1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("not accepted after the reinstatement"); return }

        // A mass cancel cancels and leaves the account trading.
        #expect(Self.post(port, "/admin/cancel-all?account=DEMO1&reason=end%20of%20test", as: "ops1")?.status == 202)
        guard case .canceled = try Self.next(trader) else { Issue.record("AGAIN1 not cancelled by the mass cancel"); return }
        try trader.enter(token: OrderToken("AFTER1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("a mass cancel stopped the account"); return }

        // The whole exchange: every order refused until reinstated. DEMO2's firm stays killed to the end.
        #expect(Self.post(port, "/admin/kill?exchange=true&reason=market%20wide%20drill", as: "boss")?.status == 202)
        guard case .canceled = try Self.next(trader) else { Issue.record("AFTER1 not cancelled by the exchange kill"); return }
        try other.enter(token: OrderToken("WHOLE1")!, side: .sell, shares: 100, symbol: aapl, price: 2_100_000)
        guard case .rejected = try Self.next(other) else { Issue.record("an order passed the exchange's kill switch"); return }
        #expect(Self.post(port, "/admin/reinstate?exchange=true&reason=drill%20over", as: "boss")?.status == 202)
        #expect(Self.post(port, "/admin/kill?firm=DEM2&reason=firm%20drill", as: "ops1")?.status == 202)
        #expect(waitUntil(timeout: .seconds(10)) { exchange.appliance.operatorActions.depth == 0 })
        try other.enter(token: OrderToken("FIRM1")!, side: .sell, shares: 100, symbol: aapl, price: 2_100_000)
        guard case .rejected = try Self.next(other) else { Issue.record("a killed firm's order was not rejected"); return }
        try trader.enter(token: OrderToken("LAST1")!, side: .buy, shares: 100, symbol: aapl, price: 2_000_000)
        guard case .accepted = try Self.next(trader) else { Issue.record("DEMO1 refused after the exchange's reinstatement"); return }
        trader.close()
        other.close()
        let final = exchange.drain()
        let liveHash = try #require(final.values("engine")["state_hash"])

        // The journal: each note's records, then its command.
        let records = try Self.records(journal)
        var assembler = OperatorNote.Assembler()
        var notes: [(OperatorNote.Assembler.Whole, next: EngineCommand?)] = []
        for (i, record) in records.enumerated() {
            guard case .operatorNote(let note) = record.command, let whole = assembler.add(note) else { continue }
            notes.append((whole, records[safe: i + 1]?.command))
        }
        let kills = notes.filter { $0.0.action == .killAccount }
        #expect(kills.count == 1)
        #expect(kills.first?.0 == OperatorNote.Assembler.Whole(action: .killAccount, subject: 0, who: "ops1", reason: "runaway algo, ticket 42"))
        if case .killClient(let a)? = kills.first?.next { #expect(a.client == 0) } else { Issue.record("no kill after the note: \(String(describing: kills.first?.next))") }
        #expect(notes.map(\.0.action) == [.killAccount, .reinstateAccount, .cancelAllAccount, .killExchange, .reinstateExchange, .killFirm])
        #expect(notes.last?.0.who == "ops1" && notes.last?.0.subject == UInt64(Firm("DEM2")!.rawValue))

        // Replayed offline (as recovery, a standby and `rtes-journal replay` do): the live state.
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "t.json", environment: [:], host: .current()).configuration
        var replica = DayReplica(configuration: configuration, keys: Self.keys, feedSession: SoupSessionName("TESTSESS01")!)
        for record in records { replica.apply(record) }
        #expect(replica.engine.stateHash() == liveHash, "replay \(StateHasher.text(replica.engine.stateHash())), live \(StateHasher.text(liveHash))")

        // `rtes-journal dump` shows who did what and why.
        let tool = ExchangeProcess.executable.deletingLastPathComponent().appendingPathComponent("rtes-journal")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            Issue.record("rtes-journal is not built at \(tool.path) (swift build --build-tests)")
            return
        }
        let days = try FileManager.default.contentsOfDirectory(atPath: journal).filter { !$0.contains(".") }
        let dump = try AdminCLITests.run(tool.path, ["dump", journal + "/" + days[0], "--kind", "operator_note", "--kind", "kill_client"])
        #expect(dump.status == 0, "\(dump.errors)")
        #expect(dump.output.contains(#"operator who=ops1 action=kill_account subject=0 reason="runaway algo, ticket 42" records="#), "\(dump.output)")
        #expect(dump.output.contains(#"operator who=boss action=kill_exchange subject=- reason="market wide drill""#), "\(dump.output)")
        #expect(dump.output.contains("kill_client client=0"))
    }
}

/// `rtes-admin` against an exchange on loopback: each failure a clear message and exit status.
@Suite(.serialized) struct AdminCLITests {
    static var tool: URL { ExchangeProcess.executable.deletingLastPathComponent().appendingPathComponent("rtes-admin") }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `executable` to its end (bounded: killed after 30 s).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   errors: String(decoding: errors, as: UTF8.self))
    }

    @Test func rtesAdminTakesActionsAndSaysWhyItCouldNot() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.tool.path) else {
            Issue.record("rtes-admin is not built at \(Self.tool.path) (swift build --build-tests)")
            return
        }
        let exchange = try TestExchange(keys: AdminAPITests.keys)
        defer { exchange.drain() }
        let url = "http://127.0.0.1:\(exchange.appliance.admin!.port)"
        let env = ["RTES_ADMIN_PASSWORD": "opspass1"]
        func admin(_ arguments: [String], _ environment: [String: String] = env) throws -> Run {
            try Self.run(Self.tool.path, arguments + ["--url", url], environment: environment)
        }

        let halt = try admin(["halt", "MSFT", "--user", "ops1", "--reason", "news pending"])
        #expect(halt.status == 0 && halt.output.contains(#""action":"halt""#) && halt.output.contains(#""symbol":"MSFT""#), "\(halt)")
        #expect(try admin(["resume", "MSFT", "--user", "ops1", "--reason", "news out"]).status == 0)
        let kill = try admin(["kill", "--account", "LOAD1", "--user", "ops1", "--reason", "runaway algo"])
        #expect(kill.status == 0 && kill.output.contains(#""commands":["kill_client 3"]"#), "\(kill)")
        #expect(try admin(["reinstate", "--firm", "LODS", "--user", "ops1", "--reason", "fixed"]).status == 0)
        #expect(try admin(["cancel-all", "--firm", "LODS", "--user", "ops1", "--reason", "clean up"]).status == 0)

        // The password from a file instead of the environment.
        let file = NSTemporaryDirectory() + "rtes-admin-test-\(getpid())-\(UUID().uuidString)"
        try "boss:bosspass1\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let day = try admin(["day", "start", "--user", "boss", "--password-file", file, "--reason", "late open"], [:])
        #expect(day.status == 0 && day.output.contains(#""commands":["start_of_day"]"#), "\(day)")

        // Refusals: the server's reason on standard error, exit 1.
        let forbidden = try admin(["kill", "--exchange", "--user", "ops1", "--reason", "drill"])
        #expect(forbidden.status == 1 && forbidden.errors.contains("HTTP 403 Forbidden") && forbidden.errors.contains("may not kill_exchange"),
                "\(forbidden)")
        let wrong = try admin(["snapshot", "--user", "ops1", "--reason", "drill"], ["RTES_ADMIN_PASSWORD": "nope"])
        #expect(wrong.status == 1 && wrong.errors.contains("HTTP 401 Unauthorized"), "\(wrong)")
        let unknown = try admin(["kill", "--account", "NOBODY", "--user", "ops1", "--reason", "drill"])
        #expect(unknown.status == 1 && unknown.errors.contains("HTTP 404") && unknown.errors.contains("no account NOBODY"), "\(unknown)")
        // Throttled: a burst of failed authentications fills the second's allowance, and
        // rtes-admin's attempt in the same second is refused unchecked (retried should the
        // second end between the two; bounded).
        var throttled: Run?
        for _ in 0..<5 where throttled == nil {
            for _ in 0...AdminActions.failuresPerSecond {
                _ = adminRequest("POST", port: exchange.appliance.admin!.port, "/trading/halt?reason=x", user: "ops1", password: "guess")
            }
            let r = try admin(["halt", "AAPL", "--user", "ops1", "--reason", "guess"], ["RTES_ADMIN_PASSWORD": "guess"])
            if r.status == 1 && r.errors.contains("HTTP 429 Too Many Requests") { throttled = r }
        }
        #expect(throttled != nil, "never throttled")

        // Usage errors (64) and no answer (2).
        let noReason = try admin(["halt", "AAPL", "--user", "ops1"])
        #expect(noReason.status == 64 && noReason.errors.contains("--reason"), "\(noReason)")
        let onLine = try admin(["halt", "AAPL", "--user", "ops1", "--reason", "x", "--password", "opspass1"])
        #expect(onLine.status == 64 && onLine.errors.contains("ps shows it"), "\(onLine)")
        let noPassword = try admin(["halt", "AAPL", "--user", "ops1", "--reason", "x"], [:])
        #expect(noPassword.status == 64 && noPassword.errors.contains("RTES_ADMIN_PASSWORD"), "\(noPassword)")
        let closed = try Self.run(Self.tool.path, ["halt", "AAPL", "--user", "ops1", "--reason", "x", "--url", "http://127.0.0.1:\(freePort())"],
                                  environment: env)
        #expect(closed.status == 2 && closed.errors.contains("cannot connect") && closed.errors.contains("Connection refused"), "\(closed)")
    }
}

/// The audit log: a line for every action and every refusal of an operator, never a password.
@Suite struct AdminAuditTests {
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
        func add(_ line: String) { lock.withLock { all.append(line) } }
    }

    @Test func everyActionAndRefusalIsAnAuditLineWithoutThePassword() throws {
        let lines = Lines()
        let queue = OperatorActionQueue(capacity: 64)
        let keys = AdminAPITests.keys
        let actions = AdminActions(operators: keys.operators, accounts: keys.accounts, queue: queue, audit: lines.add)
        let ops = try #require(keys.operators.first { $0.username == "ops1" })
        let viewer = try #require(keys.operators.first { $0.username == "viewer" })

        let taken = actions.take(AdminActions.Request(.killFirm, .firm(Firm("LODS")!), reason: "runaway algo"), by: ops)
        #expect((try? taken.get())?.contains(#""accounts":["LOAD1","LOAD2","LOAD3"]"#) == true)
        // The note's records, then the firm's three kills, in order.
        var queued: [EngineCommand] = []
        while let action = queue.take() { queued.append(action.command) }
        #expect(queued.count == 4)
        if case .operatorNote(let note) = queued[0] { #expect(note.action == .killFirm && note.parts == 1) } else { Issue.record("\(queued)") }
        #expect(queued.dropFirst().map { if case .killClient(let a) = $0 { a.client } else { ClientID(99) } } == [ClientID(3), 4, 5])

        _ = actions.take(AdminActions.Request(.killExchange, reason: "drill"), by: ops)
        _ = actions.take(AdminActions.Request(.halt, .symbol(.everySymbol), reason: "drill"), by: viewer)
        _ = actions.take(AdminActions.Request(.killAccount, .account("LOAD1"), reason: nil), by: ops)
        _ = actions.take(AdminActions.Request(.killAccount, .account("NOBODY"), reason: "drill"), by: ops)
        _ = actions.authenticate("Basic " + Data("ops1:s3cret-guess".utf8).base64EncodedString(), now: 1)
        _ = actions.authenticate(String?.none, now: 1)

        let log = lines.lock.withLock { lines.all }
        #expect(log.count == 7, "\(log)")
        #expect(log[0] == "admin: ops1 (operator) took kill_firm firm LODS (accounts LOAD1, LOAD2, LOAD3): runaway algo")
        #expect(log[1].contains("refused ops1 (operator) kill_exchange: the operator role may not kill_exchange"))
        #expect(log[2].contains("refused viewer (read_only) halt the whole market"))
        #expect(log[3].contains("refused ops1 (operator) kill_account account LOAD1: a reason is required"))
        #expect(log[4].contains("no account NOBODY"))
        #expect(log[5] == "admin: refused an action as ops1: wrong credentials")
        #expect(log[6] == "admin: refused an action: no Basic credentials")
        #expect(!log.joined().contains("s3cret") && !log.joined().contains("opspass1"))
    }
}
