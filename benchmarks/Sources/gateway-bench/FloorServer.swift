import CEchoFloor
import CExchangeShim
import Glibc

/// The C io_uring floor server (Sources/CEchoFloor) on its own pinned thread.
final class FloorServer {
    let port: UInt16
    private var server: OpaquePointer?

    init(cpu: Int, fifoPriority: Int) throws {
        var error: Int32 = 0
        guard let started = rtes_echo_floor_start(0, Int32(cpu), Int32(fifoPriority), 1, &error) else {
            throw BenchFailure("the C floor server did not start: \(String(cString: strerror(-error)))")
        }
        server = started
        port = rtes_echo_floor_port(started)
    }

    /// Stops and joins the server thread; what it did.
    @discardableResult
    func stop() -> rtes_echo_floor_stats {
        var stats = rtes_echo_floor_stats()
        if let server { rtes_echo_floor_stop(server, &stats) }
        server = nil
        return stats
    }

    deinit { stop() }

    /// Names the IORING_SETUP_* flags a ring was created with.
    static func describe(setupFlags flags: UInt32) -> String {
        let names: [(UInt32, String)] = [
            (IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"), (IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"),
            (IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"), (IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"),
        ]
        return names.filter { flags & $0.0 != 0 }.map(\.1).joined(separator: " | ")
    }
}
