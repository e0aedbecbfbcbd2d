import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// Where the trade store's PostgreSQL is and who it connects as. The password comes from the
/// environment or a file the command line names (`rtes-dropcopy`), never from the command line
/// itself, and no description of these settings shows it.
public struct DropCopyDatabase: Sendable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The directory holding PostgreSQL's socket (`.s.PGSQL.<port>`).
        case unixSocket(directory: String, port: Int)
    }

    public var address: Address
    public var user: String
    public var database: String
    public var password: String?
    /// The schema holding the tables (created when absent): a plain lower-case SQL name.
    public var schema: String
    /// How long one connection attempt, and one statement, may take before it is given up.
    public var timeoutSeconds: Int64
    /// TLS to the server (TCP only).
    public var tls: TLS

    /// TLS to PostgreSQL, as libpq's `sslmode` names the same choices.
    public enum TLS: Sendable, Equatable, CustomStringConvertible {
        /// Plain TCP.
        case disable
        /// TLS 1.2 or 1.3, the server's certificate not checked (encryption only).
        case require
        /// TLS 1.2 or 1.3; the server's certificate must chain to a CA of `caFile` (PEM) and
        /// name the host connected to (a DNS name, or the IP address in subjectAltName).
        case verifyFull(caFile: String)

        public var description: String {
            switch self {
            case .disable: "disable"
            case .require: "require"
            case .verifyFull(let caFile): "verify-full, CA \(caFile)"
            }
        }

        /// The client context for this mode (nil: plain TCP); throws naming the CA file and why
        /// it cannot be used.
        public func context() throws(DropCopyStoreError) -> NIOSSLContext? {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            switch self {
            case .disable: return nil
            case .require:
                configuration.certificateVerification = .none
            case .verifyFull(let caFile):
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                } catch {
                    throw DropCopyStoreError("the CA file \(caFile) cannot be read as PEM certificates: \(error)")
                }
                guard !certificates.isEmpty else { throw DropCopyStoreError("the CA file \(caFile) holds no certificate") }
                configuration.trustRoots = .certificates(certificates)
                configuration.certificateVerification = .fullVerification
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw DropCopyStoreError("TLS (\(self)) cannot be set up: \(error)")
            }
        }
    }

    public init(address: Address, user: String, database: String, password: String?, schema: String = "rtes", timeoutSeconds: Int64 = 30,
                tls: TLS = .disable) {
        self.address = address
        self.user = user
        self.database = database
        self.password = password
        self.schema = schema
        self.timeoutSeconds = timeoutSeconds
        self.tls = tls
    }

    /// Names the server, the user, the database and TLS; never the password.
    public var description: String {
        switch address {
        case .tcp(let host, let port):
            "postgresql://\(user)@\(host):\(port)/\(database)" + (tls == .disable ? "" : " (TLS \(tls))")
        case .unixSocket(let directory, let port): "postgresql://\(user)@[\(directory)/.s.PGSQL.\(port)]/\(database)"
        }
    }

    /// Whether `name` may be a schema name here: lower-case letters, digits and underscores,
    /// starting with a letter, at most 63 bytes (it is spliced into SQL, so nothing else).
    public static func isPlainName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (0x61...0x7A).contains(first), name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}

/// Why the trade store could not talk to PostgreSQL, in words that name the server and what
/// was being done, never a password.
public struct DropCopyStoreError: Error, CustomStringConvertible {
    public var description: String
    /// The progress row moved under this writer (another writer, or a transaction whose
    /// outcome was not seen): the caller reads it again and carries on from there.
    public var progressMoved = false
    init(_ description: String, progressMoved: Bool = false) {
        self.description = description
        self.progressMoved = progressMoved
    }
}

/// One connection to PostgreSQL used synchronously from the trade store's own thread: every
/// operation is a SwiftNIO future waited on with a deadline (`DropCopyDatabase.timeoutSeconds`),
/// so a server that stops answering closes the connection and fails the operation instead of
/// hanging the thread. Nothing here runs on the Swift concurrency pool. Cold path.
final class DropCopyStore {
    let database: DropCopyDatabase
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    private(set) var connection: PostgresConnection?
    private var connections = 0

    init(database: DropCopyDatabase, group: MultiThreadedEventLoopGroup, logger: Logger) {
        self.database = database
        self.group = group
        // postgres-nio logs its own background events here; ours go to the caller's logger.
        var quiet = logger
        quiet.logLevel = .critical
        self.logger = quiet
    }

    deinit { close() }

    var isConnected: Bool { connection != nil && !(connection?.isClosed ?? true) }

    /// Connects (closing any earlier connection).
    func connect() throws(DropCopyStoreError) {
        close()
        var configuration: PostgresConnection.Configuration
        switch database.address {
        case .tcp(let host, let port):
            let context = try database.tls.context()
            configuration = .init(host: host, port: port, username: database.user, password: database.password,
                                  database: database.database, tls: context.map { .require($0) } ?? .disable)
        case .unixSocket(let directory, let port):
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: database.user,
                                  password: database.password, database: database.database)
        }
        configuration.options.connectTimeout = .seconds(database.timeoutSeconds)
        connections += 1
        let loop = group.next()
        let future = PostgresConnection.connect(on: loop, configuration: configuration, id: connections, logger: logger)
        do {
            // A connection that arrives after the deadline is closed at once.
            connection = try Self.bounded(future, on: loop, seconds: database.timeoutSeconds,
                                          late: { $0.whenSuccess { let _: EventLoopFuture<Void> = $0.close() } }, expired: {})
        } catch {
            throw DropCopyStoreError("cannot connect to \(database): \(Self.reason(error))")
        }
    }

    /// Waits for `future` at most `seconds`: on expiry `expired` runs (on the loop) and the wait
    /// fails; a result after that goes to `late` instead of being lost.
    static func bounded<T: Sendable>(_ future: EventLoopFuture<T>, on loop: any EventLoop, seconds: Int64,
                                     late: @escaping @Sendable (EventLoopFuture<T>) -> Void,
                                     expired: @escaping @Sendable () -> Void) throws -> T {
        let promise = loop.makePromise(of: T.self)
        let finished = Finished()
        let timer = loop.scheduleTask(in: .seconds(seconds)) {
            guard !finished.done else { return }
            finished.done = true
            promise.fail(DropCopyStoreError("no answer within \(seconds) s"))
            expired()
        }
        future.hop(to: loop).whenComplete { result in
            timer.cancel()
            guard !finished.done else {
                late(loop.makeCompletedFuture(result))
                return
            }
            finished.done = true
            promise.completeWith(result)
        }
        return try promise.futureResult.wait()
    }

    func close() {
        guard let connection else { return }
        self.connection = nil
        try? connection.close().wait()
    }

    /// Runs one statement, giving up (and closing the connection) after the timeout.
    @discardableResult
    func run(_ query: PostgresQuery, doing what: String) throws(DropCopyStoreError) -> PostgresQueryResult {
        guard let connection, !connection.isClosed else { throw DropCopyStoreError("not connected to \(database) (\(what))") }
        let future = connection.query(query, logger: logger)
        do {
            return try Self.bounded(future, on: connection.eventLoop, seconds: database.timeoutSeconds,
                                    late: { _ in }, expired: { let _: EventLoopFuture<Void> = connection.close() })
        } catch {
            throw DropCopyStoreError("\(what) on \(database) failed: \(Self.reason(error))")
        }
    }

    /// Set and read on the connection's event loop only.
    final class Finished: @unchecked Sendable { var done = false }

    /// What went wrong, from PostgreSQL's own message when it sent one (postgres-nio's own
    /// description hides it); never a password (none is in any of these).
    static func reason(_ error: any Error) -> String {
        if let error = error as? DropCopyStoreError { return error.description }
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                return message + (info[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            if let underlying = error.underlying as? NIOSSLError {
                return "the TLS handshake with the server failed: \(underlying)"
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
