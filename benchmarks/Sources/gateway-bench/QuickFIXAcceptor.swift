import CExchangeShim
import Foundation
import Glibc

/// The quickfix server: QuickFIX's own C++ acceptor (`benchmarks/quickfix-acceptor`, built by
/// benchmarks/fix.sh) as a child process pinned to the server CPU (`taskset`), answering the
/// FIX client as RTES's FIX port does: ExecutionReport New for a NewOrderSingle, Canceled for
/// an OrderCancelRequest. One SocketAcceptor thread (poll), sessions in memory, no log, the
/// FIX 4.4 data dictionary validating every message (QuickFIX's default).
final class QuickFIXAcceptor {
    let port: UInt16
    let directory: String
    let logPath: String
    private let child: ChildProcess

    /// - Parameters:
    ///   - accounts: the usernames that log on (one acceptor session each: SenderCompID =
    ///     `ExchangeProcess.fixTargetCompID`, TargetCompID = the username).
    init(binary: String, dataDictionary: String, accounts: [String], cpu: Int, startTimeoutSeconds: Double) throws {
        guard access(binary, X_OK) == 0 else {
            throw BenchFailure("\(binary) is not an executable: build it first (benchmarks/fix.sh does)")
        }
        guard access(dataDictionary, R_OK) == 0 else {
            throw BenchFailure("cannot read the FIX 4.4 data dictionary \(dataDictionary) (.ci/quickfix fetches it)")
        }
        var template = Array("/tmp/gateway-bench-quickfix.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        logPath = directory + "/acceptor.log"
        port = try FreePorts.take(1)[0]
        let settingsPath = directory + "/acceptor.cfg"
        let dictionary = URL(fileURLWithPath: dataDictionary).standardizedFileURL.path
        var settings = """
            [DEFAULT]
            ConnectionType=acceptor
            SocketAcceptPort=\(port)
            SocketNodelay=Y
            StartTime=00:00:00
            EndTime=00:00:00
            HeartBtInt=30
            UseDataDictionary=Y
            DataDictionary=\(dictionary)
            BeginString=FIX.4.4
            SenderCompID=\(ExchangeProcess.fixTargetCompID)

            """
        for account in accounts { settings += "[SESSION]\nTargetCompID=\(account)\n" }
        try settings.write(toFile: settingsPath, atomically: true, encoding: .utf8)
        let arguments = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/taskset", "-c", "\(cpu)", binary, settingsPath]
        child = try ChildProcess(arguments, environment: ProcessInfo.processInfo.environment, output: logPath)
        let deadline = rtes_monotonic_ns() + UInt64(startTimeoutSeconds * 1e9)
        while !FreePorts.accepts(port: port) {
            if let status = child.exitedAlready() {
                throw BenchFailure("the QuickFIX acceptor exited during start-up (status \(status)); its log (\(logPath)):\n\(log())")
            }
            if rtes_monotonic_ns() > deadline {
                child.stop()
                throw BenchFailure("the QuickFIX acceptor did not accept connections on port \(port) within \(startTimeoutSeconds) s; its log (\(logPath)):\n\(log())")
            }
            usleep(50_000)
        }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Ends the acceptor; its exit status (nil: killed by the signal, as it expects).
    @discardableResult
    func stop() -> Int32? { child.stop() }
}
