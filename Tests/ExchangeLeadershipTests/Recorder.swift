import ExchangeClock
import ExchangeLeadership
import Foundation
import Synchronization

/// Every transition a candidate reported, with the clock reading at the report.
final class Recorder: Sendable {
    let clock: TSCClock
    private let entries = Mutex<[(state: LeadershipState, ticks: UInt64)]>([])

    init(clock: TSCClock) { self.clock = clock }

    func record(_ state: LeadershipState) {
        let ticks = clock.ticks()
        entries.withLock { $0.append((state, ticks)) }
    }

    var all: [(state: LeadershipState, ticks: UInt64)] { entries.withLock { $0 } }

    /// The first report of `role`, if any.
    func first(_ role: LeadershipState.Role) -> (state: LeadershipState, ticks: UInt64)? {
        all.first { $0.state.role == role }
    }
}

/// A candidate on a real clock (CLOCK_MONOTONIC), its transitions recorded.
func makeCandidate(_ name: String, on server: EtcdServer, key: String, ttl: Int64 = 2) -> (LeaderCandidate<TSCClock>, Recorder) {
    let clock = TSCClock.calibrated(.monotonic)
    let recorder = Recorder(clock: clock)
    let candidate = LeaderCandidate(client: server.client, key: key, name: name, ttlSeconds: ttl, clock: clock) { recorder.record($0) }
    return (candidate, recorder)
}

/// Every change of `key` from revision 1 to the store's current revision, from etcd's own
/// history (a watch from revision 1), not from any candidate's word.
func history(of key: String, on server: EtcdServer) async throws -> [KeyEvent] {
    let (_, revision) = try await server.client.get(key: key, timeout: .seconds(2))
    let events = Mutex<[KeyEvent]>([])
    let complete = try await server.client.watch(key: key, fromRevision: 1, timeout: .seconds(10)) { event in
        events.withLock { $0.append(event) }
        return event.modRevision >= revision
    }
    guard complete else { throw EtcdServerError(message: "the history of \(key) did not reach revision \(revision)") }
    return events.withLock { $0 }
}

/// Checks etcd's history of the leader key: each leadership is a put that creates the key
/// (version 1) while no one holds it, followed by its delete before the next one; returns
/// the leaderships in order as (name, fencing token).
func checkLeaderships(in events: [KeyEvent]) -> (leaderships: [(name: String, token: Int64)], problems: [String]) {
    var holder: KeyEvent?
    var result: [(String, Int64)] = []
    var problems: [String] = []
    for event in events {
        switch event.kind {
        case .put:
            if let holder {
                problems.append("\(event.value) wrote the key at revision \(event.modRevision) while \(holder.value) held it since \(holder.createRevision)")
            }
            if event.version != 1 || event.createRevision != event.modRevision {
                problems.append("the put at revision \(event.modRevision) did not create the key (version \(event.version))")
            }
            holder = event
            result.append((event.value, event.createRevision))
        case .delete:
            if holder == nil { problems.append("a delete at revision \(event.modRevision) with no holder") }
            holder = nil
        }
    }
    return (result, problems)
}

/// The real rtes-leader executable beside the test bundle.
enum LeaderTool {
    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("rtes-leader").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("rtes-leader")
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    static func start(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func finish(_ process: Process, _ out: Pipe, _ err: Pipe) -> (status: Int32, output: String, errors: String) {
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
}
